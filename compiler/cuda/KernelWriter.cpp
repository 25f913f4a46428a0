#include "compiler/cuda/KernelWriter.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstdio>
#include <functional>

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

std::vector<int64_t> normalized(llvm::ArrayRef<int64_t> axes, int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t a : axes)
    out.push_back(a < 0 ? a + rank : a);
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      out.push_back(i);
  llvm::sort(out);
  return out;
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
    FailureOr<int64_t> d = failure();
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
    } else if (auto mm = dyn_cast<nn::MatMulOp>(op)) {
      d = i == 0 ? from(mm.getLhs(), mm.getTransposeA() ? 1 : 0)
                 : from(mm.getRhs(), mm.getTransposeB() ? 0 : 1);
    } else if (isa<nn::ReduceSumOp, nn::ReduceMeanOp, nn::ReduceMaxOp>(op)) {
      Value x = op->getOperand(0);
      int64_t xr = tensorOf(x).getRank();
      auto axes = normalized(op->getAttrOfType<DenseI64ArrayAttr>("axes").asArrayRef(), xr);
      bool keep = op->getAttrOfType<BoolAttr>("keep_dims").getValue();
      int64_t k = -1;
      for (int64_t j = 0, seen = -1; j < xr; ++j)
        if (keep || !llvm::is_contained(axes, j))
          if (++seen == i)
            k = j;
      d = from(x, k);
    } else if (auto am = dyn_cast<nn::ArgMaxOp>(op)) {
      int64_t xr = tensorOf(am.getX()).getRank();
      int64_t axis = am.getAxis() < 0 ? am.getAxis() + xr : am.getAxis();
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
    if (failed(d))
      return op->emitOpError("has an unknown dimension the CUDA target cannot size"),
             failure();
    dims[i] = *d;
  }
  cache[v] = dims;
  return dims;
}

