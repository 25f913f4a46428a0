// nn-cpu-outline-ops: the linalg ops left in a signature's function (those
// too small for a row kernel: a layer's bias gradient, its optimizer
// updates, the fills of its accumulators) become calls of small functions
// `kOpKernelPrefix`N, one per op, which nn-cpu-share-kernels then makes one
// per distinct op.
//
// A deep network's step would otherwise keep thousands of small loop nests
// in one function: LLVM's loop and constraint passes and its code generator
// take time that grows faster than the function (a 200-layer MLP's step:
// 42 s of its 52 in LoopUnroll, ConstraintElimination, LoopRotate and the
// post-RA scheduler on the signature function). Outlined, the signature is
// a straight line of allocations and calls, and the repeated layers' loops
// are compiled once. The functions are `noinline`: LLVM's inliner would
// otherwise put the small ones back.
//
// What an op uses from outside (its buffers, scalars, values its body
// captures) becomes the function's arguments, except constants, which are
// cloned into it (so that ops differing only in a constant stay distinct
// and fully specialized).
#include "compiler/cpu/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DEF_OUTLINEOPS
#include "compiler/cpu/Passes.h.inc"

namespace {

/// Replaces `op` by a call of a new function in `symbols`' module.
void outline(linalg::LinalgOp op, SymbolTable &symbols, int64_t number) {
  llvm::SetVector<Value> arguments;
  llvm::SetVector<Operation *> constants;
  auto use = [&](Value v) {
    Operation *def = v.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>() && def->getNumOperands() == 0)
      constants.insert(def);
    else
      arguments.insert(v);
  };
  for (Value v : op->getOperands())
    use(v);
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  for (Value v : captured)
    use(v);

  Location loc = op.getLoc();
  auto module = cast<ModuleOp>(symbols.getOp());
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  SmallVector<Type> types;
  for (Value v : arguments)
    types.push_back(v.getType());
  auto func = b.create<func::FuncOp>(loc, (kOpKernelPrefix + std::to_string(number)).str(),
                                     b.getFunctionType(types, {}));
  func.setPrivate();
  setNoInline(func);
  symbols.insert(func); // renamed if the name is taken
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  IRMapping map;
  for (auto [value, arg] : llvm::zip(arguments, body->getArguments()))
    map.map(value, arg);
  for (Operation *constant : constants)
    b.clone(*constant, map);
  b.clone(*op, map);
  b.create<func::ReturnOp>(loc);

  OpBuilder at(op);
  at.create<func::CallOp>(loc, func, arguments.getArrayRef());
  op->erase();
}

struct OutlineOpsPass : impl::OutlineOpsBase<OutlineOpsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> ops;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || func.getSymName().starts_with(kKernelPrefix))
        continue; // kernels already
      func.walk([&](linalg::LinalgOp op) {
        if (op.hasPureBufferSemantics() && op->getNumResults() == 0)
          ops.push_back(op);
      });
    }
    if (ops.empty())
      return;
    SymbolTable symbols(module);
    int64_t number = 0;
    for (linalg::LinalgOp op : ops)
      outline(op, symbols, number++);
  }
};

} // namespace

std::unique_ptr<Pass> createOutlineOpsPass() { return std::make_unique<OutlineOpsPass>(); }

} // namespace nncc::cpu
