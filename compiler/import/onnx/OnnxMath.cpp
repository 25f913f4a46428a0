// ONNX elementwise math, comparisons, logic and activations -> nn ops.
#include "compiler/import/onnx/Translator.h"

#include <cmath>
#include <limits>

namespace nncc::onnximport {
namespace {

template <const char *Op> void unary(Translator &t) { t.out(0, t.emit(Op, {t.in(0)})); }
/// Before opset 7 binary ops broadcast only when told to, along `axis`.
void refuseLegacyBroadcast(Translator &t) {
  if (t.opset() < 7 && t.intAttrOr("broadcast", 0))
    t.fail("the legacy broadcast attribute (opset < 7) is not supported");
}
template <const char *Op> void binary(Translator &t) {
  refuseLegacyBroadcast(t);
  t.out(0, t.emit(Op, {t.in(0), t.in(1)}));
}

#define NNCC_OP_NAME(name) constexpr char name##Name[] = #name;
NNCC_OP_NAME(add)
NNCC_OP_NAME(sub)
NNCC_OP_NAME(mul)
NNCC_OP_NAME(div)
NNCC_OP_NAME(equal)
NNCC_OP_NAME(greater)
NNCC_OP_NAME(less)
NNCC_OP_NAME(neg)
NNCC_OP_NAME(exp)
NNCC_OP_NAME(log)
NNCC_OP_NAME(tanh)
NNCC_OP_NAME(sqrt)
NNCC_OP_NAME(sigmoid)
NNCC_OP_NAME(relu)
NNCC_OP_NAME(abs)
NNCC_OP_NAME(floor)
NNCC_OP_NAME(ceil)
NNCC_OP_NAME(sign)
NNCC_OP_NAME(sin)
NNCC_OP_NAME(cos)
NNCC_OP_NAME(erf)
NNCC_OP_NAME(logical_and)
NNCC_OP_NAME(logical_or)
NNCC_OP_NAME(logical_xor)
NNCC_OP_NAME(logical_not)
NNCC_OP_NAME(maximum)
NNCC_OP_NAME(minimum)
#undef NNCC_OP_NAME

/// a <= b as not(a > b): false where either is NaN only for floats'
/// ordered compare; ONNX's LessOrEqual is the same for ordered values.
void lessOrEqual(Translator &t) {
  t.out(0, t.emit("logical_not", {t.emit("greater", {t.in(0), t.in(1)})}));
}
void greaterOrEqual(Translator &t) {
  t.out(0, t.emit("logical_not", {t.emit("less", {t.in(0), t.in(1)})}));
}

void reciprocal(Translator &t) {
  Val x = t.in(0);
  t.out(0, t.emit("div", {t.scalar(1, x), x}));
}

/// Sum, Mean, Max, Min of one or more inputs.
template <const char *Op> Val fold(Translator &t) {
  if (t.node().input_size() < 1)
    t.fail("needs at least one input");
  Val acc = t.in(0);
  for (int i = 1; i < t.node().input_size(); ++i)
    acc = t.emit(Op, {acc, t.in(i)});
  return acc;
}
template <const char *Op> void variadic(Translator &t) {
  Val v = fold<Op>(t);
  if (t.node().input_size() == 1)
    v = t.emit("cast", {v}, {{"dtype", fe::attrType(t.dtype(v))}});
  t.out(0, v);
}
void mean(Translator &t) {
  Val sum = fold<addName>(t);
  t.out(0, t.emit("div", {sum, t.scalar(t.node().input_size(), sum)}));
}

void pow(Translator &t) {
  Val x = t.in(0);
  if (const graph::Tensor *e = t.known(1); e && e->dims_size() == 0) {
    double p = t.knownScalar(1, "the exponent");
    if (p == 2) {
      t.out(0, t.emit("square", {x}));
      return;
    }
    if (p == 1) {
      t.out(0, t.emit("cast", {x}, {{"dtype", fe::attrType(t.dtype(x))}}));
      return;
    }
  }
  Val y = t.in(1);
  graph::DataType dt = t.dtype(x);
  if (dt == graph::I32 || dt == graph::I64) {
    // Integer bases in f64, converted back as ONNX's reference does (toward
    // zero); integer exponents round first, as pow is exact only up to ulps.
    bool intExponent = t.dtype(y) == graph::I32 || t.dtype(y) == graph::I64;
    Attrs f64 = {{"dtype", fe::attrType(graph::F64)}};
    Val p = t.emit("pow", {t.emit("cast", {x}, f64), t.emit("cast", {y}, f64)});
    if (intExponent) {
      // Results under 1 in size (negative exponents) truncate to 0 or +-1.
      Val big = t.emit("logical_not", {t.emit("less", {t.emit("abs", {p}), t.scalar(1, p)})});
      p = t.emit("select", {big, t.emit("floor", {t.emit("add", {p, t.scalar(0.5, p)})}), p});
    }
    t.out(0, t.emit("cast", {p}, {{"dtype", fe::attrType(dt)}}));
    return;
  }
  if (t.dtype(y) != dt)
    y = t.emit("cast", {y}, {{"dtype", fe::attrType(dt)}});
  t.out(0, t.emit("pow", {x, y}));
}

bool isInteger(graph::DataType dt) { return dt == graph::I32 || dt == graph::I64; }

/// x - trunc(x / y) * y (C's fmod; floats in f64), or for integers with
/// fmod = 0 the remainder with the divisor's sign (Python's %).
void mod(Translator &t) {
  Val x = t.in(0), y = t.in(1);
  graph::DataType dt = t.dtype(x);
  if (t.dtype(y) != dt)
    t.fail("the operands differ in type");
  bool fmod = t.intAttrOr("fmod", 0) != 0;
  if (!isInteger(dt)) {
    if (!fmod)
      t.fail("fmod = 0 on floats is not supported (ONNX requires fmod = 1 there)");
    Attrs f64 = {{"dtype", fe::attrType(graph::F64)}};
    Val a = dt == graph::F64 ? x : t.emit("cast", {x}, f64);
    Val b = dt == graph::F64 ? y : t.emit("cast", {y}, f64);
    Val q = t.emit("div", {a, b});
    Val trunc = t.emit("mul", {t.emit("sign", {q}), t.emit("floor", {t.emit("abs", {q})})});
    Val r = t.emit("sub", {a, t.emit("mul", {trunc, b})});
    t.out(0, dt == graph::F64 ? r : t.emit("cast", {r}, {{"dtype", fe::attrType(dt)}}));
    return;
  }
  // nn.div truncates toward zero (x / 0 is 0, so x % 0 is x).
  Val r = t.emit("sub", {x, t.emit("mul", {t.emit("div", {x, y}), y})});
  if (!fmod) {
    Val zero = t.scalar(0, r);
    Val differ = t.emit("logical_xor", {t.emit("less", {r, zero}), t.emit("less", {y, zero})});
    Val fix = t.emit("logical_and", {t.emit("logical_not", {t.emit("equal", {r, zero})}), differ});
    r = t.emit("select", {fix, t.emit("add", {r, y}), r});
  }
  t.out(0, r);
}

/// To the nearest integer, halves to even: floor(x), plus one where the
/// rest is over a half or a half with an odd floor.
void round(Translator &t) {
  Val x = t.in(0);
  Val r = t.emit("floor", {x});
  Val d = t.emit("sub", {x, r});
  Val half = t.scalar(0.5, x);
  Val odd = t.emit(
      "equal",
      {t.emit("sub",
              {r, t.emit("mul", {t.scalar(2, x), t.emit("floor", {t.emit("mul", {r, half})})})}),
       t.scalar(1, x)});
  Val up = t.emit("logical_or", {t.emit("greater", {d, half}),
                                 t.emit("logical_and", {t.emit("equal", {d, half}), odd})});
  t.out(0, t.emit("select", {up, t.emit("add", {r, t.scalar(1, x)}), r}));
}

/// The inverse trigonometric and hyperbolic functions, in f64 (an f32 input
/// converts there and back), from log, sqrt and an arctangent.
Val inF64(Translator &t, const Val &x) {
  if (t.dtype(x) != graph::F32 && t.dtype(x) != graph::F64)
    t.fail("needs a float input");
  return t.dtype(x) == graph::F64 ? x : t.emit("cast", {x}, {{"dtype", fe::attrType(graph::F64)}});
}
void outAs(Translator &t, const Val &y, const Val &like) {
  t.out(0, t.dtype(like) == graph::F64
               ? y
               : t.emit("cast", {y}, {{"dtype", fe::attrType(t.dtype(like))}}));
}

/// atan(x): |x| > 1 as pi/2 - atan(1/|x|), over tan(pi/8) as pi/4 +
/// atan((a-1)/(a+1)), then Cephes' atanf polynomial (relative error ~1e-7).
Val atanOf(Translator &t, const Val &x) {
  auto c = [&](double v) { return t.scalar(v, x); };
  auto mul = [&](const Val &a, const Val &b) { return t.emit("mul", {a, b}); };
  auto add = [&](const Val &a, const Val &b) { return t.emit("add", {a, b}); };
  Val a = t.emit("abs", {x});
  Val big = t.emit("greater", {a, c(1)});
  Val r = t.emit("select", {big, t.emit("div", {c(1), a}), a});
  Val mid = t.emit("greater", {r, c(0.4142135623730950)});
  Val u = t.emit("select", {mid, t.emit("div", {t.emit("sub", {r, c(1)}), add(r, c(1))}), r});
  Val z = mul(u, u);
  Val p = add(mul(c(8.05374449538e-2), z), c(-1.38776856032e-1));
  p = add(mul(p, z), c(1.99777106478e-1));
  p = add(mul(p, z), c(-3.33329491539e-1));
  p = add(mul(mul(p, z), u), u);
  p = add(p, t.emit("select", {mid, c(M_PI / 4), c(0)}));
  p = t.emit("select", {big, t.emit("sub", {c(M_PI / 2), p}), p});
  return mul(t.emit("sign", {x}), p);
}

void atan(Translator &t) {
  Val x = t.in(0);
  outAs(t, atanOf(t, inF64(t, x)), x);
}
/// asin(x) = atan(x / sqrt(1 - x^2)).
void asin(Translator &t) {
  Val x = t.in(0), d = inF64(t, x);
  Val root = t.emit("sqrt", {t.emit("sub", {t.scalar(1, d), t.emit("square", {d})})});
  outAs(t, atanOf(t, t.emit("div", {d, root})), x);
}
/// acos(x) = 2 atan(sqrt((1 - x) / (1 + x))), accurate near 1.
void acos(Translator &t) {
  Val x = t.in(0), d = inF64(t, x);
  Val q = t.emit("div", {t.emit("sub", {t.scalar(1, d), d}), t.emit("add", {t.scalar(1, d), d})});
  outAs(t, t.emit("mul", {t.scalar(2, d), atanOf(t, t.emit("sqrt", {q}))}), x);
}
/// asinh(x) = sign(x) log(|x| + sqrt(x^2 + 1)).
void asinh(Translator &t) {
  Val x = t.in(0), d = inF64(t, x), a = t.emit("abs", {d});
  Val root = t.emit("sqrt", {t.emit("add", {t.emit("square", {d}), t.scalar(1, d)})});
  outAs(t, t.emit("mul", {t.emit("sign", {d}), t.emit("log", {t.emit("add", {a, root})})}), x);
}
/// acosh(x) = log(x + sqrt(x^2 - 1)).
void acosh(Translator &t) {
  Val x = t.in(0), d = inF64(t, x);
  Val root = t.emit("sqrt", {t.emit("sub", {t.emit("square", {d}), t.scalar(1, d)})});
  outAs(t, t.emit("log", {t.emit("add", {d, root})}), x);
}
/// atanh(x) = log((1 + x) / (1 - x)) / 2.
void atanh(Translator &t) {
  Val x = t.in(0), d = inF64(t, x);
  Val q = t.emit("div", {t.emit("add", {t.scalar(1, d), d}), t.emit("sub", {t.scalar(1, d), d})});
  outAs(t, t.emit("mul", {t.scalar(0.5, d), t.emit("log", {q})}), x);
}

/// min(max(x, lo), hi); the bounds are attributes before opset 11, inputs
/// after.
void clip(Translator &t) {
  Val x = t.in(0);
  std::optional<Val> lo, hi;
  if (t.opset() < 11) {
    if (t.attr("min"))
      lo = t.scalar(t.floatAttrOr("min", 0), x);
    if (t.attr("max"))
      hi = t.scalar(t.floatAttrOr("max", 0), x);
  } else {
    if (t.has(1))
      lo = t.in(1);
    if (t.has(2))
      hi = t.in(2);
  }
  if (lo)
    x = t.emit("maximum", {x, *lo});
  if (hi)
    x = t.emit("minimum", {x, *hi});
  if (!lo && !hi)
    x = t.emit("cast", {x}, {{"dtype", fe::attrType(t.dtype(x))}});
  t.out(0, x);
}

void where(Translator &t) { t.out(0, t.emit("select", {t.in(0), t.in(1), t.in(2)})); }

/// The negative part's exponential, exp(min(x, 0) / scale) - 1, of ELU-like
/// activations: -relu(-x) is min(x, 0).
Val expm1OfNegativePart(Translator &t, const Val &x, double scale) {
  Val neg = t.emit("neg", {t.emit("relu", {t.emit("neg", {x})})});
  if (scale != 1)
    neg = t.emit("div", {neg, t.scalar(scale, x)});
  return t.emit("sub", {t.emit("exp", {neg}), t.scalar(1, x)});
}

void elu(Translator &t) {
  Val x = t.in(0);
  double alpha = t.floatAttrOr("alpha", 1.0f);
  Val negative = t.emit("mul", {t.scalar(alpha, x), expm1OfNegativePart(t, x, 1)});
  t.out(0, t.emit("add", {t.emit("relu", {x}), negative}));
}

void celu(Translator &t) {
  Val x = t.in(0);
  double alpha = t.floatAttrOr("alpha", 1.0f);
  Val negative = t.emit("mul", {t.scalar(alpha, x), expm1OfNegativePart(t, x, alpha)});
  t.out(0, t.emit("add", {t.emit("relu", {x}), negative}));
}

void selu(Translator &t) {
  Val x = t.in(0);
  double alpha = t.floatAttrOr("alpha", 1.67326319217681884765625f);
  double gamma = t.floatAttrOr("gamma", 1.05070102214813232421875f);
  Val negative = t.emit("mul", {t.scalar(alpha, x), expm1OfNegativePart(t, x, 1)});
  Val sum = t.emit("add", {t.emit("relu", {x}), negative});
  t.out(0, t.emit("mul", {t.scalar(gamma, x), sum}));
}

void leakyRelu(Translator &t) {
  Val x = t.in(0);
  double alpha = t.floatAttrOr("alpha", 0.01f);
  Val negative = t.emit("mul", {t.scalar(alpha, x), t.emit("relu", {t.emit("neg", {x})})});
  t.out(0, t.emit("sub", {t.emit("relu", {x}), negative}));
}

void thresholdedRelu(Translator &t) {
  Val x = t.in(0);
  double alpha = t.floatAttrOr("alpha", 1.0f);
  Val above = t.emit("greater", {x, t.scalar(alpha, x)});
  t.out(0, t.emit("select", {above, x, t.scalar(0, x)}));
}

/// max(0, min(1, alpha * x + beta)).
Val hardSigmoidOf(Translator &t, const Val &x, double alpha, double beta) {
  Val y = t.emit("add", {t.emit("mul", {t.scalar(alpha, x), x}), t.scalar(beta, x)});
  return t.emit("maximum", {t.emit("minimum", {y, t.scalar(1, x)}), t.scalar(0, x)});
}

void hardSigmoid(Translator &t) {
  Val x = t.in(0);
  t.out(0, hardSigmoidOf(t, x, t.floatAttrOr("alpha", 0.2f), t.floatAttrOr("beta", 0.5f)));
}

void hardSwish(Translator &t) {
  Val x = t.in(0);
  t.out(0, t.emit("mul", {x, hardSigmoidOf(t, x, 1.0 / 6, 0.5)}));
}

/// log(1 + exp(x)), as max(x, 0) + log(1 + exp(-|x|)) so that large x do
/// not overflow.
void softplus(Translator &t) {
  Val x = t.in(0);
  Val tail = t.emit("log", {t.emit("add", {t.scalar(1, x),
                                           t.emit("exp", {t.emit("neg", {t.emit("abs", {x})})})})});
  t.out(0, t.emit("add", {t.emit("relu", {x}), tail}));
}

void softsign(Translator &t) {
  Val x = t.in(0);
  t.out(0, t.emit("div", {x, t.emit("add", {t.scalar(1, x), t.emit("abs", {x})})}));
}

void prelu(Translator &t) {
  Val x = t.in(0), slope = t.in(1);
  Val negative = t.emit("mul", {slope, t.emit("minimum", {x, t.scalar(0, x)})});
  t.out(0, t.emit("add", {t.emit("relu", {x}), negative}));
}

void tan(Translator &t) {
  Val x = t.in(0);
  t.out(0, t.emit("div", {t.emit("sin", {x}), t.emit("cos", {x})}));
}

void sinh(Translator &t) {
  Val x = t.in(0);
  Val d = t.emit("sub", {t.emit("exp", {x}), t.emit("exp", {t.emit("neg", {x})})});
  t.out(0, t.emit("div", {d, t.scalar(2, x)}));
}

void cosh(Translator &t) {
  Val x = t.in(0);
  Val s = t.emit("add", {t.emit("exp", {x}), t.emit("exp", {t.emit("neg", {x})})});
  t.out(0, t.emit("div", {s, t.scalar(2, x)}));
}

void isNaN(Translator &t) {
  Val x = t.in(0);
  t.out(0, t.emit("logical_not", {t.emit("equal", {x, x})}));
}

void isInf(Translator &t) {
  Val x = t.in(0);
  double inf = std::numeric_limits<double>::infinity();
  bool positive = t.intAttrOr("detect_positive", 1), negative = t.intAttrOr("detect_negative", 1);
  Val pos = t.emit("equal", {x, t.scalar(inf, x)}), neg = t.emit("equal", {x, t.scalar(-inf, x)});
  if (positive && negative)
    t.out(0, t.emit("logical_or", {pos, neg}));
  else if (positive)
    t.out(0, pos);
  else if (negative)
    t.out(0, neg);
  else
    t.out(0, t.emit("logical_and", {pos, neg}));
}

/// x + bias below -lambd, x - bias above lambd, 0 between.
void shrink(Translator &t) {
  Val x = t.in(0);
  double bias = t.floatAttrOr("bias", 0), lambd = t.floatAttrOr("lambd", 0.5f);
  Val low = t.emit("less", {x, t.scalar(-lambd, x)}),
      high = t.emit("greater", {x, t.scalar(lambd, x)});
  Val zero = t.scalar(0, x);
  Val y = t.emit("select", {high, t.emit("sub", {x, t.scalar(bias, x)}), zero});
  t.out(0, t.emit("select", {low, t.emit("add", {x, t.scalar(bias, x)}), y}));
}

} // namespace

void addMathRules(std::map<std::string, Rule> &r) {
  r["Add"] = binary<addName>;
  r["Sub"] = binary<subName>;
  r["Mul"] = binary<mulName>;
  r["Div"] = binary<divName>;
  r["Pow"] = pow;
  r["Mod"] = mod;
  r["Round"] = round;
  r["Atan"] = atan;
  r["Asin"] = asin;
  r["Acos"] = acos;
  r["Asinh"] = asinh;
  r["Acosh"] = acosh;
  r["Atanh"] = atanh;
  r["Equal"] = binary<equalName>;
  r["Greater"] = binary<greaterName>;
  r["Less"] = binary<lessName>;
  r["LessOrEqual"] = lessOrEqual;
  r["GreaterOrEqual"] = greaterOrEqual;
  r["And"] = binary<logical_andName>;
  r["Or"] = binary<logical_orName>;
  r["Xor"] = binary<logical_xorName>;
  r["Not"] = unary<logical_notName>;
  r["Neg"] = unary<negName>;
  r["Abs"] = unary<absName>;
  r["Exp"] = unary<expName>;
  r["Log"] = unary<logName>;
  r["Sqrt"] = unary<sqrtName>;
  r["Reciprocal"] = reciprocal;
  r["Floor"] = unary<floorName>;
  r["Ceil"] = unary<ceilName>;
  r["Sign"] = unary<signName>;
  r["Sin"] = unary<sinName>;
  r["Cos"] = unary<cosName>;
  r["Tan"] = tan;
  r["Sinh"] = sinh;
  r["Cosh"] = cosh;
  r["Erf"] = unary<erfName>;
  r["Tanh"] = unary<tanhName>;
  r["Sigmoid"] = unary<sigmoidName>;
  r["Relu"] = unary<reluName>;
  r["LeakyRelu"] = leakyRelu;
  r["PRelu"] = prelu;
  r["ThresholdedRelu"] = thresholdedRelu;
  r["Elu"] = elu;
  r["Celu"] = celu;
  r["Selu"] = selu;
  r["HardSigmoid"] = hardSigmoid;
  r["HardSwish"] = hardSwish;
  r["Softplus"] = softplus;
  r["Softsign"] = softsign;
  r["Sum"] = variadic<addName>;
  r["Max"] = variadic<maximumName>;
  r["Min"] = variadic<minimumName>;
  r["Mean"] = mean;
  r["Clip"] = clip;
  r["Where"] = where;
  r["IsNaN"] = isNaN;
  r["IsInf"] = isInf;
  r["Shrink"] = shrink;
}

} // namespace nncc::onnximport
