#include "compiler/cuda/KernelWriter.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstdio>
#include <functional>
#include <optional>

using namespace mlir;

namespace nncc::cuda {
namespace {

RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }
Type eltOf(Value v) { return tensorOf(v).getElementType(); }


bool isFloat(Type elt) { return isa<FloatType>(elt); }

std::string floatLiteral(double v, Type elt) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  std::string s = buffer;
  if (s == "inf")
    return elt.isF32() ? "__int_as_float(0x7f800000)" : "__longlong_as_double(0x7ff0000000000000LL)";
  if (s == "-inf")
    return elt.isF32() ? "__int_as_float(0xff800000)" : "__longlong_as_double(0xfff0000000000000LL)";
  if (s == "nan" || s == "-nan")
    return elt.isF32() ? "__int_as_float(0x7fc00000)" : "__longlong_as_double(0x7ff8000000000000LL)";
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return elt.isF32() ? s + "f" : s;
}

/// A math function of the element type: expf / exp, ...
std::string fn(const char *name, Type elt) {
  return elt.isF32() ? std::string(name) + "f" : std::string(name);
}

/// The smallest value of an integer type, as a C expression.
std::string lowest(Type elt) {
  return elt.isInteger(32) ? "(-2147483647 - 1)" : "(-9223372036854775807LL - 1)";
}

/// The axes a reduce_sum, reduce_mean or reduce_max reduces, as the op
/// states them.
SmallVector<int64_t> reducedAxes(Operation *op) {
  return llvm::TypeSwitch<Operation *, SmallVector<int64_t>>(op)
      .Case<nn::ReduceSumOp, nn::ReduceMeanOp, nn::ReduceMaxOp>(
          [](auto r) { return r.getNormalizedAxes(); });
}

/// The axis a softmax or log_softmax normalizes along.
int64_t softmaxAxis(Operation *op) {
  return llvm::TypeSwitch<Operation *, int64_t>(op).Case<nn::SoftmaxOp, nn::LogSoftmaxOp>(
      [](auto s) { return s.getNormalizedAxis(); });
}

} // namespace

std::string cType(Type elt) {
  if (elt.isF32())
    return "float";
  if (elt.isF64())
    return "double";
  if (elt.isInteger(1))
    return "bool";
  if (elt.isInteger(32))
    return "int";
  return "long long";
}

