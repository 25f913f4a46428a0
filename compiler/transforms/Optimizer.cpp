// nn-expand-optimizer: a training signature (nn.loss + nn.optimizer) gets the
// gradients of its loss with respect to the trainable variables it reads and
// the SGD update of every one of them, with Keras' semantics:
//   lr_t = lr / (1 + decay * iterations)
//   v = momentum * v - lr_t * g;  w += v            (momentum)
//   w += momentum * v - lr_t * g                    (nesterov, after v)
//   w -= lr_t * g                                   (plain)
// The iteration counter and the momentum slots become resident variables.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_EXPANDOPTIMIZER
#include "compiler/transforms/Passes.h.inc"

namespace {

Value scalar(OpBuilder &b, Location l, Type elt, double v) {
  auto type = RankedTensorType::get({}, elt);
  Attribute a = isa<FloatType>(elt) ? Attribute(b.getFloatAttr(elt, v))
                                    : Attribute(b.getIntegerAttr(elt, (int64_t)v));
  return b.create<nn::ConstantOp>(l, type, DenseElementsAttr::get(type, a));
}

/// Declares a zero-initialized variable `name` (module level) and reads it.
Value slot(OpBuilder &b, ModuleOp module, Location l, StringRef name, Type type) {
  if (!module.lookupSymbol(name)) {
    OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
    OperationState state(l, nn::VariableOp::getOperationName());
    state.addAttribute("sym_name", b.getStringAttr(name));
    state.addAttribute("type", TypeAttr::get(type));
    state.addAttribute("initializer", b.getStringAttr("zeros"));
    state.addAttribute("frozen", b.getUnitAttr());
    mb.create(state);
  }
  return b.create<nn::ReadVariableOp>(l, type, name);
}

LogicalResult expand(func::FuncOp func, ModuleOp module) {
  auto opt = func->getAttrOfType<DictionaryAttr>("nn.optimizer");
  auto lossName = func->getAttrOfType<StringAttr>("nn.loss");
  auto fetches = func->getAttrOfType<ArrayAttr>("nn.fetches");
  if (!opt || !lossName || !fetches)
    return success();
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  Value loss;
  for (auto [i, f] : llvm::enumerate(fetches))
    if (cast<StringAttr>(f) == lossName)
      loss = ret.getOperand(i);
  if (!loss)
    return func.emitError("the loss '") << lossName.getValue() << "' is not fetched";

  // Trainable variables that the loss depends on, in reading order.
  llvm::DenseSet<Operation *> ancestors;
  SmallVector<Operation *> work = {loss.getDefiningOp()};
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!op || !ancestors.insert(op).second)
      continue;
    for (Value v : op->getOperands())
      work.push_back(v.getDefiningOp());
  }
  SmallVector<nn::ReadVariableOp> reads;
  func.walk([&](nn::ReadVariableOp read) {
    auto var = module.lookupSymbol<nn::VariableOp>(read.getVariableAttr());
    if (var && !var.getFrozen() && ancestors.contains(read) &&
        isa<FloatType>(cast<TensorType>(read.getType()).getElementType()))
      reads.push_back(read);
  });
  if (reads.empty())
    return func.emitError("signature '")
           << func.getSymName() << "' has no trainable variable that its loss '"
           << lossName.getValue() << "' depends on";

  Location loc = func.getLoc();
  OpBuilder b(ret);
  SmallVector<Value> xs;
  for (auto read : reads)
    xs.push_back(read.getResult());
  auto grads = b.create<nn::GradientsOp>(loc, ValueRange(xs).getTypes(), loss, xs);

  Type f32 = b.getF32Type(), i64 = b.getI64Type();
  auto it0 = RankedTensorType::get({}, i64);
  std::string prefix = func.getSymName().str() + "/";
  Value iterations = slot(b, module, loc, prefix + "iterations", it0);
  float lr = cast<FloatAttr>(opt.get("learning_rate")).getValueAsDouble();
  float momentum = cast<FloatAttr>(opt.get("momentum")).getValueAsDouble();
  float decay = cast<FloatAttr>(opt.get("decay")).getValueAsDouble();
  bool nesterov = cast<BoolAttr>(opt.get("nesterov")).getValue();

  Value rate = scalar(b, loc, f32, lr);
  if (decay > 0) {
    Value its =
        b.create<nn::CastOp>(loc, ValueRange{iterations},
                             ArrayRef<NamedAttribute>{b.getNamedAttr("dtype", TypeAttr::get(f32))})
            .getResult();
    Value denom =
        b.create<nn::AddOp>(loc, scalar(b, loc, f32, 1.0),
                            b.create<nn::MulOp>(loc, scalar(b, loc, f32, decay), its).getResult());
    rate = b.create<nn::DivOp>(loc, rate, denom);
  }
  for (auto [read, g] : llvm::zip(reads, grads.getGrads())) {
    Location l =
        FusedLoc::get(b.getContext(), {read.getLoc()},
                      b.getStringAttr("the SGD update of variable '" + read.getVariable() + "'"));
    Value w = read.getResult();
    Type elt = cast<TensorType>(w.getType()).getElementType();
    Value r = elt == f32 ? rate
                         : b.create<nn::CastOp>(l, ValueRange{rate},
                                                ArrayRef<NamedAttribute>{
                                                    b.getNamedAttr("dtype", TypeAttr::get(elt))})
                               .getResult();
    Value step = b.create<nn::MulOp>(l, r, g);
    Value updated;
    if (momentum > 0) {
      std::string slotName = (prefix + read.getVariable() + "/momentum").str();
      Value v = slot(b, module, l, slotName, w.getType());
      Value m = scalar(b, l, elt, momentum);
      Value v2 = b.create<nn::SubOp>(l, b.create<nn::MulOp>(l, m, v).getResult(), step);
      b.create<nn::AssignVariableOp>(l, slotName, v2);
      Value delta =
          nesterov
              ? b.create<nn::SubOp>(l, b.create<nn::MulOp>(l, m, v2).getResult(), step).getResult()
              : v2;
      updated = b.create<nn::AddOp>(l, w, delta);
    } else {
      updated = b.create<nn::SubOp>(l, w, step);
    }
    b.create<nn::AssignVariableOp>(l, read.getVariable(), updated);
  }
  Value next = b.create<nn::AddOp>(loc, iterations, scalar(b, loc, i64, 1));
  b.create<nn::AssignVariableOp>(loc, prefix + "iterations", next);
  return success();
}

struct ExpandOptimizerPass : impl::ExpandOptimizerBase<ExpandOptimizerPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (func::FuncOp func : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (failed(expand(func, module)))
        return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createExpandOptimizerPass() {
  return std::make_unique<ExpandOptimizerPass>();
}

} // namespace nncc