KernelWriter::KernelWriter(std::string name, std::vector<Value> inputs, ShapeCache &shapes)
    : name_(std::move(name)), inputs_(std::move(inputs)), shapes_(shapes) {}

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
  /// The elements of `x` along `axis` at the result position `rc` of a
  /// result that has x's shape minus that axis: x's coordinates with `r`
  /// inserted.
  auto alongAxis = [&](Value x, const std::vector<std::string> &rc, int64_t axis,
                       const std::string &r) {
    std::vector<std::string> xc(rc.begin(), rc.end());
    xc.insert(xc.begin() + axis, r);
    return linear(xc, x);
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

  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](nn::AddOp) { return binary("(%s + %s)"); })
      .Case([&](nn::SubOp) { return binary("(%s - %s)"); })
      .Case([&](nn::MulOp) { return binary("(%s * %s)"); })
      .Case([&](nn::DivOp) { return binary("(%s / %s)"); })
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
        auto axes = normalized(n.getAxes(), tensorOf(x).getRank());
        return define("(" + T + ")(" + elements(x, axes) + ")");
      })
      .Case<nn::ReduceSumOp, nn::ReduceMeanOp, nn::ReduceMaxOp>([&](Operation *) {
        Value x = op->getOperand(0);
        int64_t rank = tensorOf(x).getRank();
        auto axes = normalized(op->getAttrOfType<DenseI64ArrayAttr>("axes").asArrayRef(), rank);
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
        line(T + " " + acc + " = " +
             (max ? (isFloat(elt) ? "-" + floatLiteral(INFINITY, elt) : "(" + T + ")(-9223372036854775807LL - 1)")
                  : "(" + T + ")0") + ";");
        std::function<void(size_t)> nest = [&](size_t a) {
          if (a == axes.size()) {
            std::string e = element(x, linear(xc, x));
            line(max ? acc + " = " + e + " > " + acc + " || " + e + " != " + e + " ? " + e +
                           " : " + acc + ";"
                     : acc + " += " + e + ";");
            return;
          }
          std::string r = fresh("i");
          open("for (long long " + r + " = 0; " + r + " < " + dim(x, axes[a]) +
               "; ++" + r + ")");
          xc[axes[a]] = r;
          nest(a + 1);
          close();
        };
        nest(0);
        if (isa<nn::ReduceMeanOp>(op))
          return define(acc + " / (" + T + ")(" + elements(x, axes) + ")");
        return define(acc);
      })
      .Case([&](nn::ArgMaxOp a) {
        Value x = a.getX();
        int64_t axis = a.getAxis() < 0 ? a.getAxis() + tensorOf(x).getRank() : a.getAxis();
        auto rc = coords(lin, rt);
        std::vector<std::string> xc(rc);
        xc.insert(xc.begin() + axis, "0LL");
        std::string best = fresh("best"), at = fresh("at");
        line(cType(eltOf(x)) + " " + best + " = " + element(x, linear(xc, x)) + ";");
        line("long long " + at + " = 0;");
        loopAxis(x, xc, axis, [&](const std::string &e, const std::string &r) {
          line("if (" + e + " > " + best + ") { " + best + " = " + e + "; " + at + " = " + r +
               "; }");
        });
        return define(at);
      })
      .Case<nn::SoftmaxOp, nn::LogSoftmaxOp>([&](Operation *) {
        Value x = op->getOperand(0);
        int64_t rank = tensorOf(x).getRank();
        int64_t axis = op->getAttrOfType<IntegerAttr>("axis").getInt();
        axis = axis < 0 ? axis + rank : axis;
        auto xc = coords(lin, rt);
        std::string here = element(x, lin);
        std::string m = fresh("m"), s = fresh("s");
        line(T + " " + m + " = -" + floatLiteral(INFINITY, elt) + ";");
        loopAxis(x, xc, axis, [&](const std::string &e, const std::string &) {
          line(m + " = " + fn("fmax", elt) + "(" + m + ", " + e + ");");
        });
        line(T + " " + s + " = 0;");
        loopAxis(x, xc, axis, [&](const std::string &e, const std::string &) {
          line(s + " += " + fn("exp", elt) + "(" + e + " - " + m + ");");
        });
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
        line(T + " " + m + " = -" + floatLiteral(INFINITY, elt) + ";");
        loopAxis(x, xc, axis, [&](const std::string &e, const std::string &) {
          line(m + " = " + fn("fmax", elt) + "(" + m + ", " + e + ");");
        });
        line(T + " " + s + " = 0;");
        loopAxis(x, xc, axis, [&](const std::string &e, const std::string &) {
          line(s + " += " + fn("exp", elt) + "(" + e + " - " + m + ");");
        });
        std::string logSum = fresh("ls");
        line("const " + T + " " + logSum + " = " + fn("log", elt) + "(" + s + ");");
        if (tensorOf(labels).getRank() == tensorOf(x).getRank()) {
          // -sum(labels * log_softmax) = sum(labels * (logsum - (x - max)))
          std::string acc = fresh("acc");
          line(T + " " + acc + " = 0;");
          loopAxis(x, xc, axis, [&](const std::string &e, const std::string &r) {
            std::vector<std::string> lc(xc);
            lc[axis] = r;
            std::string l = element(labels, linear(lc, labels));
            line(acc + " += (" + T + ")" + l + " * (" + logSum + " - (" + e + " - " + m + "));");
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
        Value p = mse.getPredictions(), t = mse.getTargets();
        std::string acc = fresh("acc"), i = fresh("i");
        line(T + " " + acc + " = 0;");
        open("for (long long " + i + " = 0; " + i + " < " + elements(p) + "; ++" + i +
             ")");
        std::string d = fresh("d");
        line("const " + T + " " + d + " = " + element(p, i) + " - " + element(t, i) + ";");
        line(acc + " += " + d + " * " + d + ";");
        close();
        return define(acc + " / (" + T + ")(" + elements(p) + ")");
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
        Value a = mm.getLhs(), b = mm.getRhs();
        if (tensorOf(a).getRank() != 2 || tensorOf(b).getRank() != 2) {
          failedAt_ = op;
          return std::string("0");
        }
        bool ta = mm.getTransposeA(), tb = mm.getTransposeB();
        auto rc = coords(lin, rt);
        std::string acc = fresh("acc"), k = fresh("k");
        line(T + " " + acc + " = 0;");
        std::string depth = dim(a, ta ? 0 : 1);
        open("for (long long " + k + " = 0; " + k + " < " + depth + "; ++" + k + ")");
        std::string x = element(a, ta ? linear({k, rc[0]}, a)
                                      : linear({rc[0], k}, a));
        std::string y = element(b, tb ? linear({rc[1], k}, b)
                                      : linear({k, rc[1]}, b));
        line(acc + " += " + x + " * " + y + ";");
        close();
        return define(acc);
      })
      .Default([&](Operation *) {
        failedAt_ = op;
        return std::string("0");
      });
}

std::string KernelWriter::header(Value result) {
  std::string s = "extern \"C\" __global__ void " + name_ + "(const nncc_args a) {\n";
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

Operation *KernelWriter::tiledProduct(Value result) {
  auto resultType = tensorOf(result);
  if (resultType.getRank() != 2 || !isFloat(resultType.getElementType()))
    return nullptr;
  auto isInput = [&](Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v))
      if (auto fusion = dyn_cast<nn::FusionOp>(arg.getOwner()->getParentOp()))
        v = fusion->getOperand(arg.getArgNumber());
    return llvm::is_contained(inputs_, v);
  };
  // Walk up from the result through elementwise ops of the result's shape;
  // exactly one product may be reached, and only through them.
  Operation *product = nullptr;
  bool ok = true;
  std::function<bool(Value)> reaches = [&](Value v) -> bool {
    Operation *op = v.getDefiningOp();
    if (!op || isa<nn::FusionOp>(op))
      return false;
    if (auto mm = dyn_cast<nn::MatMulOp>(op)) {
      if (v.getType() != result.getType() || !isInput(mm.getLhs()) || !isInput(mm.getRhs()) ||
          (product && product != op))
        ok = false;
      product = op;
      return true;
    }
    bool any = false;
    for (Value operand : op->getOperands())
      any |= reaches(operand);
    if (any && (v.getType() != result.getType() ||
                !isa<nn::AddOp, nn::SubOp, nn::MulOp, nn::DivOp, nn::BiasAddOp, nn::NegOp,
                     nn::SquareOp, nn::ExpOp, nn::LogOp, nn::TanhOp, nn::SigmoidOp,
                     nn::ReluOp>(op)))
      ok = false;
    return any;
  };
  reaches(result);
  return ok ? product : nullptr;
}

FailureOr<std::string> KernelWriter::writeTiled(Value result, Operation *product) {
  auto mm = cast<nn::MatMulOp>(product);
  Value lhs = mm.getLhs(), rhs = mm.getRhs();
  auto input = [&](Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v))
      if (auto fusion = dyn_cast<nn::FusionOp>(arg.getOwner()->getParentOp()))
        v = fusion->getOperand(arg.getArgNumber());
    return "in" + std::to_string(llvm::find(inputs_, v) - inputs_.begin());
  };
  bool ta = mm.getTransposeA(), tb = mm.getTransposeB();
  std::string T = cType(eltOf(result));
  body_.clear();
  scopes_.assign(1, {});
  indent_ = 8;
  overrides_[mm.getResult().getAsOpaquePointer()] = "accv";
  std::string elementName = element(result, "lin");
  if (failedAt_)
    return failedAt_->emitOpError("is not supported by the CUDA target yet"), failure();
  std::string rows = dim(result, 0), cols = dim(result, 1), depth = dim(lhs, ta ? 0 : 1);
  std::string A = input(lhs), B = input(rhs);
  std::string s = header(result);
  s += "  const long long M = " + rows + ", C = " + cols + ", K = " + depth + ";\n";
  s += "  __shared__ " + T + " As[16][64];\n";
  s += "  __shared__ " + T + " Bs[16][64];\n";
  s += "  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;\n";
  s += "  const long long row0 = (long long)blockIdx.y * 64, col0 = (long long)blockIdx.x * 64;\n";
  s += "  " + T + " acc[4][4] = {};\n";
  s += "  for (long long k0 = 0; k0 < K; k0 += 16) {\n";
  s += "    for (int e = threadIdx.x; e < 1024; e += 256) {\n";
  s += "      const int r = e / 16, k = e % 16;\n";
  s += "      const long long gr = row0 + r, gk = k0 + k;\n";
  s += "      As[k][r] = gr < M && gk < K ? " + A + "[" + (ta ? "gk * M + gr" : "gr * K + gk") +
       "] : (" + T + ")0;\n";
  s += "    }\n";
  s += "    for (int e = threadIdx.x; e < 1024; e += 256) {\n";
  s += "      const int k = e / 64, c = e % 64;\n";
  s += "      const long long gk = k0 + k, gc = col0 + c;\n";
  s += "      Bs[k][c] = gk < K && gc < C ? " + B + "[" + (tb ? "gc * K + gk" : "gk * C + gc") +
       "] : (" + T + ")0;\n";
  s += "    }\n";
  s += "    __syncthreads();\n";
  s += "    for (int k = 0; k < 16; ++k) {\n";
  s += "      " + T + " x[4], y[4];\n";
  s += "      for (int i = 0; i < 4; ++i) {\n";
  s += "        x[i] = As[k][ty * 4 + i];\n";
  s += "        y[i] = Bs[k][tx * 4 + i];\n";
  s += "      }\n";
  s += "      for (int i = 0; i < 4; ++i)\n";
  s += "        for (int j = 0; j < 4; ++j)\n";
  s += "          acc[i][j] += x[i] * y[j];\n";
  s += "    }\n";
  s += "    __syncthreads();\n";
  s += "  }\n";
  s += "  for (int i = 0; i < 4; ++i)\n";
  s += "    for (int j = 0; j < 4; ++j) {\n";
  s += "      const long long row = row0 + ty * 4 + i, col = col0 + tx * 4 + j;\n";
  s += "      if (row < M && col < C) {\n";
  s += "        const long long lin = row * C + col;\n";
  s += "        const " + T + " accv = acc[i][j];\n";
  s += body_;
  s += "        out[lin] = " + elementName + ";\n";
  s += "      }\n";
  s += "    }\n}\n";
  return s;
}

FailureOr<std::string> KernelWriter::write(Value result, unsigned &tile) {
  if (Operation *product = tiledProduct(result)) {
    tile = 64;
    return writeTiled(result, product);
  }
  tile = 0;
  body_.clear();
  scopes_.assign(1, {});
  indent_ = 4;
  std::string elementName = element(result, "lin");
  if (failedAt_)
    return failedAt_->emitOpError("is not supported by the CUDA target yet"), failure();
  std::string s = header(result);
  s += "  const long long total = " + elements(result) + ";\n";
  s += "  for (long long lin = (long long)blockIdx.x * blockDim.x + threadIdx.x; lin < total;\n"
       "       lin += (long long)blockDim.x * gridDim.x) {\n";
  s += body_;
  s += "    out[lin] = " + elementName + ";\n";
  s += "  }\n}\n";
  return s;
}

} // namespace nncc::cuda