/// The sizes of v's dimensions: >= 0 known, -c for c times N.
FailureOr<SmallVector<int64_t>> symbolicShape(Value v, ShapeCache &cache) {
  if (auto it = cache.find(v); it != cache.end())
    return it->second;
  auto type = tensorOf(v);
  SmallVector<int64_t> dims(type.getShape());
  int64_t rank = type.getRank();
  auto shapeOf = [&](Value x) { return symbolicShape(x, cache); };
  if (type.hasStaticShape()) {
    cache[v] = dims;
    return dims;
  }
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (auto fusion = dyn_cast<nn::FusionOp>(arg.getOwner()->getParentOp()))
      return shapeOf(fusion->getOperand(arg.getArgNumber()));
    for (int64_t &d : dims) // a feed: its unknown dimension is N
      d = ShapedType::isDynamic(d) ? -1 : d;
    cache[v] = dims;
    return dims;
  }
  Operation *op = v.getDefiningOp();
  if (auto fusion = dyn_cast<nn::FusionOp>(op))
    return shapeOf(fusion.getBody().front().getTerminator()->getOperand(
        cast<OpResult>(v).getResultNumber()));
  // Result dimension i is dimension j of operand k.
  auto from = [&](Value x, int64_t j) -> FailureOr<int64_t> {
    auto s = shapeOf(x);
    if (failed(s))
      return failure();
    return (*s)[j];
  };
  for (int64_t i = 0; i < rank; ++i) {
    if (!ShapedType::isDynamic(dims[i]))
      continue;
    std::optional<int64_t> d;
    if (isa<nn::ReshapeOp, nn::SqueezeOp, nn::ExpandDimsOp>(op)) {
      // The elements stay: c_out = c_in * known_in / known_out.
      auto in = shapeOf(op->getOperand(0));
      if (failed(in))
        return failure();
      int64_t coef = 1, knownOut = 1;
      for (int64_t x : *in)
        coef *= x < 0 ? -x : x;
      for (int64_t x : type.getShape())
        knownOut *= ShapedType::isDynamic(x) ? 1 : x;
      if (knownOut == 0 || coef % knownOut != 0)
        return op->emitOpError("gives a dimension that is not a whole multiple of the "
                               "batch size, which the CUDA target needs"),
               failure();
      d = -(coef / knownOut);
    } else if (auto cast = dyn_cast<tensor::CastOp>(op)) {
      d = from(cast.getSource(), i);
    } else if (auto mm = dyn_cast<nn::MatMulOp>(op); mm && i >= rank - 2) {
      int64_t ra = tensorOf(mm.getLhs()).getRank(), rb = tensorOf(mm.getRhs()).getRank();
      d = i == rank - 2 ? from(mm.getLhs(), mm.getTransposeA() ? ra - 1 : ra - 2)
                        : from(mm.getRhs(), mm.getTransposeB() ? rb - 2 : rb - 1);
    } else if (isa<nn::ReduceSumOp, nn::ReduceMeanOp, nn::ReduceMaxOp>(op)) {
      Value x = op->getOperand(0);
      int64_t xr = tensorOf(x).getRank();
      auto axes = reducedAxes(op);
      bool keep = op->getAttrOfType<BoolAttr>("keep_dims").getValue();
      int64_t k = -1;
      for (int64_t j = 0, seen = -1; j < xr; ++j)
        if (keep || !llvm::is_contained(axes, j))
          if (++seen == i)
            k = j;
      d = from(x, k);
    } else if (auto am = dyn_cast<nn::ArgMaxOp>(op)) {
      int64_t axis = am.getNormalizedAxis();
      d = from(am.getX(), i < axis ? i : i + 1);
    } else if (auto ce = dyn_cast<nn::SoftmaxCrossEntropyOp>(op)) {
      d = from(ce.getLogits(), i);
    } else if (auto oh = dyn_cast<nn::OneHotOp>(op)) {
      d = from(oh.getIndices(), i);
    } else if (auto bl = dyn_cast<nn::BroadcastLikeOp>(op)) {
      d = from(bl.getLike(), i);
    } else {
      // Elementwise, right-aligned: an operand with the dimension unknown.
      for (Value x : op->getOperands()) {
        auto xt = dyn_cast<RankedTensorType>(x.getType());
        int64_t j = xt ? i - (rank - xt.getRank()) : -1;
        if (j >= 0 && ShapedType::isDynamic(xt.getDimSize(j))) {
          d = from(x, j);
          break;
        }
      }
    }
    if (!d)
      return op->emitOpError("has an unknown dimension the CUDA target cannot size"),
             failure();
    dims[i] = *d;
  }
  cache[v] = dims;
  return dims;
}

KernelWriter::KernelWriter(std::string name, std::vector<Value> inputs, ShapeCache &shapes,
                           Precision precision)
    : name_(std::move(name)), inputs_(std::move(inputs)), shapes_(shapes),
      precision_(precision) {}

std::string KernelWriter::dim(Value v, int64_t i) {
  auto shape = symbolicShape(v, shapes_);
  if (failed(shape)) {
    failedAt_ = failedAt_ ? failedAt_ : v.getDefiningOp();
    return "0LL";
  }
  int64_t d = (*shape)[i];
  if (d >= 0)
    return std::to_string(d) + "LL";
  return d == -1 ? "N" : "(" + std::to_string(-d) + "LL*N)";
}

std::string KernelWriter::elements(Value v, llvm::ArrayRef<int64_t> axes) {
  std::string s = "1LL";
  for (int64_t i = 0; i < tensorOf(v).getRank(); ++i)
    if (axes.empty() || llvm::is_contained(axes, i))
      s += "*" + dim(v, i);
  return s;
}

std::string KernelWriter::fresh(const char *prefix) {
  return prefix + std::to_string(counter_++);
}

void KernelWriter::line(const std::string &text) {
  body_ += std::string(indent_, ' ') + text + "\n";
}

void KernelWriter::open(const std::string &header) {
  line(header + " {");
  indent_ += 2;
  scopes_.emplace_back();
}

void KernelWriter::close() {
  scopes_.pop_back();
  indent_ -= 2;
  line("}");
}

