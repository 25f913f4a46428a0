// Numerical gradient checks of every differentiable nn op: a float64 model
// y = reduce_sum(op(x...) * C), C fixed and random, gets d(y)/d(x) from a
// `gradients` node (nn-autodiff, the VJP rules of Gradients.cpp, the CPU
// lowering) and from central differences of the compiled forward pass.
#include "test/e2e/OpsTestSupport.h"

#include "compiler/driver/Jit.h"

#include <gmock/gmock.h>

using namespace nncc::test::ops;

namespace {

/// A placeholder of the model; `decl` is its declared shape (-1 unknown),
/// `value.shape` the fed one.
struct Input {
  std::string name;
  DType dtype;
  Array value;
  bool differentiate = true;
  std::optional<Shape> decl = std::nullopt;
};

struct GradCase {
  std::vector<Input> inputs;
  std::string body; ///< nodes computing "out" from the inputs
  Shape outShape;   ///< the fed shape of "out"
  double h = 1e-6;
  double tol = 1e-6; ///< relative and absolute
};

std::string graphText(const GradCase &c) {
  std::string g = "name: \"gradcheck\"\n";
  std::vector<std::string> feeds, xs;
  for (const Input &in : c.inputs) {
    g += placeholder(in.name, protoName(in.dtype), in.decl ? *in.decl : in.value.shape);
    feeds.push_back(in.name);
    if (in.differentiate)
      xs.push_back(in.name);
  }
  g += placeholder("C", "F64", c.outShape);
  feeds.push_back("C");
  g += c.body;
  g += node("weighted", "mul", {"out", "C"});
  g += node("y", "reduce_sum", {"weighted"});
  std::vector<std::string> gradInputs = {"y"};
  gradInputs.insert(gradInputs.end(), xs.begin(), xs.end());
  g += node("grad", "gradients", gradInputs);
  std::string feedText;
  for (const auto &f : feeds)
    feedText += " feeds: \"" + f + "\"";
  g += "signatures { name: \"forward\"" + feedText + " fetches: \"y\" }\n";
  g += "signatures { name: \"backward\"" + feedText;
  for (size_t k = 0; k < xs.size(); ++k)
    g += " fetches: \"grad:" + std::to_string(k) + "\"";
  return g + " }\n";
}

/// Compares every element of every gradient with central differences.
void checkGradients(const GradCase &c) {
  std::string text = graphText(c);
  SCOPED_TRACE(text);
  auto exe = nncc::test::compileText(text);
  ASSERT_TRUE(exe);
  nncc::rt::Session s(exe);
  ASSERT_TRUE(s.initialize().ok());

  std::mt19937 rng(1234);
  TensorMap feeds;
  for (const Input &in : c.inputs)
    feeds[in.name] = tensor(in.value, in.dtype);
  feeds["C"] = tensor(randomArray(c.outShape, DType::F64, -1, 1, rng), DType::F64);

  auto analytic = s.run("backward", feeds);
  ASSERT_TRUE(analytic.ok()) << analytic.error();
#ifdef NNCC_OPS_ON_CUDA
  // The CUDA target's gradients are the CPU's (which are checked below).
  CudaMirror mirror(text);
  mirror.expectSame("backward", feeds, *analytic, mirror.variablesBefore("backward", s));
#endif
  auto y = [&](const TensorMap &f) {
    auto out = s.run("forward", f);
    EXPECT_TRUE(out.ok()) << out.error();
    return out.ok() ? out->at("y").toDoubles()[0] : NAN;
  };

  int k = 0;
  for (const Input &in : c.inputs) {
    if (!in.differentiate)
      continue;
    std::string fetch = "grad:" + std::to_string(k++);
    SCOPED_TRACE("d(y)/d(" + in.name + ") = " + fetch);
    Array numeric{in.value.shape, {}};
    for (size_t i = 0; i < in.value.size(); ++i) {
      TensorMap f = feeds;
      Array x = in.value;
      x.values[i] = in.value.values[i] + c.h;
      f[in.name] = tensor(x, in.dtype);
      double up = y(f);
      x.values[i] = in.value.values[i] - c.h;
      f[in.name] = tensor(x, in.dtype);
      double down = y(f);
      numeric.values.push_back((up - down) / (2 * c.h));
    }
    expectClose(*analytic, fetch, in.dtype, numeric, c.tol, c.tol);
  }
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

class GradientCheck : public ::testing::Test {
protected:
  std::mt19937 rng{7};

  /// F64 in [lo, hi).
  Input x(const std::string &name, const Shape &shape, double lo = -1, double hi = 1) {
    return {name, DType::F64, randomArray(shape, DType::F64, lo, hi, rng)};
  }
  /// F64 with |x| in [0.1, 1): away from relu's kink.
  Input awayFromZero(const std::string &name, const Shape &shape) {
    Input in = x(name, shape, 0.1, 1);
    for (double &v : in.value.values)
      v = (rng() & 1) ? v : -v;
    return in;
  }
  /// Float one-hot rows over the last axis of `shape`.
  Input oneHot(const std::string &name, const Shape &shape) {
    Input in{name, DType::F64, {shape, std::vector<double>(count(shape), 0.0)}};
    int64_t classes = shape.back();
    for (int64_t row = 0; row < count(shape) / classes; ++row)
      in.value.values[row * classes + rng() % classes] = 1.0;
    return in;
  }
  /// Integer class indices in [0, classes), not differentiated.
  Input classes(const std::string &name, const Shape &shape, int64_t classes) {
    Input in{name, DType::I32, randomArray(shape, DType::I32, 0, classes - 1, rng)};
    in.differentiate = false;
    return in;
  }

  void binaryOp(const std::string &op, const Shape &a, const Shape &b, double lo = -1,
                double hi = 1) {
    SCOPED_TRACE(op + " " + nncc::rt::shapeString(a) + " " + nncc::rt::shapeString(b));
    checkGradients(
        {{x("a", a), x("b", b, lo, hi)}, node("out", op, {"a", "b"}), broadcastShape(a, b)});
  }
  void binaryOpAllShapes(const std::string &op, double lo = -1, double hi = 1) {
    binaryOp(op, {3, 4}, {3, 4}, lo, hi);
    binaryOp(op, {3, 4}, {4}, lo, hi);
    binaryOp(op, {4}, {3, 4}, lo, hi);
    binaryOp(op, {3, 1}, {1, 4}, lo, hi);
    binaryOp(op, {}, {3}, lo, hi);
    binaryOp(op, {3}, {}, lo, hi);
    binaryOp(op, {2, 1, 4}, {3, 1}, lo, hi);
  }
  void unaryOp(const std::string &op, Input in) {
    SCOPED_TRACE(op);
    Shape shape = in.value.shape;
    checkGradients({{in}, node("out", op, {in.name}), shape});
  }
  void matmulOp(const Shape &a, const Shape &b, bool ta, bool tb) {
    SCOPED_TRACE("matmul " + nncc::rt::shapeString(a) + " " + nncc::rt::shapeString(b) +
                 (ta ? " transpose_a" : "") + (tb ? " transpose_b" : ""));
    Input ia = x("a", a), ib = x("b", b);
    Shape out = matmul(ia.value, ib.value, ta, tb).shape;
    checkGradients({{ia, ib},
                    node("out", "matmul", {"a", "b"},
                         boolAttr("transpose_a", ta) + boolAttr("transpose_b", tb)),
                    out});
  }
  /// conv2d's gradients for the images and the filter.
  void conv2dOp(const Shape &image, const Shape &filter, const std::vector<int64_t> &strides,
                const std::string &padding, const std::vector<int64_t> &dilations) {
    SCOPED_TRACE("conv2d " + nncc::rt::shapeString(image) + " " + nncc::rt::shapeString(filter) +
                 " " + padding);
    Input ix = x("x", image), ifl = x("f", filter);
    Shape out = conv2d(ix.value, ifl.value, strides, padding, dilations).shape;
    checkGradients({{ix, ifl},
                    node("out", "conv2d", {"x", "f"},
                         intsAttr("strides", strides) + intsAttr("dilations", dilations) +
                             "attrs { key: \"padding\" value { s: \"" + padding + "\" } } "),
                    out});
  }
  void reduceOp(const std::string &op, const Shape &shape, const std::vector<int64_t> &axes,
                bool keepDims) {
    std::string axesText;
    for (int64_t a : axes)
      axesText += " " + std::to_string(a);
    SCOPED_TRACE(op + " " + nncc::rt::shapeString(shape) + " axes" + axesText +
                 (keepDims ? " keep_dims" : ""));
    Input in = x("a", shape);
    Shape out = reduce(in.value, axes, keepDims, 0, [](double s, double v) { return s + v; }).shape;
    std::string attrs = (axes.empty() ? "" : intsAttr("axes", axes)) +
                        (keepDims ? boolAttr("keep_dims", true) : "");
    checkGradients({{in}, node("out", op, {"a"}, attrs), out});
  }
  void reduceOpAllAxes(const std::string &op) {
    reduceOp(op, {3, 4}, {1}, false);
    reduceOp(op, {3, 4}, {0}, true);
    reduceOp(op, {3, 4}, {-1}, true);
    reduceOp(op, {2, 3, 4}, {0, 2}, false);
    reduceOp(op, {2, 3, 4}, {2, 0}, true);
    reduceOp(op, {2, 3, 4}, {}, false);
    reduceOp(op, {2, 3, 4}, {}, true);
    reduceOp(op, {5}, {0}, false);
  }
};

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, Add) { binaryOpAllShapes("add"); }
TEST_F(GradientCheck, Sub) { binaryOpAllShapes("sub"); }
TEST_F(GradientCheck, Mul) { binaryOpAllShapes("mul"); }
TEST_F(GradientCheck, Div) { binaryOpAllShapes("div", 0.5, 2); }

TEST_F(GradientCheck, Conv2D) {
  conv2dOp({2, 5, 5, 2}, {3, 3, 2, 3}, {1, 1}, "VALID", {1, 1});
  conv2dOp({2, 5, 6, 2}, {3, 2, 2, 3}, {2, 2}, "SAME", {1, 1});
  conv2dOp({1, 7, 6, 1}, {2, 3, 1, 2}, {2, 1}, "VALID", {2, 1});
  conv2dOp({1, 6, 6, 2}, {2, 2, 2, 2}, {1, 2}, "SAME", {2, 2});
}

TEST_F(GradientCheck, Pools) {
  // 4x6 images with 2x2 windows of stride 2 tile them (the CPU's tiled form
  // of max_pool_grad); 5x4 ones leave a row over (the general form).
  for (const char *op : {"max_pool", "avg_pool"})
    for (auto [rows, padding, ksize, strides] :
         {std::tuple<int64_t, std::string, std::vector<int64_t>, std::vector<int64_t>>{
              5, "VALID", {2, 2}, {2, 2}},
          {4, "VALID", {2, 2}, {2, 2}},
          {4, "SAME", {2, 2}, {2, 2}},
          {5, "SAME", {3, 2}, {2, 1}},
          {5, "SAME", {2, 2}, {1, 1}}}) {
      SCOPED_TRACE(std::string(op) + " " + padding + " " + std::to_string(rows) + " rows");
      Input in = x("x", {2, rows, rows == 4 ? 6 : 4, 2});
      Shape out = pool(in.value, ksize, strides, padding, true).shape;
      checkGradients({{in},
                      node("out", op, {"x"},
                           intsAttr("ksize", ksize) + intsAttr("strides", strides) +
                               "attrs { key: \"padding\" value { s: \"" + padding + "\" } } "),
                      out});
    }
}

TEST_F(GradientCheck, Neg) { unaryOp("neg", x("a", {3, 4})); }
TEST_F(GradientCheck, Square) { unaryOp("square", x("a", {3, 4})); }
TEST_F(GradientCheck, Exp) { unaryOp("exp", x("a", {3, 4})); }
TEST_F(GradientCheck, Log) { unaryOp("log", x("a", {3, 4}, 0.2, 3)); }
TEST_F(GradientCheck, Sqrt) { unaryOp("sqrt", x("a", {3, 4}, 0.2, 3)); }
TEST_F(GradientCheck, Tanh) { unaryOp("tanh", x("a", {3, 4}, -2, 2)); }
TEST_F(GradientCheck, Sigmoid) { unaryOp("sigmoid", x("a", {3, 4}, -3, 3)); }
TEST_F(GradientCheck, Relu) { unaryOp("relu", awayFromZero("a", {3, 4})); }
TEST_F(GradientCheck, ScalarUnary) { unaryOp("tanh", x("a", {})); }

//===----------------------------------------------------------------------===//
// Network ops
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, MatMul) {
  matmulOp({3, 4}, {4, 5}, false, false);
  matmulOp({4, 3}, {4, 5}, true, false);
  matmulOp({3, 4}, {5, 4}, false, true);
  matmulOp({4, 3}, {5, 4}, true, true);
}

