// nn-expand-optimizer: a training signature (nn.loss + nn.optimizer) gets the
// gradients of its loss with respect to the trainable variables it reads and
// the update of every one of them, with Keras' semantics (TF1's are the
// same); every optimizer decays its rate as Keras' legacy `decay`:
//   lr_t = lr / (1 + decay * iterations)
// sgd:
//   v = momentum * v - lr_t * g;  w += v            (momentum)
//   w += momentum * v - lr_t * g                    (nesterov, after v)
//   w -= lr_t * g                                   (plain)
// adam (t = iterations + 1; beta^t as exp(t log beta), in f64):
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
//   w -= lr_t * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon)
// rmsprop:
//   a = rho * a + (1 - rho) * g^2
//   w -= lr_t * g / (sqrt(a) + epsilon)                       (plain)
//   mom = momentum * mom + lr_t * g / sqrt(a + epsilon); w -= mom  (momentum)
// The iteration counter and the slots (momentum; m, v; rms, mom) become
// resident variables, saved in checkpoints with the weights.
#include "compiler/transforms/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <cmath>

using namespace mlir;

namespace nncc {

#define GEN_PASS_DEF_EXPANDOPTIMIZER
#include "compiler/transforms/Passes.h.inc"

namespace {

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
  // A setting left out takes Keras' default; the kind and the rate are
  // needed.
  auto number = [&](StringRef name, float fallback) {
    auto attr = opt.getAs<FloatAttr>(name);
    return attr ? static_cast<float>(attr.getValueAsDouble()) : fallback;
  };
  auto kindAttr = opt.getAs<StringAttr>("kind");
  if (!kindAttr || !opt.getAs<FloatAttr>("learning_rate"))
    return func.emitError("nn.optimizer needs a kind and a learning_rate, got ") << opt;
  StringRef kind = kindAttr.getValue();
  if (kind != "sgd" && kind != "adam" && kind != "rmsprop")
    return func.emitError("unknown optimizer '") << kind << "' (expected sgd, adam or rmsprop)";
  float lr = number("learning_rate", 0), momentum = number("momentum", 0),
        decay = number("decay", 0);
  auto nesterovAttr = opt.getAs<BoolAttr>("nesterov");
  bool nesterov = nesterovAttr && nesterovAttr.getValue();
  float beta1 = number("beta1", 0.9f), beta2 = number("beta2", 0.999f),
        epsilon = number("epsilon", 1e-7f), rho = number("rho", 0.9f);
  auto castTo = [&](Location l, Value x, Type elt) -> Value {
    if (cast<TensorType>(x.getType()).getElementType() == elt)
      return x;
    return b
        .create<nn::CastOp>(l, ValueRange{x},
                            ArrayRef<NamedAttribute>{b.getNamedAttr("dtype", TypeAttr::get(elt))})
        .getResult();
  };