std::vector<std::string> KernelWriter::coords(const std::string &lin, Value type) {
  int64_t rank = tensorOf(type).getRank();
  std::vector<std::string> c(rank);
  if (rank == 0)
    return c;
  std::string rest = fresh("r");
  line("long long " + rest + " = " + lin + ";");
  for (int64_t i = rank; i-- > 0;) {
    c[i] = fresh("c");
    if (i == 0) {
      line("const long long " + c[i] + " = " + rest + ";");
    } else {
      line("const long long " + c[i] + " = " + rest + " % " + dim(type, i) + ";");
      line(rest + " /= " + dim(type, i) + ";");
    }
  }
  return c;
}

std::string KernelWriter::linear(const std::vector<std::string> &c, Value type) {
  if (c.empty())
    return "0LL";
  std::string s = c[0];
  for (size_t i = 1; i < c.size(); ++i)
    s = "(" + s + ")*" + dim(type, i) + "+" + c[i];
  return s;
}

std::string KernelWriter::broadcastIndex(const std::vector<std::string> &rc, Value result,
                                         Value operand) {
  auto r = tensorOf(result), o = tensorOf(operand);
  int64_t shift = r.getRank() - o.getRank();
  std::vector<std::string> c;
  for (int64_t j = 0; j < o.getRank(); ++j) {
    bool stretched = o.getDimSize(j) == 1 && r.getDimSize(j + shift) != 1;
    c.push_back(stretched ? "0LL" : rc[j + shift]);
  }
  return linear(c, operand);
}

std::string KernelWriter::element(Value v, const std::string &lin) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    if (auto fusion = dyn_cast<nn::FusionOp>(arg.getOwner()->getParentOp()))
      return element(fusion->getOperand(arg.getArgNumber()), lin);
  if (auto it = overrides_.find(v.getAsOpaquePointer()); it != overrides_.end())
    return it->second;
  std::pair<void *, std::string> key{v.getAsOpaquePointer(), lin};
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
    if (auto found = it->find(key); found != it->end())
      return found->second;
  std::string name;
  auto input = llvm::find(inputs_, v);
  if (input != inputs_.end()) {
    name = fresh("v");
    line("const " + cType(eltOf(v)) + " " + name + " = in" +
         std::to_string(input - inputs_.begin()) + "[" + lin + "];");
  } else if (Operation *op = v.getDefiningOp()) {
    name = compute(op, v, lin);
  } else {
    name = "0";
  }
  scopes_.back()[key] = name;
  return name;
}

std::string KernelWriter::constant(Operation *op, const std::string &lin) {
  auto attr = cast<DenseElementsAttr>(cast<nn::ConstantOp>(op).getValue());
  Type elt = attr.getElementType();
  auto literal = [&](int64_t i) -> std::string {
    if (isFloat(elt))
      return floatLiteral(attr.getValues<APFloat>()[i].convertToDouble(), elt);
    if (elt.isInteger(1))
      return attr.getValues<bool>()[i] ? "true" : "false";
    return std::to_string(attr.getValues<APInt>()[i].getSExtValue()) + "LL";
  };
  if (attr.isSplat())
    return "(" + cType(elt) + ")(" + literal(0) + ")";
  std::string array = "nncc_" + name_ + "_" + fresh("k");
  std::string values;
  for (int64_t i = 0, n = attr.getNumElements(); i < n; ++i)
    values += (i ? ", " : "") + literal(i);
  globals_ += "__device__ const " + cType(elt) + " " + array + "[] = {" + values + "};\n";
  return array + "[" + lin + "]";
}

