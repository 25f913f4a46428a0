// nn-fuse: groups producer/consumer chains of nn ops into nn.fusion kernels;
// nn-inline-fusions dissolves them again (for a backend that fuses loops
// itself, like the CPU's linalg fusion).
//
// Ops are visited in order. Matmuls start groups; an elementwise op (or
// broadcast, or shape op) joins the groups of its operands' producers,
// merging them, and a reduction those and its siblings' (readers of the
// same input), when the union stays a legal kernel: at most one matmul,
// whose operands come from outside (no prologue) and which is not mixed with
// reductions, every input produced before the group's first op (so no cycle
// can form through an op outside it), and every outside user after its last
// op (where the kernel is placed). Otherwise the op is a kernel of its own.
// Constants are cloned into the kernels that use them.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_INLINEFUSIONS
#define GEN_PASS_DEF_FUSE
#include "compiler/transforms/Passes.h.inc"

namespace {

enum class Role { None, Elementwise, Reduction, Matmul };

/// The op's role, as it declares it (NNTraits.h).
Role roleOf(Operation *op) {
  if (op->hasTrait<nn::Contraction>())
    return Role::Matmul;
  if (op->hasTrait<nn::Reduction>())
    return Role::Reduction;
  if (op->hasTrait<nn::Elementwise>() || op->hasTrait<nn::IndexMap>())
    return Role::Elementwise;
  return Role::None;
}

struct Group {
  SmallVector<Operation *> ops; // in program order
  unsigned first = 0, last = 0; // positions of the first and last op
  int matmuls = 0, reductions = 0;
};

class FusionBuilder {
public:
  explicit FusionBuilder(Block &block) : block(block) {
    unsigned i = 0;
    for (Operation &op : block)
      position[&op] = i++;
  }

  void run() {
    for (Operation &op : llvm::make_early_inc_range(block)) {
      Role role = roleOf(&op);
      if (role == Role::None)
        continue;
      auto group = std::make_unique<Group>();
      group->ops.push_back(&op);
      group->first = group->last = position[&op];
      group->matmuls = role == Role::Matmul;
      group->reductions = role == Role::Reduction;
      Group *mine = group.get();
      groups.push_back(std::move(group));
      groupOf[&op] = mine;
      if (role == Role::Matmul)
        continue; // a product starts its kernel: no prologue
      // Producer groups this op could join, nearest first; a reduction
      // also joins its siblings (other readers of the same input, as
      // softmax and cross-entropy read the logits).
      llvm::SetVector<Group *> producers;
      auto consider = [&](Operation *other) {
        if (auto it = groupOf.find(other); it != groupOf.end() && it->second != mine)
          producers.insert(it->second);
      };
      for (Value v : op.getOperands()) {
        if (Operation *def = v.getDefiningOp())
          consider(def);
        if (role == Role::Reduction)
          for (Operation *user : v.getUsers())
            if (user->getBlock() == &block && position[user] < position[&op] &&
                roleOf(user) == Role::Reduction)
              consider(user);
      }
      SmallVector<Group *> sorted(producers.begin(), producers.end());
      llvm::sort(sorted, [](Group *a, Group *b) { return a->last > b->last; });
      // Join all of them if legal, else the nearest one that is.
      if (sorted.size() > 1 && tryMerge(mine, sorted))
        continue;
      for (Group *g : sorted)
        if (tryMerge(mine, {g}))
          break;
    }
  }

  /// Replaces every group by an nn.fusion.
  void materialize() {
    for (auto &group : groups)
      if (!group->ops.empty())
        outline(*group);
  }

private:
  /// Merges `others` into `mine` (whose op comes last) when the union is a
  /// legal kernel.
  bool tryMerge(Group *mine, ArrayRef<Group *> others) {
    SmallVector<Operation *> ops(mine->ops);
    int matmuls = mine->matmuls, reductions = mine->reductions;
    unsigned first = mine->first;
    for (Group *g : others) {
      ops.append(g->ops);
      matmuls += g->matmuls;
      reductions += g->reductions;
      first = std::min(first, g->first);
    }
    if (matmuls > 1 || (matmuls && reductions))
      return false;
    llvm::sort(ops, [&](Operation *a, Operation *b) { return position[a] < position[b]; });
    llvm::SmallPtrSet<Operation *, 16> inside(ops.begin(), ops.end());
    // No prologue: the product's operands come from outside the kernel (ops
    // independent of it, like an activation's derivative, may join).
    for (Operation *op : ops)
      if (roleOf(op) == Role::Matmul)
        for (Value v : op->getOperands())
          if (Operation *def = v.getDefiningOp(); def && inside.contains(def))
            return false;
    unsigned last = mine->last;
    for (Operation *op : ops) {
      for (Value v : op->getOperands()) {
        Operation *def = v.getDefiningOp();
        if (!def || inside.contains(def) || isa<nn::ConstantOp>(def))
          continue;
        if (position[def] >= first)
          return false; // could depend on the group: no cycles
      }
      for (Operation *user : op->getUsers())
        if (!inside.contains(user) && position[user] < last)
          return false; // would be used before the kernel runs
    }
    for (Group *g : others) {
      for (Operation *op : g->ops)
        groupOf[op] = mine;
      g->ops.clear();
    }
    mine->ops = std::move(ops);
    mine->first = first;
    mine->matmuls = matmuls;
    mine->reductions = reductions;
    return true;
  }