TEST_F(GradientCheck, MatMulBatched) {
  matmulOp({2, 3, 4}, {2, 4, 5}, false, false);
  matmulOp({2, 4, 3}, {2, 5, 4}, true, true);
}

TEST_F(GradientCheck, MatMulBroadcastBatch) {
  matmulOp({2, 3, 4}, {4, 5}, false, false);
  matmulOp({2, 4, 3}, {4, 5}, true, false);
  matmulOp({2, 3, 4}, {5, 4}, false, true);
  matmulOp({3, 4}, {2, 4, 5}, false, false);
  matmulOp({2, 1, 3, 4}, {3, 4, 5}, false, false);
}

TEST_F(GradientCheck, BiasAdd) {
  checkGradients({{x("a", {3, 4}), x("b", {4})}, node("out", "bias_add", {"a", "b"}), {3, 4}});
  checkGradients(
      {{x("a", {2, 3, 4}), x("b", {4})}, node("out", "bias_add", {"a", "b"}), {2, 3, 4}});
}

TEST_F(GradientCheck, Softmax) {
  checkGradients({{x("a", {3, 4}, -2, 2)}, node("out", "softmax", {"a"}), {3, 4}});
  checkGradients(
      {{x("a", {3, 4}, -2, 2)}, node("out", "softmax", {"a"}, intAttr("axis", 0)), {3, 4}});
  checkGradients(
      {{x("a", {2, 3, 4}, -2, 2)}, node("out", "softmax", {"a"}, intAttr("axis", 1)), {2, 3, 4}});
}