std::string KernelWriter::compute(Operation *op, Value v, const std::string &lin) {
  Value rt = v;
  Type elt = eltOf(v);
  std::string T = cType(elt);
  std::string out = fresh("v");
  auto define = [&](const std::string &expr) {
    line("const " + T + " " + out + " = " + expr + ";");
    return out;
  };
  // Operand k's element at the result's (broadcast) position.
  auto operandAt = [&](const std::vector<std::string> &rc, Value operand) {
    return element(operand, broadcastIndex(rc, rt, operand));
  };
  auto binary = [&](const char *format) {
    auto rc = coords(lin, rt);
    std::string a = operandAt(rc, op->getOperand(0)), b = operandAt(rc, op->getOperand(1));
    char buffer[512];
    std::snprintf(buffer, sizeof buffer, format, a.c_str(), b.c_str());
    return define(buffer);
  };
  auto unary = [&](const std::string &expr) {
    std::string x = element(op->getOperand(0), lin);
    std::string e = expr;
    for (size_t at; (at = e.find("$x")) != std::string::npos;)
      e.replace(at, 2, x);
    return define(e);
  };
  /// a / b, as the CPU lowering's divide(): for integers a / 0 is 0 and
  /// MIN / -1 is MIN, through a divisor of 1 there, so no division traps.
  auto quotient = [&](const std::string &a, const std::string &b) {
    if (isFloat(elt))
      return define("(" + a + " / " + b + ")");
    std::string d = fresh("d"), safe = fresh("d");
    line("const " + T + " " + d + " = " + b + ";");
    line("const " + T + " " + safe + " = " + d + " == 0 || (" + d + " == -1 && " + a +
         " == " + lowest(elt) + ") ? (" + T + ")1 : " + d + ";");
    return define("(" + d + " == 0 ? (" + T + ")0 : " + a + " / " + safe + ")");
  };
  /// Loops over `axis` of `x` (the others fixed at xc) with `body`
  /// receiving x's element there.
  auto loopAxis = [&](Value x, std::vector<std::string> xc, int64_t axis,
                      const std::function<void(const std::string &, const std::string &)> &body) {
    std::string r = fresh("i");
    open("for (long long " + r + " = 0; " + r + " < " + dim(x, axis) + "; ++" + r +
         ")");
    xc[axis] = r;
    body(element(x, linear(xc, x)), r);
    close();
  };
  /// The softmax's row statistics along `axis` of x at xc: the max `m`
  /// and the sum `s` of exp(x - m), each a reduction of its own.
  auto rowMaxAndSum = [&](Value x, const std::vector<std::string> &xc, int64_t axis,
                          const std::string &m, const std::string &s) {
    auto at = [&](const std::string &r) {
      std::vector<std::string> c(xc);
      c[axis] = r;
      return element(x, linear(c, x));
    };
    reduce(m, Combine::FMax, elt, "-" + floatLiteral(INFINITY, elt), dim(x, axis), at);
    reduce(s, Combine::Sum, elt, "(" + T + ")0", dim(x, axis), [&](const std::string &r) {
      return fn("exp", elt) + "(" + at(r) + " - " + m + ")";
    });
  };

  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](nn::AddOp) { return binary("(%s + %s)"); })
      .Case([&](nn::SubOp) { return binary("(%s - %s)"); })
      .Case([&](nn::MulOp) { return binary("(%s * %s)"); })
      .Case([&](nn::DivOp) {
        auto rc = coords(lin, rt);
        std::string a = operandAt(rc, op->getOperand(0));
        return quotient(a, operandAt(rc, op->getOperand(1)));
      })
      .Case([&](nn::EqualOp) { return binary("(%s == %s)"); })
      .Case([&](nn::GreaterOp) { return binary("(%s > %s)"); })
      .Case([&](nn::BiasAddOp) { return binary("(%s + %s)"); })
      .Case([&](nn::NegOp) { return unary("(-$x)"); })
      .Case([&](nn::SquareOp) { return unary("($x * $x)"); })
      .Case([&](nn::ExpOp) { return unary(fn("exp", elt) + "($x)"); })
      .Case([&](nn::LogOp) { return unary(fn("log", elt) + "($x)"); })
      .Case([&](nn::TanhOp) { return unary(fn("tanh", elt) + "($x)"); })
      .Case([&](nn::SigmoidOp) {
        return unary("((" + T + ")1 / ((" + T + ")1 + " + fn("exp", elt) + "(-$x)))");
      })
      // maximumf: NaN stays NaN.
      .Case([&](nn::ReluOp) { return unary("($x > (" + T + ")0 || $x != $x ? $x : (" + T + ")0)"); })
      .Case([&](nn::CastOp) { return unary("(" + T + ")($x)"); })
      .Case<nn::ReshapeOp, nn::SqueezeOp, nn::ExpandDimsOp>(
          [&](Operation *) { return unary("$x"); })
      .Case([&](nn::BroadcastLikeOp b) {
        auto rc = coords(lin, rt);
        return define(operandAt(rc, b.getX()));
      })
      .Case([&](nn::ConstantOp) { return define(constant(op, lin)); })
      .Case([&](nn::NumElementsOp n) {
        Value x = n.getX();
        auto axes = n.getNormalizedAxes();
        return define("(" + T + ")(" + elements(x, axes) + ")");
      })
      .Case<nn::ReduceSumOp, nn::ReduceMeanOp, nn::ReduceMaxOp>([&](Operation *) {
        Value x = op->getOperand(0);
        int64_t rank = tensorOf(x).getRank();
        auto axes = reducedAxes(op);
        bool keep = op->getAttrOfType<BoolAttr>("keep_dims").getValue();
        bool max = isa<nn::ReduceMaxOp>(op);
        auto rc = coords(lin, rt);
        std::vector<std::string> xc(rank);
        for (int64_t i = 0, k = 0; i < rank; ++i) {
          bool reduced = llvm::is_contained(axes, i);
          if (!reduced || keep)
            ++k;
          if (!reduced)
            xc[i] = rc[k - 1];
        }
        std::string acc = fresh("acc");
        std::string identity = max ? (isFloat(elt) ? "-" + floatLiteral(INFINITY, elt)
                                                   : "(" + T + ")" + lowest(elt))
                                   : "(" + T + ")0";
        // One loop over the reduced axes together (the last fastest), so
        // that threads can stride them all.
        reduce(acc, max ? Combine::Max : Combine::Sum, elt, identity, elements(x, axes),
               [&](const std::string &r) {
                 std::vector<std::string> c(xc);
                 if (axes.size() == 1) {
                   c[axes[0]] = r;
                 } else if (!axes.empty()) {
                   std::string rest = fresh("q");
                   line("long long " + rest + " = " + r + ";");
                   for (size_t a = axes.size(); a-- > 0;) {
                     c[axes[a]] = fresh("c");
                     line("const long long " + c[axes[a]] + " = " + rest + " % " +
                          dim(x, axes[a]) + ";");
                     if (a)
                       line(rest + " /= " + dim(x, axes[a]) + ";");
                   }
                 }
                 return element(x, linear(c, x));
               });
        if (isa<nn::ReduceMeanOp>(op)) // over no elements: NaN, or 0 for integers
          return quotient(acc, "(" + T + ")(" + elements(x, axes) + ")");
        return define(acc);
      })
      .Case([&](nn::ArgMaxOp a) {
        Value x = a.getX();
        int64_t axis = a.getNormalizedAxis();
        auto rc = coords(lin, rt);
        if (axis < 0 || axis > static_cast<int64_t>(rc.size()) ||
            rc.size() + 1 != static_cast<size_t>(tensorOf(x).getRank())) {
          failedAt_ = op;
          return std::string("0");
        }
        std::vector<std::string> xc(rc);
        xc.insert(xc.begin() + axis, "0LL");
        std::string best = fresh("best"), at = fresh("at");
        // The first element is taken as it comes; an empty axis leaves -1,
        // as on the CPU.
        line(cType(eltOf(x)) + " " + best + " = 0;");
        line("long long " + at + " = -1;");
        // The first NaN is the maximum, as in NumPy (and on the CPU).
        bool nan = isFloat(eltOf(x));
        loopAxis(x, xc, axis, [&](const std::string &e, const std::string &r) {
          std::string beats = at + " < 0 || " + e + " > " + best;
          if (nan)
            beats += " || (" + e + " != " + e + " && " + best + " == " + best + ")";
          line("if (" + beats + ") { " + best + " = " + e + "; " + at + " = " + r + "; }");
        });
        return define(at);
      })
      .Case<nn::SoftmaxOp, nn::LogSoftmaxOp>([&](Operation *) {
        Value x = op->getOperand(0);
        int64_t axis = softmaxAxis(op);
        auto xc = coords(lin, rt);
        std::string here = element(x, lin);
        std::string m = fresh("m"), s = fresh("s");
        rowMaxAndSum(x, xc, axis, m, s);
        if (isa<nn::LogSoftmaxOp>(op))
          return define(here + " - " + m + " - " + fn("log", elt) + "(" + s + ")");
        return define(fn("exp", elt) + "(" + here + " - " + m + ") / " + s);
      })
      .Case([&](nn::SoftmaxCrossEntropyOp ce) {
        Value x = ce.getLogits(), labels = ce.getLabels();
        int64_t axis = tensorOf(x).getRank() - 1;
        auto rc = coords(lin, rt);
        std::vector<std::string> xc(rc);
        xc.push_back("0LL");
        std::string m = fresh("m"), s = fresh("s");
        rowMaxAndSum(x, xc, axis, m, s);
        std::string logSum = fresh("ls");
        line("const " + T + " " + logSum + " = " + fn("log", elt) + "(" + s + ");");
        if (tensorOf(labels).getRank() == tensorOf(x).getRank()) {
          // -sum(labels * log_softmax) = sum(labels * (logsum - (x - max)))
          std::string acc = fresh("acc");
          reduce(acc, Combine::Sum, elt, "(" + T + ")0", dim(x, axis),
                 [&](const std::string &r) {
                   std::vector<std::string> c(xc);
                   c[axis] = r;
                   std::string e = element(x, linear(c, x));
                   std::string l = element(labels, linear(c, labels));
                   return "(" + T + ")" + l + " * (" + logSum + " - (" + e + " - " + m + "))";
                 });
          return define(acc);
        }
        // Sparse labels: NaN for a label outside [0, classes), as on CPU.
        std::string label = element(labels, linear(rc, labels));
        std::string cls = fresh("cls");
        line("const long long " + cls + " = (long long)" + label + ";");
        std::vector<std::string> lc(rc);
        lc.push_back(cls);
        std::string inRange = cls + " >= 0 && " + cls + " < " + dim(x, axis);
        std::string picked = fresh("x");
        line(T + " " + picked + " = " + floatLiteral(NAN, elt) + ";");
        open("if (" + inRange + ")");
        line(picked + " = " + element(x, linear(lc, x)) + ";");
        close();
        return define(logSum + " - (" + picked + " - " + m + ")");
      })
      .Case([&](nn::MeanSquaredErrorOp mse) {
        // The mean over the broadcast shape of predictions and targets.
        Value p = mse.getPredictions(), t = mse.getTargets();
        int64_t rp = tensorOf(p).getRank(), rt2 = tensorOf(t).getRank();
        int64_t r = std::max(rp, rt2);
        std::vector<std::string> dims(r);
        std::string count = "1LL";
        for (int64_t j = 0; j < r; ++j) {
          int64_t jp = j - (r - rp), jt = j - (r - rt2);
          bool fromP = jp >= 0 && tensorOf(p).getDimSize(jp) != 1;
          dims[j] = fromP ? dim(p, jp) : jt >= 0 ? dim(t, jt) : "1LL";
          count = "(" + count + ")*" + dims[j];
        }
        auto at = [&](Value x, const std::vector<std::string> &c) {
          auto xt = tensorOf(x);
          std::vector<std::string> cx;
          for (int64_t j = 0; j < xt.getRank(); ++j)
            cx.push_back(xt.getDimSize(j) == 1 ? "0LL" : c[j + r - xt.getRank()]);
          return linear(cx, x);
        };
        std::string acc = fresh("acc");
        reduce(acc, Combine::Sum, elt, "(" + T + ")0", count, [&](const std::string &i) {
          std::vector<std::string> c(r);
          std::string rest = i;
          for (int64_t j = r; j-- > 0;) {
            c[j] = "((" + rest + ")%" + dims[j] + ")";
            rest = "((" + rest + ")/" + dims[j] + ")";
          }
          std::string d = fresh("d");
          line("const " + T + " " + d + " = " + element(p, at(p, c)) + " - " +
               element(t, at(t, c)) + ";");
          return d + " * " + d;
        });
        return define(acc + " / (" + T + ")(" + count + ")");
      })
      .Case([&](nn::OneHotOp o) {
        auto rc = coords(lin, rt);
        std::vector<std::string> ic(rc.begin(), rc.end() - 1);
        std::string index = element(o.getIndices(), linear(ic, o.getIndices()));
        return define("((long long)" + index + " == " + rc.back() + " ? (" + T + ")" +
                      floatLiteral(o.getOnValue().convertToFloat(), elt) + " : (" + T + ")" +
                      floatLiteral(o.getOffValue().convertToFloat(), elt) + ")");
      })
      .Case([&](nn::MatMulOp mm) {
        // [batch..., M, K] x [batch..., K, C]; the operands' batch
        // dimensions broadcast (right-aligned, 1 stretched).
        Value a = mm.getLhs(), b = mm.getRhs();
        bool ta = mm.getTransposeA(), tb = mm.getTransposeB();
        auto rc = coords(lin, rt);
        int64_t r = tensorOf(rt).getRank();
        auto at = [&](Value x, const std::string &row, const std::string &col) {
          auto xt = tensorOf(x);
          int64_t shift = r - xt.getRank();
          std::vector<std::string> c;
          for (int64_t j = 0; j + 2 < xt.getRank(); ++j)
            c.push_back(xt.getDimSize(j) == 1 ? "0LL" : rc[j + shift]);
          c.push_back(row);
          c.push_back(col);
          return linear(c, x);
        };
        const std::string &m = rc[r - 2], &n = rc[r - 1];
        int64_t ra = tensorOf(a).getRank();
        std::string acc = fresh("acc");
        std::string depth = dim(a, ta ? ra - 2 : ra - 1);
        reduce(acc, Combine::Sum, elt, "(" + T + ")0", depth, [&](const std::string &k) {
          std::string x = element(a, ta ? at(a, k, m) : at(a, m, k));
          std::string y = element(b, tb ? at(b, n, k) : at(b, k, n));
          return x + " * " + y;
        });
        return define(acc);
      })
      .Case([&](tensor::CastOp c) { return element(c.getSource(), lin); })
      .Default([&](Operation *) {
        failedAt_ = op;
        return std::string("0");
      });
}