  void outline(Group &group) {
    llvm::SmallPtrSet<Operation *, 16> inside(group.ops.begin(), group.ops.end());
    llvm::SetVector<Value> inputs, outputs;
    SmallVector<Operation *> constants;
    for (Operation *op : group.ops) {
      for (Value v : op->getOperands()) {
        Operation *def = v.getDefiningOp();
        if (def && inside.contains(def))
          continue;
        if (def && isa<nn::ConstantOp>(def)) {
          if (!llvm::is_contained(constants, def))
            constants.push_back(def);
          continue;
        }
        inputs.insert(v);
      }
      for (Value r : op->getResults())
        if (llvm::any_of(r.getUsers(), [&](Operation *u) { return !inside.contains(u); }))
          outputs.insert(r);
    }
    StringRef kind = group.matmuls ? "matmul" : group.reductions ? "reduction" : "elementwise";
    Operation *last = group.ops.back();
    OpBuilder b(last->getContext());
    b.setInsertionPointAfter(last);
    SmallVector<Type> types;
    for (Value v : outputs)
      types.push_back(v.getType());
    auto fusion = b.create<nn::FusionOp>(last->getLoc(), types, inputs.getArrayRef(), kind);
    Block &body = fusion.getBody().front();
    IRMapping map;
    for (auto [v, arg] : llvm::zip(inputs, body.getArguments()))
      map.map(v, arg);
    OpBuilder inner = OpBuilder::atBlockBegin(&body);
    for (Operation *c : constants)
      map.map(c->getResult(0), inner.clone(*c)->getResult(0));
    for (Operation *op : group.ops)
      inner.clone(*op, map);
    SmallVector<Value> yielded;
    for (Value v : outputs)
      yielded.push_back(map.lookup(v));
    inner.create<nn::YieldOp>(last->getLoc(), yielded);
    for (auto [out, r] : llvm::zip(outputs, fusion.getResults())) {
      Value v = out;
      v.replaceUsesWithIf(r, [&](OpOperand &use) {
        return !inside.contains(use.getOwner()) && use.getOwner() != fusion;
      });
    }
    for (Operation *op : llvm::reverse(group.ops))
      op->erase();
  }

  Block &block;
  DenseMap<Operation *, unsigned> position;
  DenseMap<Operation *, Group *> groupOf;
  std::vector<std::unique_ptr<Group>> groups;
};

struct FusePass : impl::FuseBase<FusePass> {
  void runOnOperation() override {
    for (Block &block : getOperation().getBody()) {
      FusionBuilder builder(block);
      builder.run();
      builder.materialize();
    }
    // Constants only the kernels used are dead now.
    getOperation().walk([](nn::ConstantOp c) {
      if (c->use_empty() && !isa<nn::FusionOp>(c->getParentOp()))
        c->erase();
    });
  }
};

struct InlineFusionsPass : impl::InlineFusionsBase<InlineFusionsPass> {
  void runOnOperation() override {
    SmallVector<nn::FusionOp> fusions;
    getOperation().walk([&](nn::FusionOp f) { fusions.push_back(f); });
    for (nn::FusionOp fusion : fusions) {
      Block &body = fusion.getBody().front();
      auto yield = cast<nn::YieldOp>(body.getTerminator());
      for (auto [arg, input] : llvm::zip(body.getArguments(), fusion.getInputs()))
        arg.replaceAllUsesWith(input);
      fusion.replaceAllUsesWith(yield.getValues());
      yield.erase();
      fusion->getBlock()->getOperations().splice(fusion->getIterator(), body.getOperations());
      fusion.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFusePass() { return std::make_unique<FusePass>(); }
std::unique_ptr<Pass> createInlineFusionsPass() { return std::make_unique<InlineFusionsPass>(); }

} // namespace nncc