TEST_F(GradientCheck, LogSoftmax) {
  checkGradients({{x("a", {3, 4}, -2, 2)}, node("out", "log_softmax", {"a"}), {3, 4}});
  checkGradients(
      {{x("a", {3, 4}, -2, 2)}, node("out", "log_softmax", {"a"}, intAttr("axis", 0)), {3, 4}});
  checkGradients({{x("a", {2, 3, 4}, -2, 2)},
                  node("out", "log_softmax", {"a"}, intAttr("axis", -2)),
                  {2, 3, 4}});
}

TEST_F(GradientCheck, SoftmaxCrossEntropyOneHot) {
  checkGradients({{x("logits", {3, 4}, -2, 2), oneHot("labels", {3, 4})},
                  node("out", "softmax_cross_entropy", {"logits", "labels"}),
                  {3}});
  checkGradients({{x("logits", {2, 3, 5}, -2, 2), oneHot("labels", {2, 3, 5})},
                  node("out", "softmax_cross_entropy", {"logits", "labels"}),
                  {2, 3}});
}

TEST_F(GradientCheck, SoftmaxCrossEntropySparse) {
  checkGradients({{x("logits", {3, 4}, -2, 2), classes("labels", {3}, 4)},
                  node("out", "softmax_cross_entropy", {"logits", "labels"}),
                  {3}});
  checkGradients({{x("logits", {2, 3, 5}, -2, 2), classes("labels", {2, 3}, 5)},
                  node("out", "softmax_cross_entropy", {"logits", "labels"}),
                  {2, 3}});
}