  Value rate = nn::scalarConstant(b, loc, f32, lr);
  if (decay > 0) {
    Value its =
        b.create<nn::CastOp>(loc, ValueRange{iterations},
                             ArrayRef<NamedAttribute>{b.getNamedAttr("dtype", TypeAttr::get(f32))})
            .getResult();
    Value denom = b.create<nn::AddOp>(
        loc, nn::scalarConstant(b, loc, f32, 1.0),
        b.create<nn::MulOp>(loc, nn::scalarConstant(b, loc, f32, decay), its).getResult());
    rate = b.create<nn::DivOp>(loc, rate, denom);
  }
  if (kind == "adam") {
    // The bias correction, in f64: lr_t * sqrt(1 - beta2^t) / (1 - beta1^t).
    Type f64 = b.getF64Type();
    Value t = b.create<nn::AddOp>(loc, castTo(loc, iterations, f64),
                                  nn::scalarConstant(b, loc, f64, 1.0));
    auto power = [&](double beta) -> Value { // beta^t = exp(t * log(beta))
      return b.create<nn::ExpOp>(
          loc,
          b.create<nn::MulOp>(loc, t, nn::scalarConstant(b, loc, f64, std::log(beta))).getResult());
    };
    // One op after another (C++ leaves the order of arguments open).
    Value one = nn::scalarConstant(b, loc, f64, 1.0);
    Value p1 = power(beta1);
    Value denominator = b.create<nn::SubOp>(loc, one, p1);
    Value p2 = power(beta2);
    Value root = b.create<nn::SqrtOp>(loc, b.create<nn::SubOp>(loc, one, p2).getResult());
    Value correction = b.create<nn::DivOp>(loc, root, denominator);
    Value rate64 = castTo(loc, rate, f64);
    rate = b.create<nn::MulOp>(loc, rate64, correction);
  }
  for (auto [read, g] : llvm::zip(reads, grads.getGrads())) {
    std::string what = kind == "sgd" ? "SGD" : kind == "adam" ? "Adam" : "RMSProp";
    Location l = FusedLoc::get(
        b.getContext(), {read.getLoc()},
        b.getStringAttr("the " + what + " update of variable '" + read.getVariable() + "'"));
    Value w = read.getResult();
    Type elt = cast<TensorType>(w.getType()).getElementType();
    Value r = castTo(l, rate, elt);
    auto k = [&](double v) { return nn::scalarConstant(b, l, elt, v); };
    auto mul = [&](Value x, Value y) -> Value { return b.create<nn::MulOp>(l, x, y); };
    auto add = [&](Value x, Value y) -> Value { return b.create<nn::AddOp>(l, x, y); };
    auto sub = [&](Value x, Value y) -> Value { return b.create<nn::SubOp>(l, x, y); };
    auto div = [&](Value x, Value y) -> Value { return b.create<nn::DivOp>(l, x, y); };
    auto sqrt = [&](Value x) -> Value { return b.create<nn::SqrtOp>(l, x); };
    /// slot = beta * slot + (1 - beta) * x, stored; the new value.
    auto average = [&](StringRef name, double beta, Value x) {
      std::string slotName = (prefix + read.getVariable() + "/" + name).str();
      Value s = slot(b, module, l, slotName, w.getType());
      Value decayed = mul(k(beta), s);
      Value added = mul(k(1 - beta), x);
      Value next = add(decayed, added);
      b.create<nn::AssignVariableOp>(l, slotName, next);
      return next;
    };
    Value updated;
    if (kind == "adam") {
      Value m = average("m", beta1, g);
      Value v = average("v", beta2, mul(g, g));
      Value root = sqrt(v);
      Value denominator = add(root, k(epsilon));
      updated = sub(w, mul(r, div(m, denominator)));
      b.create<nn::AssignVariableOp>(l, read.getVariable(), updated);
      continue;
    }
    if (kind == "rmsprop") {
      Value a = average("rms", rho, mul(g, g));
      if (momentum > 0) {
        std::string slotName = (prefix + read.getVariable() + "/momentum").str();
        Value mom = slot(b, module, l, slotName, w.getType());
        Value kept = mul(k(momentum), mom);
        Value step = mul(r, g);
        Value root = sqrt(add(a, k(epsilon)));
        Value next = add(kept, div(step, root));
        b.create<nn::AssignVariableOp>(l, slotName, next);
        updated = sub(w, next);
      } else {
        Value step = mul(r, g);
        Value root = sqrt(a);
        updated = sub(w, div(step, add(root, k(epsilon))));
      }
      b.create<nn::AssignVariableOp>(l, read.getVariable(), updated);
      continue;
    }
    Value step = b.create<nn::MulOp>(l, r, g);
    if (momentum > 0) {
      std::string slotName = (prefix + read.getVariable() + "/momentum").str();
      Value v = slot(b, module, l, slotName, w.getType());
      Value m = nn::scalarConstant(b, l, elt, momentum);
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
  Value next = b.create<nn::AddOp>(loc, iterations, nn::scalarConstant(b, loc, i64, 1));
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
