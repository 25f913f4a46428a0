// Elementwise ops on the CPU against a C++ reference: add sub mul div with
// NumPy broadcasting (f32, f64, i32, i64), equal, and the unary ops and
// activations, maximum minimum pow less select and the logical ops, on
// seeded random inputs and several fed batch sizes.
#include "test/e2e/OpsTestSupport.h"

#include <cfloat>

using namespace nncc::test::ops;

namespace {

/// Right operands of div: away from zero (floats) or nonzero (integers).
Array divisor(const Shape &shape, DType dtype, std::mt19937 &rng) {
  bool isFloat = dtype == DType::F32 || dtype == DType::F64;
  Array d =
      isFloat ? randomArray(shape, dtype, 0.5, 2.0, rng) : randomArray(shape, dtype, 1, 9, rng);
  for (double &v : d.values)
    if (rng() & 1)
      v = -v; // both signs: integer division truncates toward zero
  return d;
}

/// add, sub, mul and div of placeholders declared `lhsDecl` and `rhsDecl`
/// (-1 = unknown), one compiled model run on every pair of fed shapes.
void checkArithmetic(DType dtype, const Shape &lhsDecl, const Shape &rhsDecl,
                     const std::vector<std::pair<Shape, Shape>> &fed) {
  const std::string t = protoName(dtype);
  Model model(placeholder("a", t, lhsDecl) + placeholder("b", t, rhsDecl) +
              node("sum", "add", {"a", "b"}) + node("diff", "sub", {"a", "b"}) +
              node("prod", "mul", {"a", "b"}) + node("quot", "div", {"a", "b"}) +
              signature({"a", "b"}, {"sum", "diff", "prod", "quot"}));
  ASSERT_TRUE(model.ok());
  bool isFloat = dtype == DType::F32 || dtype == DType::F64;
  // Computed in double from the fed values; f32 results are within an ulp.
  double rtol = dtype == DType::F32 ? 1e-6 : dtype == DType::F64 ? 1e-15 : 0;
  std::mt19937 rng(1234);
  for (const auto &[ls, rs] : fed) {
    SCOPED_TRACE("lhs " + nncc::rt::shapeString(ls) + " rhs " + nncc::rt::shapeString(rs));
    Array a = isFloat ? randomArray(ls, dtype, -10, 10, rng) : randomArray(ls, dtype, -50, 50, rng);
    Array b = divisor(rs, dtype, rng);
    for (double &v : b.values) // not only the divisor's range for + - *
      v = dtype == DType::F32 ? static_cast<float>(v * 3) : v * (isFloat ? 3 : 5);
    auto out = model.run({{"a", tensor(a, dtype)}, {"b", tensor(b, dtype)}});
    expectClose(out, "sum", dtype, binary(a, b, std::plus<double>()), rtol);
    expectClose(out, "diff", dtype, binary(a, b, std::minus<double>()), rtol);
    expectClose(out, "prod", dtype, binary(a, b, std::multiplies<double>()), rtol);
    expectClose(
        out, "quot", dtype,
        binary(a, b, [isFloat](double x, double y) { return isFloat ? x / y : std::trunc(x / y); }),
        rtol);
  }
}

class Arithmetic : public ::testing::TestWithParam<DType> {};

TEST_P(Arithmetic, SameShapes) { checkArithmetic(GetParam(), {4, 3}, {4, 3}, {{{4, 3}, {4, 3}}}); }

TEST_P(Arithmetic, MatrixAndRow) {
  checkArithmetic(GetParam(), {4, 3}, {3}, {{{4, 3}, {3}}});
  // The smaller operand on the left.
  checkArithmetic(GetParam(), {3}, {4, 3}, {{{3}, {4, 3}}});
}

TEST_P(Arithmetic, ColumnTimesRowIsOuter) {
  checkArithmetic(GetParam(), {4, 1}, {1, 5}, {{{4, 1}, {1, 5}}});
}

TEST_P(Arithmetic, ScalarAndUnknownBatch) {
  checkArithmetic(GetParam(), {}, {-1, 3}, {{{}, {1, 3}}, {{}, {7, 3}}, {{}, {64, 3}}});
  checkArithmetic(GetParam(), {-1, 3}, {}, {{{7, 3}, {}}, {{1, 3}, {}}});
}

TEST_P(Arithmetic, UnknownDimensionsOnBothSides) {
  // [?, 1] x [1, ?] -> [?, ?]: each unknown size comes from its own operand.
  checkArithmetic(GetParam(), {-1, 1}, {1, -1},
                  {{{7, 1}, {1, 5}}, {{1, 1}, {1, 64}}, {{3, 1}, {1, 1}}});
  // The same unknown batch on both sides.
  checkArithmetic(GetParam(), {-1, 3}, {-1, 3}, {{{1, 3}, {1, 3}}, {{64, 3}, {64, 3}}});
}

TEST_P(Arithmetic, RankThreeAgainstColumn) {
  checkArithmetic(GetParam(), {2, 3, 4}, {3, 1}, {{{2, 3, 4}, {3, 1}}});
  checkArithmetic(GetParam(), {-1, 3, 1}, {1, 4}, {{{2, 3, 1}, {1, 4}}, {{5, 3, 1}, {1, 4}}});
}

INSTANTIATE_TEST_SUITE_P(Ops, Arithmetic,
                         ::testing::Values(DType::F32, DType::F64, DType::I32, DType::I64),
                         [](const auto &info) {
                           return std::string(nncc::rt::dtypeName(info.param));
                         });

TEST(Ops, IntegerDivisionTruncatesTowardZero) {
  Model model(placeholder("a", "I32", {6}) + placeholder("b", "I32", {6}) +
              node("q", "div", {"a", "b"}) + signature({"a", "b"}, {"q"}));
  ASSERT_TRUE(model.ok());
  auto out = model.run({{"a", Tensor::of<int32_t>({6}, {7, -7, 7, -7, 6, -1})},
                        {"b", Tensor::of<int32_t>({6}, {2, 2, -2, -2, 3, 2})}});
  expectEqual(out, "q", DType::I32, {{6}, {3, -3, -3, 3, 2, 0}});
}

TEST(Ops, EqualIsBoolAndBroadcasts) {
  for (DType dtype : {DType::F32, DType::I32, DType::I64, DType::F64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    Model model(placeholder("a", t, {-1, 3}) + placeholder("b", t, {3}) +
                placeholder("c", t, {-1, 3}) + node("eq", "equal", {"a", "b"}) +
                node("same", "equal", {"a", "c"}) + signature({"a", "b", "c"}, {"eq", "same"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(7);
    for (int64_t batch : {1, 7, 64}) {
      // Few distinct values, so that many elements are equal.
      Array a = randomArray({batch, 3}, DType::I32, -2, 2, rng);
      Array b = randomArray({3}, DType::I32, -2, 2, rng);
      Array c = randomArray({batch, 3}, DType::I32, -2, 2, rng);
      auto eq = [](double x, double y) { return x == y ? 1.0 : 0.0; };
      auto out =
          model.run({{"a", tensor(a, dtype)}, {"b", tensor(b, dtype)}, {"c", tensor(c, dtype)}});
      expectEqual(out, "eq", DType::Bool, binary(a, b, eq));
      expectEqual(out, "same", DType::Bool, binary(a, c, eq));
    }
  }
}

TEST(Ops, EqualOfBools) {
  Model model(placeholder("a", "BOOL", {-1, 2}) + placeholder("b", "BOOL", {2}) +
              node("eq", "equal", {"a", "b"}) + signature({"a", "b"}, {"eq"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(8);
  for (int64_t batch : {1, 7, 64}) {
    Array a = randomArray({batch, 2}, DType::Bool, 0, 1, rng);
    Array b = randomArray({2}, DType::Bool, 0, 1, rng);
    auto out = model.run({{"a", tensor(a, DType::Bool)}, {"b", tensor(b, DType::Bool)}});
    expectEqual(out, "eq", DType::Bool,
                binary(a, b, [](double x, double y) { return x == y ? 1.0 : 0.0; }));
  }
}

TEST(Ops, EqualOfNaNIsFalse) {
  Model model(placeholder("a", "F32", {3}) + node("eq", "equal", {"a", "a"}) +
              signature({"a"}, {"eq"}));
  ASSERT_TRUE(model.ok());
  auto out = model.run({{"a", Tensor::of<float>({3}, {1.5f, NAN, -INFINITY})}});
  expectEqual(out, "eq", DType::Bool, {{3}, {1, 0, 1}});
}

/// The reference of a unary float op, rounded to the result's precision.
double rounded(DType dtype, double v) {
  return dtype == DType::F32 ? static_cast<double>(static_cast<float>(v)) : v;
}

class Unary : public ::testing::TestWithParam<DType> {};

TEST_P(Unary, FloatOpsOnUnknownBatch) {
  DType dtype = GetParam();
  const std::string t = protoName(dtype);
  Model model(
      placeholder("x", t, {-1, 5}) + placeholder("p", t, {-1, 5}) + node("neg", "neg", {"x"}) +
      node("square", "square", {"x"}) + node("exp", "exp", {"x"}) + node("log", "log", {"p"}) +
      node("tanh", "tanh", {"x"}) + node("sigmoid", "sigmoid", {"x"}) +
      node("relu", "relu", {"x"}) + node("sqrt", "sqrt", {"p"}) +
      signature({"x", "p"}, {"neg", "square", "exp", "log", "tanh", "sigmoid", "relu", "sqrt"}));
  ASSERT_TRUE(model.ok());
  // libm computes the transcendental ones: within a few ulps. Results below
  // the smallest normal float may flush to zero.
  double rtol = dtype == DType::F32 ? 1e-6 : 1e-13;
  double atol = dtype == DType::F32 ? FLT_MIN : DBL_MIN;
  std::mt19937 rng(42);
  for (int64_t batch : {1, 7, 64}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Array x = randomArray({batch, 5}, dtype, -12, 12, rng);
    // Saturating and special inputs.
    const double edges[] = {0.0, -0.0, 100.0, -100.0, 20.0};
    for (size_t i = 0; i < 5 && batch > 1; ++i)
      x.values[i] = edges[i];
    Array p = randomArray({batch, 5}, dtype, 1e-3, 100, rng);
    p.values[0] = 1.0;
    auto out = model.run({{"x", tensor(x, dtype)}, {"p", tensor(p, dtype)}});
    auto r = [dtype](double (*f)(double)) {
      return [dtype, f](double v) { return rounded(dtype, f(v)); };
    };
    expectEqual(out, "neg", dtype, unary(x, [](double v) { return -v; }));
    expectClose(out, "square", dtype, unary(x, [&](double v) { return rounded(dtype, v * v); }),
                rtol);
    expectClose(out, "exp", dtype, unary(x, r([](double v) { return std::exp(v); })), rtol, atol);
    expectClose(out, "log", dtype, unary(p, r([](double v) { return std::log(v); })), rtol, atol);
    expectClose(out, "tanh", dtype, unary(x, r([](double v) { return std::tanh(v); })), rtol, atol);
    expectClose(out, "sigmoid", dtype,
                unary(x, r([](double v) { return 1.0 / (1.0 + std::exp(-v)); })), rtol, atol);
    expectEqual(out, "relu", dtype, unary(x, [](double v) { return std::max(0.0, v); }));
    // Correctly rounded (IEEE 754), on both targets.
    expectEqual(out, "sqrt", dtype, unary(p, r([](double v) { return std::sqrt(v); })));
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, Unary, ::testing::Values(DType::F32, DType::F64),
                         [](const auto &info) {
                           return std::string(nncc::rt::dtypeName(info.param));
                         });

TEST(Ops, ExpAndLogEdges) {
  Model model(placeholder("x", "F32", {5}) + node("exp", "exp", {"x"}) + node("log", "log", {"x"}) +
              signature({"x"}, {"exp", "log"}));
  ASSERT_TRUE(model.ok());
  auto out = model.run({{"x", Tensor::of<float>({5}, {0.0f, 1.0f, 100.0f, -1.0f, INFINITY})}});
  expectEqual(out, "exp", DType::F32,
              {{5}, {1.0, double(std::exp(1.0f)), INFINITY, double(std::exp(-1.0f)), INFINITY}});
  expectEqual(out, "log", DType::F32,
              {{5}, {-INFINITY, 0.0, double(std::log(100.0f)), NAN, INFINITY}});
}

TEST(Ops, IntegerNegAndSquare) {
  for (DType dtype : {DType::I32, DType::I64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    Model model(placeholder("x", t, {-1, 4}) + node("neg", "neg", {"x"}) +
                node("square", "square", {"x"}) + signature({"x"}, {"neg", "square"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(3);
    for (int64_t batch : {1, 7, 64}) {
      Array x = randomArray({batch, 4}, dtype, -1000, 1000, rng);
      auto out = model.run({{"x", tensor(x, dtype)}});
      expectEqual(out, "neg", dtype, unary(x, [](double v) { return -v; }));
      expectEqual(out, "square", dtype, unary(x, [](double v) { return v * v; }));
    }
  }
}

TEST(Ops, ReluOfNaNAndNegativeZero) {
  Model model(placeholder("x", "F32", {4}) + node("relu", "relu", {"x"}) +
              signature({"x"}, {"relu"}));
  ASSERT_TRUE(model.ok());
  auto out = model.run({{"x", Tensor::of<float>({4}, {-0.0f, NAN, -3.0f, 2.5f})}});
  // tf.nn.relu propagates NaN.
  expectEqual(out, "relu", DType::F32, {{4}, {0.0, NAN, 0.0, 2.5}});
}

//===----------------------------------------------------------------------===//
// maximum, minimum, pow, less, logical ops, select
//===----------------------------------------------------------------------===//

class MinMax : public ::testing::TestWithParam<DType> {};

// maximum, minimum and less of an unknown batch against a row, broadcasting.
TEST_P(MinMax, BroadcastOnUnknownBatch) {
  DType dtype = GetParam();
  const std::string t = protoName(dtype);
  bool isFloat = dtype == DType::F32 || dtype == DType::F64;
  Model model(placeholder("a", t, {-1, 3}) + placeholder("b", t, {3}) +
              node("max", "maximum", {"a", "b"}) + node("min", "minimum", {"b", "a"}) +
              node("less", "less", {"a", "b"}) + signature({"a", "b"}, {"max", "min", "less"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(5);
  for (int64_t batch : {1, 7, 64}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Array a = randomArray({batch, 3}, dtype, -5, 5, rng);
    Array b = randomArray({3}, dtype, -5, 5, rng);
    if (isFloat)
      a.values[0] = b.values[0]; // a tie
    auto out = model.run({{"a", tensor(a, dtype)}, {"b", tensor(b, dtype)}});
    expectEqual(out, "max", dtype, binary(a, b, [](double x, double y) { return std::max(x, y); }));
    expectEqual(out, "min", dtype, binary(b, a, [](double x, double y) { return std::min(x, y); }));
    expectEqual(out, "less", DType::Bool, binary(a, b, [](double x, double y) { return x < y; }));
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, MinMax,
                         ::testing::Values(DType::F32, DType::F64, DType::I32, DType::I64),
                         [](const auto &info) {
                           return std::string(nncc::rt::dtypeName(info.param));
                         });

TEST(Ops, MaximumAndMinimumPropagateNaN) {
  Model model(placeholder("a", "F32", {4}) + placeholder("b", "F32", {4}) +
              node("max", "maximum", {"a", "b"}) + node("min", "minimum", {"a", "b"}) +
              node("less", "less", {"a", "b"}) + signature({"a", "b"}, {"max", "min", "less"}));
  ASSERT_TRUE(model.ok());
  auto out = model.run({{"a", Tensor::of<float>({4}, {NAN, 1.0f, -INFINITY, 2.0f})},
                        {"b", Tensor::of<float>({4}, {1.0f, NAN, 3.0f, 2.0f})}});
  expectEqual(out, "max", DType::F32, {{4}, {NAN, NAN, 3.0, 2.0}});
  expectEqual(out, "min", DType::F32, {{4}, {NAN, NAN, -INFINITY, 2.0}});
  expectEqual(out, "less", DType::Bool, {{4}, {0, 0, 1, 0}});
}

TEST(Ops, PowOfFloats) {
  for (DType dtype : {DType::F32, DType::F64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    Model model(placeholder("x", t, {-1, 3}) + placeholder("y", t, {3}) +
                node("pow", "pow", {"x", "y"}) + signature({"x", "y"}, {"pow"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(8);
    for (int64_t batch : {1, 9}) {
      Array x = randomArray({batch, 3}, dtype, 0.1, 4, rng);
      Array y = randomArray({3}, dtype, -3, 3, rng);
      auto out = model.run({{"x", tensor(x, dtype)}, {"y", tensor(y, dtype)}});
      expectClose(out, "pow", dtype,
                  binary(x, y, [&](double a, double b) { return rounded(dtype, std::pow(a, b)); }),
                  dtype == DType::F32 ? 1e-6 : 1e-14);
    }
    // Integral exponents of negative bases, and C's edges.
    Model edges(placeholder("x", t, {5}) + placeholder("y", t, {5}) +
                node("pow", "pow", {"x", "y"}) + signature({"x", "y"}, {"pow"}));
    ASSERT_TRUE(edges.ok());
    Array x{{5}, {-2.0, -2.0, 0.0, 4.0, -8.0}}, y{{5}, {3.0, 2.0, 0.0, 0.5, 1.0 / 3}};
    auto out = edges.run({{"x", tensor(x, dtype)}, {"y", tensor(y, dtype)}});
    expectEqual(out, "pow", dtype, {{5}, {-8.0, 4.0, 1.0, 2.0, NAN}});
  }
}

TEST(Ops, LogicalOpsBroadcast) {
  Model model(placeholder("a", "BOOL", {-1, 4}) + placeholder("b", "BOOL", {4}) +
              node("and", "logical_and", {"a", "b"}) + node("or", "logical_or", {"a", "b"}) +
              node("xor", "logical_xor", {"b", "a"}) + node("not", "logical_not", {"a"}) +
              signature({"a", "b"}, {"and", "or", "xor", "not"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(11);
  for (int64_t batch : {1, 5}) {
    Array a = randomArray({batch, 4}, DType::Bool, 0, 1, rng);
    Array b{{4}, {0, 1, 0, 1}};
    auto out = model.run({{"a", tensor(a, DType::Bool)}, {"b", tensor(b, DType::Bool)}});
    expectEqual(out, "and", DType::Bool, binary(a, b, [](double x, double y) { return x && y; }));
    expectEqual(out, "or", DType::Bool, binary(a, b, [](double x, double y) { return x || y; }));
    expectEqual(out, "xor", DType::Bool, binary(b, a, [](double x, double y) { return x != y; }));
    expectEqual(out, "not", DType::Bool, unary(a, [](double x) { return !x; }));
  }
}

// select(cond [?, 1], a [3], b []) -> [?, 3]: the three broadcast together.
TEST(Ops, SelectBroadcastsAllThree) {
  for (DType dtype : {DType::F32, DType::I64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    Model model(placeholder("c", "BOOL", {-1, 1}) + placeholder("a", t, {3}) +
                placeholder("b", t, {}) + node("sel", "select", {"c", "a", "b"}) +
                signature({"c", "a", "b"}, {"sel"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(13);
    for (int64_t batch : {1, 6}) {
      Array c = randomArray({batch, 1}, DType::Bool, 0, 1, rng);
      Array a = randomArray({3}, dtype, -9, 9, rng), b{{}, {42}};
      auto out = model.run(
          {{"c", tensor(c, DType::Bool)}, {"a", tensor(a, dtype)}, {"b", tensor(b, dtype)}});
      Array want{{batch, 3}, {}};
      for (int64_t i = 0; i < batch; ++i)
        for (int64_t j = 0; j < 3; ++j)
          want.values.push_back(c.values[i] ? a.values[j] : 42.0);
      expectEqual(out, "sel", dtype, want);
    }
  }
}

//===----------------------------------------------------------------------===//
// abs, floor, ceil, sign, sin, cos, erf
//===----------------------------------------------------------------------===//

TEST_P(Unary, MoreFloatOpsOnUnknownBatch) {
  DType dtype = GetParam();
  const std::string t = protoName(dtype);
  Model model(placeholder("x", t, {-1, 5}) + node("abs", "abs", {"x"}) +
              node("floor", "floor", {"x"}) + node("ceil", "ceil", {"x"}) +
              node("sign", "sign", {"x"}) + node("sin", "sin", {"x"}) + node("cos", "cos", {"x"}) +
              node("erf", "erf", {"x"}) +
              signature({"x"}, {"abs", "floor", "ceil", "sign", "sin", "cos", "erf"}));
  ASSERT_TRUE(model.ok());
  // f32 sin, cos and erf are polynomial approximations: a few ulps of 1.
  double atol = dtype == DType::F32 ? 2e-7 : 1e-15;
  std::mt19937 rng(17);
  for (int64_t batch : {1, 7, 64}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Array x = randomArray({batch, 5}, dtype, -6, 6, rng);
    const double edges[] = {0.0, -2.0, 2.5, -0.5, 4.0};
    for (size_t i = 0; i < 5 && batch > 1; ++i)
      x.values[i] = edges[i];
    auto out = model.run({{"x", tensor(x, dtype)}});
    auto r = [dtype](double (*f)(double)) {
      return [dtype, f](double v) { return rounded(dtype, f(v)); };
    };
    expectEqual(out, "abs", dtype, unary(x, [](double v) { return std::fabs(v); }));
    expectEqual(out, "floor", dtype, unary(x, [](double v) { return std::floor(v); }));
    expectEqual(out, "ceil", dtype, unary(x, [](double v) { return std::ceil(v); }));
    expectEqual(out, "sign", dtype, unary(x, [](double v) { return double((v > 0) - (v < 0)); }));
    expectClose(out, "sin", dtype, unary(x, r([](double v) { return std::sin(v); })), 1e-6, atol);
    expectClose(out, "cos", dtype, unary(x, r([](double v) { return std::cos(v); })), 1e-6, atol);
    expectClose(out, "erf", dtype, unary(x, r([](double v) { return std::erf(v); })), 1e-6, atol);
  }
}

TEST(Ops, SignAndAbsEdges) {
  Model model(placeholder("x", "F32", {5}) + node("sign", "sign", {"x"}) +
              node("abs", "abs", {"x"}) + node("floor", "floor", {"x"}) +
              signature({"x"}, {"sign", "abs", "floor"}));
  ASSERT_TRUE(model.ok());
  auto out = model.run({{"x", Tensor::of<float>({5}, {-0.0f, NAN, -INFINITY, 1e-30f, -1.5f})}});
  expectEqual(out, "sign", DType::F32, {{5}, {0.0, NAN, -1.0, 1.0, -1.0}});
  expectEqual(out, "abs", DType::F32, {{5}, {0.0, NAN, INFINITY, double(1e-30f), 1.5}});
  expectEqual(out, "floor", DType::F32, {{5}, {0.0, NAN, -INFINITY, 0.0, -2.0}});
}

TEST(Ops, IntegerAbs) {
  for (DType dtype : {DType::I32, DType::I64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    Model model(placeholder("x", protoName(dtype), {-1}) + node("abs", "abs", {"x"}) +
                signature({"x"}, {"abs"}));
    ASSERT_TRUE(model.ok());
    Array x{{5}, {-7, 0, 12, -1, 3}};
    auto out = model.run({{"x", tensor(x, dtype)}});
    expectEqual(out, "abs", dtype, {{5}, {7, 0, 12, 1, 3}});
  }
}

} // namespace