TEST_F(GradientCheck, MeanSquaredError) {
  checkGradients(
      {{x("p", {3, 4}), x("t", {3, 4})}, node("out", "mean_squared_error", {"p", "t"}), {}});
  checkGradients(
      {{x("p", {3, 4}), x("t", {4})}, node("out", "mean_squared_error", {"p", "t"}), {}});
  checkGradients(
      {{x("p", {3, 1}), x("t", {1, 4})}, node("out", "mean_squared_error", {"p", "t"}), {}});
  checkGradients({{x("p", {}), x("t", {5})}, node("out", "mean_squared_error", {"p", "t"}), {}});
}

//===----------------------------------------------------------------------===//
// Shapes, reductions, casts
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, Reshape) {
  checkGradients(
      {{x("a", {3, 4})}, node("out", "reshape", {"a"}, intsAttr("shape", {2, -1})), {2, 6}});
  checkGradients(
      {{x("a", {2, 3, 4})}, node("out", "reshape", {"a"}, intsAttr("shape", {-1})), {24}});
  checkGradients(
      {{x("a", {6})}, node("out", "reshape", {"a"}, intsAttr("shape", {3, 1, 2})), {3, 1, 2}});
}

TEST_F(GradientCheck, Squeeze) {
  checkGradients(
      {{x("a", {3, 1, 4})}, node("out", "squeeze", {"a"}, intsAttr("axes", {1})), {3, 4}});
  checkGradients({{x("a", {1, 3, 1})}, node("out", "squeeze", {"a"}), {3}});
}