std::string KernelWriter::header(Value result, const std::string &kernel) {
  std::string s = "extern \"C\" __global__ void " + kernel + "(const " + abi::kKernelArgsName +
                  " a) {\n";
  s += "  const long long N = a.n;\n";
  for (auto [i, v] : llvm::enumerate(inputs_)) {
    std::string T = cType(eltOf(v));
    s += "  const " + T + " *__restrict__ in" + std::to_string(i) + " = (const " + T +
         " *)a.p[" + std::to_string(i) + "];\n";
  }
  std::string T = cType(eltOf(result));
  s += "  " + T + " *__restrict__ out = (" + T + " *)a.p[" + std::to_string(inputs_.size()) +
       "];\n";
  s += "  (void)N;\n";
  return s;
}

KernelWriter::Cooperation KernelWriter::cooperation(Value result) {
  // Elements reduced per element, by reduction: long ones (over the batch,
  // or many) take a block, short ones (a row of classes) a warp.
  bool reduces = false, longRows = false;
  auto reducing = [&](Value x, llvm::ArrayRef<int64_t> axes) {
    auto shape = symbolicShape(x, shapes_);
    if (failed(shape))
      return;
    reduces = true;
    int64_t count = 1;
    for (int64_t i = 0; i < static_cast<int64_t>(shape->size()); ++i)
      if (axes.empty() || llvm::is_contained(axes, i)) {
        longRows |= (*shape)[i] < 0;
        count *= std::max<int64_t>((*shape)[i], 1);
      }
    longRows |= count >= 1024;
  };
  llvm::SmallPtrSet<Operation *, 16> seen;
  std::function<void(Value)> visit = [&](Value v) {
    Operation *op = v.getDefiningOp();
    if (!op || llvm::is_contained(inputs_, v) || !seen.insert(op).second)
      return;
    auto rank = [&] { return tensorOf(op->getOperand(0)).getRank(); };
    llvm::TypeSwitch<Operation *>(op)
        .Case<nn::ReduceSumOp, nn::ReduceMeanOp, nn::ReduceMaxOp>([&](Operation *) {
          reducing(op->getOperand(0), reducedAxes(op));
        })
        .Case<nn::SoftmaxOp, nn::LogSoftmaxOp>([&](Operation *) {
          reducing(op->getOperand(0), {softmaxAxis(op)});
        })
        .Case([&](nn::SoftmaxCrossEntropyOp ce) {
          reducing(ce.getLogits(), {tensorOf(ce.getLogits()).getRank() - 1});
        })
        .Case([&](nn::MeanSquaredErrorOp mse) {
          reducing(mse.getPredictions(), {});
          reducing(mse.getTargets(), {});
        })
        .Case([&](nn::MatMulOp mm) {
          reducing(mm.getLhs(), {mm.getTransposeA() ? rank() - 2 : rank() - 1});
        });
    for (Value operand : op->getOperands())
      visit(operand);
  };
  visit(result);
  if (!reduces)
    return Cooperation::None;
  return longRows ? Cooperation::Block : Cooperation::Warp;
}

