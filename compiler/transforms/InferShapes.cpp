// Shape refinement: re-run every nn op's type inference after argument types
// changed (a fed shape became known, a rank was specialized), and refine an
// unknown dimension that an op fixes back to where it comes from: both
// backends index an elementwise operand's unknown dimension as the result's,
// so `reshape(r, [-1, 3]) * c` with c of shape [4, 3] needs r to have 2 rows,
// and the feed says so (a feed of 5 rows is then an error naming the feed,
// not a read past its buffer).
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Interfaces/InferTypeOpInterface.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_INFERSHAPES
#include "compiler/transforms/Passes.h.inc"

namespace {

/// `v` with the dimensions of `shape` that it leaves unknown; whether any
/// was. Only the function's arguments and op results are refined (a
/// region's arguments follow their op's operands).
bool refine(Value v, ArrayRef<int64_t> shape) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || type.getRank() != static_cast<int64_t>(shape.size()))
    return false;
  if (auto arg = dyn_cast<BlockArgument>(v))
    if (!isa<func::FuncOp>(arg.getOwner()->getParentOp()))
      return false;
  SmallVector<int64_t> dims(type.getShape());
  bool changed = false;
  for (auto [d, known] : llvm::zip(dims, shape))
    if (ShapedType::isDynamic(d) && !ShapedType::isDynamic(known)) {
      d = known;
      changed = true;
    }
  if (changed)
    v.setType(type.clone(dims));
  return changed;
}

/// One sweep from the results back to the arguments; whether a type changed.
bool refineBackward(func::FuncOp func) {
  bool changed = false;
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) { ops.push_back(op); });
  for (Operation *op : llvm::reverse(ops)) { // users before their operands
    if (op->getNumResults() != 1)
      continue;
    auto result = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!result)
      continue;
    if (op->hasTrait<nn::Elementwise>()) {
      // Aligned from the right; an operand's dimension is 1 (stretched) or
      // the result's, and an unknown one is indexed as the result's.
      for (Value operand : op->getOperands()) {
        auto type = dyn_cast<RankedTensorType>(operand.getType());
        if (!type || type.getRank() > result.getRank())
          continue;
        ArrayRef<int64_t> tail = result.getShape().take_back(type.getRank());
        changed |= refine(operand, tail);
      }
    } else if (auto reshape = dyn_cast<nn::ReshapeOp>(op); reshape && result.hasStaticShape()) {
      // The elements stay: one unknown input dimension is what remains.
      auto in = dyn_cast<RankedTensorType>(reshape.getX().getType());
      if (!in || in.getNumDynamicDims() != 1)
        continue;
      int64_t known = 1;
      for (int64_t d : in.getShape())
        known *= ShapedType::isDynamic(d) ? 1 : d;
      if (known == 0 || result.getNumElements() % known != 0)
        continue;
      SmallVector<int64_t> dims(in.getShape());
      for (int64_t &d : dims)
        if (ShapedType::isDynamic(d))
          d = result.getNumElements() / known;
      changed |= refine(reshape.getX(), dims);
    }
  }
  return changed;
}

LogicalResult refineForward(func::FuncOp func) {
  WalkResult walk = func.walk([&](Operation *op) {
    auto infer = dyn_cast<InferTypeOpInterface>(op);
    if (!infer)
      return WalkResult::advance();
    SmallVector<Type> types;
    if (failed(infer.inferReturnTypes(op->getContext(), op->getLoc(), op->getOperands(),
                                      op->getAttrDictionary(), op->getPropertiesStorage(),
                                      op->getRegions(), types)))
      return WalkResult::interrupt();
    for (auto [result, type] : llvm::zip(op->getResults(), types)) {
      // A dimension made known from its uses stays known.
      auto now = dyn_cast<RankedTensorType>(result.getType());
      auto inferred = dyn_cast<RankedTensorType>(type);
      if (now && inferred && now.getRank() == inferred.getRank() &&
          now.getElementType() == inferred.getElementType()) {
        SmallVector<int64_t> dims(inferred.getShape());
        for (auto [d, known] : llvm::zip(dims, now.getShape()))
          if (ShapedType::isDynamic(d))
            d = known;
        type = inferred.clone(dims);
      }
      result.setType(type);
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  func.setType(FunctionType::get(func.getContext(), func.getBody().getArgumentTypes(),
                                 ret.getOperandTypes()));
  return success();
}

} // namespace

LogicalResult refineShapes(func::FuncOp func) {
  if (failed(refineForward(func)))
    return failure();
  // Each sweep only makes dimensions known: a few reach a fixed point.
  for (int sweep = 0; sweep < 8 && refineBackward(func); ++sweep)
    if (failed(refineForward(func)))
      return failure();
  return success();
}

namespace {
struct InferShapesPass : impl::InferShapesBase<InferShapesPass> {
  void runOnOperation() override {
    if (failed(refineShapes(getOperation())))
      signalPassFailure();
  }
};
} // namespace

std::unique_ptr<Pass> createInferShapesPass() { return std::make_unique<InferShapesPass>(); }

} // namespace nncc