TEST_F(GradientCheck, ReduceSum) { reduceOpAllAxes("reduce_sum"); }
TEST_F(GradientCheck, ReduceMean) { reduceOpAllAxes("reduce_mean"); }
TEST_F(GradientCheck, ReduceMax) { reduceOpAllAxes("reduce_max"); }
TEST_F(GradientCheck, ReduceMin) { reduceOpAllAxes("reduce_min"); }
TEST_F(GradientCheck, ReduceProd) {
  reduceOpAllAxes("reduce_prod");
  // Zeros: the product of the others, exact (one zero in a row, two zeros
  // in another).
  Input a = x("a", {3, 4});
  a.value.values[1] = 0;
  a.value.values[8] = a.value.values[10] = 0;
  checkGradients({{a}, node("out", "reduce_prod", {"a"}, intsAttr("axes", {1})), {3}});
}

//===----------------------------------------------------------------------===//
// maximum, minimum, pow, select, and the new unary ops
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, MaximumAndMinimum) {
  // Random operands never tie.
  binaryOpAllShapes("maximum");
  binaryOpAllShapes("minimum");
}

TEST_F(GradientCheck, Pow) {
  // x > 0; the exponent of either sign.
  for (auto [a, b] :
       {std::pair<Shape, Shape>{{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{3, 1}, {1, 4}}, {{}, {3}}}) {
    SCOPED_TRACE("pow " + nncc::rt::shapeString(a) + " " + nncc::rt::shapeString(b));
    checkGradients({{x("a", a, 0.3, 2), x("b", b, -2, 2)},
                    node("out", "pow", {"a", "b"}),
                    broadcastShape(a, b),
                    1e-6,
                    1e-5});
  }
}

TEST_F(GradientCheck, Select) {
  std::mt19937 bits(3);
  auto cond = [&](const Shape &shape) {
    Input in{"c", DType::Bool, randomArray(shape, DType::Bool, 0, 1, bits)};
    in.differentiate = false;
    return in;
  };
  checkGradients({{cond({3, 4}), x("a", {3, 4}), x("b", {3, 4})},
                  node("out", "select", {"c", "a", "b"}),
                  {3, 4}});
  // All three broadcast: [3, 1], [4], [] -> [3, 4].
  checkGradients(
      {{cond({3, 1}), x("a", {4}), x("b", {})}, node("out", "select", {"c", "a", "b"}), {3, 4}});
  checkGradients({{cond({4}), x("a", {3, 1}), x("b", {2, 1, 1})},
                  node("out", "select", {"c", "a", "b"}),
                  {2, 3, 4}});
}

TEST_F(GradientCheck, Abs) { unaryOp("abs", awayFromZero("a", {3, 4})); }
TEST_F(GradientCheck, Sin) { unaryOp("sin", x("a", {3, 4}, -3, 3)); }
TEST_F(GradientCheck, Cos) { unaryOp("cos", x("a", {3, 4}, -3, 3)); }
TEST_F(GradientCheck, Erf) { unaryOp("erf", x("a", {3, 4}, -2, 2)); }
TEST_F(GradientCheck, PiecewiseConstantOpsHaveZeroGradients) {
  // Away from the steps: central differences are 0 too.
  Input a = x("a", {3, 4}, -3, 3);
  for (double &v : a.value.values)
    v = std::floor(v) + 0.5;
  for (const char *op : {"floor", "ceil", "sign"})
    unaryOp(op, a);
}

//===----------------------------------------------------------------------===//
// transpose, slice
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, Transpose) {
  checkGradients(
      {{x("a", {3, 4})}, node("out", "transpose", {"a"}, intsAttr("perm", {1, 0})), {4, 3}});
  checkGradients({{x("a", {2, 3, 4})},
                  node("out", "transpose", {"a"}, intsAttr("perm", {2, 0, 1})),
                  {4, 2, 3}});
  Input u = x("u", {5, 3});
  u.decl = Shape{-1, 3};
  checkGradients({{u}, node("out", "transpose", {"u"}, intsAttr("perm", {1, 0})), {3, 5}});
}