std::string KernelWriter::accumulate(const std::string &acc, Combine how, Type elt,
                                     const std::string &e) {
  switch (how) {
  case Combine::Sum:
    return acc + " += " + e + ";";
  case Combine::FMax:
    return acc + " = " + fn("fmax", elt) + "(" + acc + ", " + e + ");";
  case Combine::Max: // NaN wins, as the CPU's maximumf
    break;
  }
  return acc + " = " + e + " > " + acc + " || " + e + " != " + e + " ? " + e + " : " + acc + ";";
}

void KernelWriter::reduce(const std::string &acc, Combine how, Type elt,
                          const std::string &identity, const std::string &extent,
                          const std::function<std::string(const std::string &)> &term) {
  std::string T = cType(elt);
  line(T + " " + acc + " = " + identity + ";");
  // Shuffles need every thread of the warp (and a block's barrier every
  // thread of the block): only where they all are, the element's top level.
  bool together = coop_ != Cooperation::None && scopes_.size() == topScope_;
  bool warp = coop_ == Cooperation::Warp;
  std::string r = fresh("i");
  std::string first = !together ? "0" : warp ? "lane" : "threadIdx.x";
  std::string next = !together ? "++" + r : r + " += " + (warp ? "32" : "blockDim.x");
  open("for (long long " + r + " = " + first + "; " + r + " < " + extent + "; " + next + ")");
  std::string e = term(r);
  if (how == Combine::Max) { // e is used three times
    std::string named = fresh("e");
    line("const " + T + " " + named + " = " + e + ";");
    e = named;
  }
  line(accumulate(acc, how, elt, e));
  close();
  if (together)
    combineAcross(acc, how, elt, identity);
}

