// nn-expand-modes: the ops that train differently, so that one model serves
// training and inference. In a training signature (one with nn.loss):
// nn.dropout(x) is x * nn.dropout_mask(x, step), its step the optimizer's
// iteration counter read before this step's update; nn.batch_norm
// normalizes with the batch's mean and biased variance over all but the
// channel dimension and updates the moving statistics (Keras':
// moving = momentum * moving + (1 - momentum) * batch). In any other
// signature dropout is x and batch_norm uses the moving statistics.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_EXPANDMODES
#include "compiler/transforms/Passes.h.inc"

namespace {

/// batch_norm as `training` says; fails (reported) where a moving statistic
/// is not a variable.
LogicalResult expandBatchNorm(nn::BatchNormOp op, bool training) {
  OpBuilder b(op);
  Location l = op.getLoc();
  auto type = cast<RankedTensorType>(op.getX().getType());
  Type elt = type.getElementType();
  Value x = op.getX();
  auto add = [&](Value p, Value q) -> Value { return b.create<nn::AddOp>(l, p, q); };
  auto sub = [&](Value p, Value q) -> Value { return b.create<nn::SubOp>(l, p, q); };
  auto mul = [&](Value p, Value q) -> Value { return b.create<nn::MulOp>(l, p, q); };
  auto div = [&](Value p, Value q) -> Value { return b.create<nn::DivOp>(l, p, q); };
  auto meanOver = [&](Value v) -> Value {
    SmallVector<int64_t> axes;
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      axes.push_back(i);
    return b.create<nn::ReduceMeanOp>(
        l, ValueRange{v},
        ArrayRef<NamedAttribute>{b.getNamedAttr("axes", b.getDenseI64ArrayAttr(axes)),
                                 b.getNamedAttr("keep_dims", b.getBoolAttr(false))});
  };
  Value eps = nn::scalarConstant(b, l, elt, op.getEpsilon().convertToFloat());
  Value mean = op.getMovingMean(), variance = op.getMovingVariance();
  if (training) {
    mean = meanOver(x);
    Value centered = sub(x, mean);
    variance = meanOver(b.create<nn::SquareOp>(l, centered));
    double momentum = op.getMomentum().convertToFloat();
    for (auto [moving, batch] :
         {std::pair<Value, Value>{op.getMovingMean(), mean}, {op.getMovingVariance(), variance}}) {
      auto read = moving.getDefiningOp<nn::ReadVariableOp>();
      if (!read)
        return op.emitOpError("updates its moving statistics in a training signature, so they "
                              "must be variables");
      Value kept = mul(nn::scalarConstant(b, l, elt, momentum), moving);
      Value added = mul(nn::scalarConstant(b, l, elt, 1 - momentum), batch);
      b.create<nn::AssignVariableOp>(l, read.getVariable(), add(kept, added));
    }
  }
  Value root = b.create<nn::SqrtOp>(l, add(variance, eps));
  Value normalized = div(sub(x, mean), root);
  Value y = add(mul(normalized, op.getGamma()), op.getBeta());
  op.replaceAllUsesWith(y);
  op.erase();
  return success();
}

struct ExpandModesPass : impl::ExpandModesBase<ExpandModesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      bool training = func->hasAttr("nn.loss");
      std::string counter = func.getSymName().str() + "/iterations";
      auto steps = module.lookupSymbol<nn::VariableOp>(counter);
      WalkResult walked = func.walk([&](nn::DropoutOp op) {
        if (!training) {
          op.replaceAllUsesWith(op.getX());
          op.erase();
          return WalkResult::advance();
        }
        if (!steps) {
          op.emitOpError("in training signature '")
              << func.getSymName() << "' needs its iteration counter '" << counter
              << "' (nn-expand-optimizer makes it)";
          return WalkResult::interrupt();
        }
        OpBuilder b(op);
        Location l = op.getLoc();
        Value step = b.create<nn::ReadVariableOp>(l, steps.getType(), counter);
        Value mask = b.create<nn::DropoutMaskOp>(l, op.getType(), op.getX(), step, op.getRateAttr(),
                                                 op.getSeedAttr());
        Value y = b.create<nn::MulOp>(l, op.getType(), op.getX(), mask);
        op.replaceAllUsesWith(y);
        op.erase();
        return WalkResult::advance();
      });
      if (walked.wasInterrupted())
        return signalPassFailure();
      for (auto op : llvm::to_vector(func.getOps<nn::BatchNormOp>()))
        if (failed(expandBatchNorm(op, training)))
          return signalPassFailure();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createExpandModesPass() { return std::make_unique<ExpandModesPass>(); }

} // namespace nncc