TEST_F(GradientCheck, Concat) {
  checkGradients({{x("a", {3, 2}), x("b", {3, 4}), x("c", {3, 1})},
                  node("out", "concat", {"a", "b", "c"}, intAttr("axis", 1)),
                  {3, 7}});
  checkGradients({{x("a", {2, 3}), x("b", {1, 3})},
                  node("out", "concat", {"a", "b", "a"}, intAttr("axis", 0)),
                  {5, 3}});
  Input u = x("u", {4, 2}), v = x("v", {4, 3});
  u.decl = Shape{-1, 2};
  v.decl = Shape{-1, 3};
  checkGradients({{u, v}, node("out", "concat", {"u", "v"}, intAttr("axis", -1)), {4, 5}});
}

TEST_F(GradientCheck, Slice) {
  checkGradients(
      {{x("a", {4, 5})},
       node("out", "slice", {"a"}, intsAttr("begins", {1, 2}) + intsAttr("sizes", {2, -1})),
       {2, 3}});
  Input u = x("u", {5, 3});
  u.decl = Shape{-1, 3};
  checkGradients(
      {{u},
       node("out", "slice", {"u"}, intsAttr("begins", {2, 0}) + intsAttr("sizes", {-1, 2})),
       {3, 2}});
}

TEST_F(GradientCheck, CastChains) {
  // Through f32 the inputs and steps are multiples of 2^-12: exact in f32.
  const double h = 1.0 / 4096;
  auto exact = [&](const std::string &name, const Shape &shape) {
    Input in = x(name, shape);
    for (double &v : in.value.values)
      v = std::round(v * 4096) / 4096;
    return in;
  };
  std::string chain = node("c32", "cast", {"a"}, typeAttr("dtype", "F32")) +
                      node("c64", "cast", {"c32"}, typeAttr("dtype", "F64"));
  checkGradients({{exact("a", {3, 4})}, chain + node("out", "tanh", {"c64"}), {3, 4}, h, 1e-6});
  // f64 -> f32 -> f64 -> f32 -> f64, added to the input itself (fan-out).
  std::string twice = chain + node("d32", "cast", {"c64"}, typeAttr("dtype", "F32")) +
                      node("d64", "cast", {"d32"}, typeAttr("dtype", "F64")) +
                      node("sq", "square", {"d64"}) + node("out", "add", {"sq", "a"});
  checkGradients({{exact("a", {5})}, twice, {5}, h, 1e-6});
}

//===----------------------------------------------------------------------===//
// Graph structure: fan-out, unknown dimensions, composites
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, FanOutAccumulates) {
  // out = a*a + tanh(a) * b: a is used three times.
  checkGradients({{x("a", {3, 4}), x("b", {4})},
                  node("aa", "mul", {"a", "a"}) + node("t", "tanh", {"a"}) +
                      node("tb", "mul", {"t", "b"}) + node("out", "add", {"aa", "tb"}),
                  {3, 4}});
  // The same value on two paths that meet again after a reduction.
  checkGradients(
      {{x("a", {3, 4}, 0.5, 2)},
       node("s", "reduce_sum", {"a"}, intsAttr("axes", {1}) + boolAttr("keep_dims", true)) +
           node("out", "div", {"a", "s"}),
       {3, 4},
       1e-6,
       1e-5});
}