void KernelWriter::combineAcross(const std::string &acc, Combine how, Type elt,
                                 const std::string &identity) {
  std::string T = cType(elt);
  std::string other = "__shfl_xor_sync(0xffffffff, " + acc + ", off)";
  auto butterfly = [&] {
    std::string loop = "for (int off = 16; off > 0; off /= 2) ";
    if (how == Combine::Max)
      line(loop + "{ const " + T + " o = " + other + "; " + accumulate(acc, how, elt, "o") +
           " }");
    else
      line(loop + accumulate(acc, how, elt, other));
  };
  butterfly();
  if (coop_ != Cooperation::Block)
    return;
  // The warps' totals through shared memory, combined by every warp.
  std::string slots = fresh("part");
  shared_ += "  __shared__ " + T + " " + slots + "[32];\n";
  line("if (lane == 0)");
  line("  " + slots + "[warp] = " + acc + ";");
  line("__syncthreads();");
  line(acc + " = lane < warps ? " + slots + "[lane] : " + identity + ";");
  butterfly();
  line("__syncthreads(); // before the slots are written again");
}

FailureOr<std::string> KernelWriter::write(Value result, LaunchShape &shape) {
  if (Operation *product = tiledProduct(result))
    return writeTiled(result, product, shape);
  shape = {};
  coop_ = cooperation(result);
  body_.clear();
  shared_.clear();
  scopes_.assign(1, {});
  topScope_ = scopes_.size();
  indent_ = 4;
  std::string elementName = element(result, "lin");
  if (failedAt_)
    return failedAt_->emitOpError("is not supported by the CUDA target yet"), failure();
  std::string s = header(result, name_);
  s += shared_;
  s += "  const long long total = " + elements(result) + ";\n";
  std::string store = "    out[lin] = " + elementName + ";\n";
  switch (coop_) {
  case Cooperation::None:
    s += "  for (long long lin = (long long)blockIdx.x * blockDim.x + threadIdx.x; lin < total;\n"
         "       lin += (long long)blockDim.x * gridDim.x) {\n";
    break;
  case Cooperation::Warp:
    shape.lanes = 32;
    s += "  // A warp per element (blockDim.x a multiple of 32), its lanes striding\n"
         "  // the reductions.\n";
    s += "  const int lane = threadIdx.x % 32;\n";
    s += "  for (long long lin = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;\n"
         "       lin < total; lin += (long long)gridDim.x * (blockDim.x / 32)) {\n";
    store = "    if (lane == 0)\n  " + store;
    break;
  case Cooperation::Block:
    shape.lanes = shape.threads;
    s += "  // A block per element (blockDim.x a multiple of 32), its threads\n"
         "  // striding the reductions.\n";
    s += "  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;\n";
    s += "  for (long long lin = blockIdx.x; lin < total; lin += gridDim.x) {\n";
    store = "    if (threadIdx.x == 0)\n  " + store;
    break;
  }
  s += body_;
  s += store;
  s += "  }\n}\n";
  return s;
}

} // namespace nncc::cuda
