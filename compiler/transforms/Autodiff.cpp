// nn-autodiff: reverse-mode differentiation. Every nn.gradients op is
// replaced by the gradient computation, built backwards from the scalar `y`
// with each op's vector-Jacobian product (GradientOpInterface). Fan-out
// accumulates, only ops between the inputs and `y` are visited, and a
// gradient that could only flow through non-differentiable ops is an error
// naming the op.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_AUTODIFF
#include "compiler/transforms/Passes.h.inc"

namespace {

Value scalarOne(OpBuilder &b, Location loc, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return b.create<nn::ConstantOp>(
      loc, tensor, DenseElementsAttr::get(tensor, b.getFloatAttr(tensor.getElementType(), 1.0)));
}

LogicalResult differentiate(nn::GradientsOp grads) {
  Block *block = grads->getBlock();
  Value y = grads.getY();
  // Values that depend on an input (forward), ops that y depends on (backward).
  llvm::DenseSet<Value> fromX(grads.getXs().begin(), grads.getXs().end());
  for (Operation &op : *block) {
    if (&op == grads.getOperation())
      break;
    if (llvm::any_of(op.getOperands(), [&](Value v) { return fromX.contains(v); }))
      fromX.insert(op.getResults().begin(), op.getResults().end());
  }
  llvm::DenseSet<Operation *> toY;
  SmallVector<Operation *> work;
  if (Operation *def = y.getDefiningOp())
    work.push_back(def);
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (op->getBlock() != block || !toY.insert(op).second)
      continue;
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp())
        work.push_back(def);
  }

  OpBuilder b(grads);
  llvm::DenseMap<Value, Value> gradOf;
  gradOf[y] = scalarOne(b, grads.getLoc(), y.getType());
  Operation *blocked = nullptr; // a non-differentiable op on a path
  for (Operation &op : llvm::reverse(*block)) {
    if (!toY.contains(&op) || op.getNumResults() != 1 || !fromX.contains(op.getResult(0)))
      continue;
    Value g = gradOf.lookup(op.getResult(0));
    if (!g)
      continue;
    auto iface = dyn_cast<nn::GradientOpInterface>(&op);
    if (!iface) {
      blocked = blocked ? blocked : &op;
      continue;
    }
    SmallVector<Value> operandGrads;
    b.setInsertionPoint(grads);
    Operation *before = grads->getPrevNode();
    if (failed(iface.vjp(b, g, operandGrads)))
      return failure();
    for (auto [operand, og] : llvm::zip(op.getOperands(), operandGrads)) {
      if (!fromX.contains(operand))
        continue;
      if (!og) {
        blocked = blocked ? blocked : &op;
        continue;
      }
      Value &acc = gradOf[operand];
      acc = acc ? b.create<nn::AddOp>(op.getLoc(), acc, og).getResult() : og;
    }
    // The op's gradient computation keeps the op's location, marked as
    // its gradient (nn-check-numerics names it so).
    for (Operation *made = before ? before->getNextNode() : &block->front(); made && made != grads;
         made = made->getNextNode())
      made->setLoc(FusedLoc::get(b.getContext(), {made->getLoc()}, b.getStringAttr(kGradientRole)));
  }

  b.setInsertionPoint(grads);
  SmallVector<Value> results;
  for (auto [i, x] : llvm::enumerate(grads.getXs())) {
    Value g = gradOf.lookup(x);
    bool reachesY =
        x == y || llvm::any_of(x.getUsers(), [&](Operation *user) { return toY.contains(user); });
    if (!g && reachesY && blocked)
      return blocked->emitOpError("has no gradient, and the gradient of input ")
             << i << " of nn.gradients can only flow through it";
    if (!g) {
      // No path from x to y: the gradient is zero.
      auto elt = cast<TensorType>(x.getType()).getElementType();
      auto zeroType = RankedTensorType::get({}, elt);
      Value zero = b.create<nn::ConstantOp>(
          grads.getLoc(), zeroType, DenseElementsAttr::get(zeroType, b.getFloatAttr(elt, 0)));
      g = b.create<nn::BroadcastLikeOp>(grads.getLoc(), ValueRange{zero, x}).getResult();
    }
    if (g.getType() != x.getType())
      g = b.create<tensor::CastOp>(grads.getLoc(), x.getType(), g);
    results.push_back(g);
  }
  grads->replaceAllUsesWith(results);
  grads.erase();
  return success();
}

struct AutodiffPass : impl::AutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    SmallVector<nn::GradientsOp> all;
    getOperation().walk([&](nn::GradientsOp op) { all.push_back(op); });
    for (nn::GradientsOp op : all)
      if (failed(differentiate(op)))
        return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createAutodiffPass() { return std::make_unique<AutodiffPass>(); }

} // namespace nncc