TEST_F(GradientCheck, UnknownDimensions) {
  Input a = x("a", {3, 4});
  a.decl = Shape{-1, 4};
  checkGradients({{a}, node("out", "reduce_mean", {"a"}, intsAttr("axes", {0})), {4}});
  Input p = x("p", {5, 1}), t = x("t", {5});
  p.decl = Shape{-1, 1};
  t.decl = Shape{-1};
  checkGradients({{p, t},
                  node("z", "squeeze", {"p"}, intsAttr("axes", {1})) +
                      node("out", "mean_squared_error", {"z", "t"}),
                  {}});
  Input in = x("in", {5, 3});
  in.decl = Shape{-1, 3};
  checkGradients({{in, x("w", {3, 2}), x("b", {2})},
                  node("xw", "matmul", {"in", "w"}) + node("out", "bias_add", {"xw", "b"}),
                  {5, 2}});
  Input r = x("r", {2, 6});
  r.decl = Shape{-1, 6};
  checkGradients({{r}, node("out", "reshape", {"r"}, intsAttr("shape", {-1, 3})), {4, 3}});
}

TEST_F(GradientCheck, DenseLayerWithCrossEntropy) {
  checkGradients({{x("in", {4, 3}), x("w", {3, 5}), x("b", {5}), oneHot("labels", {4, 5})},
                  node("xw", "matmul", {"in", "w"}) + node("z", "bias_add", {"xw", "b"}) +
                      node("h", "sigmoid", {"z"}) +
                      node("out", "softmax_cross_entropy", {"h", "labels"}),
                  {4}});
}

TEST_F(GradientCheck, SecondOrder) {
  // out = a * d(sum(tanh(a)))/da = a * (1 - tanh(a)^2), itself differentiated.
  checkGradients({{x("a", {2, 3}, -2, 2)},
                  node("t", "tanh", {"a"}) + node("s", "reduce_sum", {"t"}) +
                      node("g1", "gradients", {"s", "a"}) + node("out", "mul", {"g1:0", "a"}),
                  {2, 3}});
}

TEST_F(GradientCheck, ReduceMaxSharesTiesEqually) {
  std::string text = placeholder("a", "F64", {2, 3}) +
                     node("m", "reduce_max", {"a"}, intsAttr("axes", {1})) +
                     node("y", "reduce_sum", {"m"}) + node("grad", "gradients", {"y", "a"}) +
                     signature({"a"}, {"grad:0"});
  Model model(text);
  ASSERT_TRUE(model.ok());
  auto out = model.run({{"a", tensor({{2, 3}, {1, 3, 3, 2, 2, 2}}, DType::F64)}});
  expectClose(out, "grad:0", DType::F64, {{2, 3}, {0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3}}, 1e-15,
              0);
}

TEST_F(GradientCheck, UnusedInputHasZeroGradient) {
  GradCase c{{x("a", {3, 4}), x("unused", {2, 5})}, node("out", "tanh", {"a"}), {3, 4}};
  checkGradients(c);
  auto exe = nncc::test::compileText(graphText(c));
  ASSERT_TRUE(exe);
  nncc::rt::Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  TensorMap feeds = {{"a", tensor(c.inputs[0].value, DType::F64)},
                     {"unused", tensor(c.inputs[1].value, DType::F64)},
                     {"C", tensor(randomArray({3, 4}, DType::F64, -1, 1, rng), DType::F64)}};
  auto out = s.run("backward", feeds);
  ASSERT_TRUE(out.ok()) << out.error();
  expectEqual(*out, "grad:1", DType::F64, {{2, 5}, std::vector<double>(10, 0.0)});
}

TEST_F(GradientCheck, GradientOfInputItself) {
  // y = reduce_sum(a * C): d(y)/d(a) = C, d(y)/d(y) = 1.
  Input a = x("a", {3});
  std::string text = placeholder("a", "F64", {3}) + placeholder("C", "F64", {3}) +
                     node("w", "mul", {"a", "C"}) + node("y", "reduce_sum", {"w"}) +
                     node("grad", "gradients", {"y", "a", "y"}) +
                     "signatures { name: \"run\" feeds: \"a\" feeds: \"C\" fetches: \"grad:0\" "
                     "fetches: \"grad:1\" }\n";
  Model model(text);
  ASSERT_TRUE(model.ok());
  Array c{{3}, {0.5, -2, 3}};
  auto out = model.run({{"a", tensor(a.value, DType::F64)}, {"C", tensor(c, DType::F64)}});
  expectEqual(out, "grad:0", DType::F64, c);
  expectEqual(out, "grad:1", DType::F64, {{}, {1.0}});
}

//===----------------------------------------------------------------------===//
// Non-differentiable paths
//===----------------------------------------------------------------------===//

/// The compiler's error for a model that must not compile.
std::string compileError(const std::string &text) {
  auto loaded = nncc::parseGraphText(text, "model.pbtxt");
  if (!loaded)
    return llvm::toString(loaded.takeError());
  auto exe = nncc::compileAndLoad(*loaded);
  if (exe)
    return "";
  return llvm::toString(exe.takeError());
}

TEST(GradientErrors, OnlyThroughArgMax) {
  std::string text =
      placeholder("a", "F64", {3, 4}) + node("idx", "argmax", {"a"}, intAttr("axis", 1)) +
      node("f", "cast", {"idx"}, typeAttr("dtype", "F64")) + node("y", "reduce_sum", {"f"}) +
      node("grad", "gradients", {"y", "a"}) + signature({"a"}, {"grad:0"});
  std::string error = compileError(text);
  EXPECT_THAT(error, ::testing::HasSubstr("has no gradient"));
  EXPECT_THAT(error, ::testing::HasSubstr("input 0 of nn.gradients"));
  EXPECT_THAT(error,
              ::testing::AnyOf(::testing::HasSubstr("nn.argmax"), ::testing::HasSubstr("nn.cast")));
}

TEST(GradientErrors, OnlyThroughIntegerCast) {
  std::string text = placeholder("a", "F64", {3}) + placeholder("b", "F64", {3}) +
                     node("i", "cast", {"a"}, typeAttr("dtype", "I32")) +
                     node("f", "cast", {"i"}, typeAttr("dtype", "F64")) +
                     node("fb", "mul", {"f", "b"}) + node("y", "reduce_sum", {"fb"}) +
                     node("grad", "gradients", {"y", "b", "a"}) +
                     signature({"a", "b"}, {"grad:0", "grad:1"});
  std::string error = compileError(text);
  EXPECT_THAT(error, ::testing::HasSubstr("nn.cast"));
  EXPECT_THAT(error, ::testing::HasSubstr("has no gradient"));
  EXPECT_THAT(error, ::testing::HasSubstr("input 1 of nn.gradients"));
}

TEST(GradientErrors, ArgMaxBesideADifferentiablePathIsZero) {
  // Like tf.gradients: a non-differentiable branch contributes nothing when
  // another path carries the gradient.
  std::string text = placeholder("a", "F64", {2, 3}) +
                     node("idx", "argmax", {"a"}, intAttr("axis", 1)) +
                     node("f", "cast", {"idx"}, typeAttr("dtype", "F64")) +
                     node("s", "reduce_sum", {"a"}, intsAttr("axes", {1})) +
                     node("sf", "add", {"s", "f"}) + node("y", "reduce_sum", {"sf"}) +
                     node("grad", "gradients", {"y", "a"}) + signature({"a"}, {"grad:0"});
  Model model(text);
  ASSERT_TRUE(model.ok());
  auto out = model.run({{"a", tensor({{2, 3}, {1, 5, 2, 7, 0, 3}}, DType::F64)}});
  expectEqual(out, "grad:0", DType::F64, {{2, 3}, std::vector<double>(6, 1.0)});
}

} // namespace
