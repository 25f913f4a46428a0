// Tensor ops on the CPU against a C++ reference: constant, reshape, squeeze,
// reduce_sum / reduce_mean / reduce_max / reduce_min / reduce_prod, argmax,
// one_hot, cast, transpose, concat and slice, with unknown batches fed at several
// sizes through one compiled model.
#include "test/e2e/OpsTestSupport.h"

using namespace nncc::test::ops;

namespace {

/// A constant node with a graph.proto tensor value written out.
std::string constant(const std::string &name, const std::string &tensorText) {
  return "nodes { name: \"" + name +
         "\" op: \"constant\" attrs { key: \"value\" value { tensor { " + tensorText + " } } } }\n";
}

TEST(Ops, ConstantOfEveryDtype) {
  Model model(
      placeholder("x", "F32", {-1, 3}) +
      constant("f32", "dtype: F32 dims: 2 dims: 3 float_val: [1.5, -2, 0, 3.25, 1e-3, -7]") +
      constant("f64", "dtype: F64 dims: 2 double_val: [0.1, -1e300]") +
      constant("i32", "dtype: I32 dims: 4 int_val: [1, -2, 2147483647, -2147483648]") +
      constant("i64", "dtype: I64 dims: 2 int_val: [-9007199254740993, 42]") +
      constant("bool", "dtype: BOOL dims: 3 bool_val: [true, false, true]") +
      constant("scalar", "dtype: F32 float_val: 2.5") +
      constant("splat", "dtype: I32 dims: 2 dims: 2 int_val: 7") +
      constant("row", "dtype: F32 dims: 3 float_val: [10, 20, 30]") +
      // A constant used by a kernel rather than folded away.
      node("shifted", "add", {"x", "row"}) +
      signature({"x"}, {"f32", "f64", "i32", "i64", "bool", "scalar", "splat", "shifted"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(2);
  for (int64_t batch : {1, 7, 64}) {
    Array x = randomArray({batch, 3}, DType::F32, -1, 1, rng);
    auto out = model.run({{"x", tensor(x, DType::F32)}});
    expectEqual(out, "f32", DType::F32, {{2, 3}, {1.5, -2, 0, 3.25, double(1e-3f), -7}});
    expectEqual(out, "f64", DType::F64, {{2}, {0.1, -1e300}});
    expectEqual(out, "i32", DType::I32, {{4}, {1, -2, 2147483647.0, -2147483648.0}});
    // Not representable in a double: compare the exact integer.
    ASSERT_TRUE(out.count("i64"));
    ASSERT_EQ(out.at("i64").size(), 2);
    EXPECT_EQ(out.at("i64").data<int64_t>()[0], -9007199254740993LL);
    EXPECT_EQ(out.at("i64").data<int64_t>()[1], 42);
    expectEqual(out, "bool", DType::Bool, {{3}, {1, 0, 1}});
    expectEqual(out, "scalar", DType::F32, {{}, {2.5}});
    expectEqual(out, "splat", DType::I32, {{2, 2}, {7, 7, 7, 7}});
    expectClose(out, "shifted", DType::F32, binary(x, {{3}, {10, 20, 30}}, std::plus<double>()),
                1e-6);
  }
}

/// The same values with another shape.
Array reshaped(Array a, Shape shape) {
  a.shape = std::move(shape);
  return a;
}

TEST(Ops, ReshapeWithUnknownBatch) {
  for (DType dtype : {DType::F32, DType::I32, DType::Bool}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    Model model(placeholder("x", protoName(dtype), {-1, 2, 3}) +
                node("rows", "reshape", {"x"}, intsAttr("shape", {-1, 6})) +
                node("cols", "reshape", {"x"}, intsAttr("shape", {6, -1})) +
                node("flat", "reshape", {"x"}, intsAttr("shape", {-1})) +
                node("middle", "reshape", {"x"}, intsAttr("shape", {3, -1, 2})) +
                node("again", "reshape", {"rows"}, intsAttr("shape", {-1, 3, 2})) +
                signature({"x"}, {"rows", "cols", "flat", "middle", "again"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(8);
    for (int64_t batch : {1, 7, 64}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      Array x = randomArray({batch, 2, 3}, dtype, -100, 100, rng);
      auto out = model.run({{"x", tensor(x, dtype)}});
      expectEqual(out, "rows", dtype, reshaped(x, {batch, 6}));
      expectEqual(out, "cols", dtype, reshaped(x, {6, batch}));
      expectEqual(out, "flat", dtype, reshaped(x, {batch * 6}));
      expectEqual(out, "middle", dtype, reshaped(x, {3, batch, 2}));
      expectEqual(out, "again", dtype, reshaped(x, {batch, 3, 2}));
    }
  }
}

TEST(Ops, ReshapeStatic) {
  Model model(placeholder("x", "F64", {2, 6}) + placeholder("one", "I64", {1, 1}) +
              node("r34", "reshape", {"x"}, intsAttr("shape", {3, 4})) +
              node("r413", "reshape", {"x"}, intsAttr("shape", {4, 1, 3})) +
              node("r12", "reshape", {"x"}, intsAttr("shape", {-1})) +
              node("scalar", "reshape", {"one"}, intsAttr("shape", {})) +
              signature({"x", "one"}, {"r34", "r413", "r12", "scalar"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(9);
  Array x = randomArray({2, 6}, DType::F64, -1, 1, rng);
  auto out = model.run({{"x", tensor(x, DType::F64)}, {"one", Tensor::of<int64_t>({1, 1}, {-5})}});
  expectEqual(out, "r34", DType::F64, reshaped(x, {3, 4}));
  expectEqual(out, "r413", DType::F64, reshaped(x, {4, 1, 3}));
  expectEqual(out, "r12", DType::F64, reshaped(x, {12}));
  expectEqual(out, "scalar", DType::I64, {{}, {-5}});
}

TEST(Ops, Squeeze) {
  Model model(
      placeholder("x", "F32", {-1, 1, 3, 1}) + placeholder("y", "I32", {1, 3}) +
      placeholder("z", "F32", {1, 1}) + placeholder("b", "F32", {-1, 3}) +
      node("all", "squeeze", {"x"}) + node("axis1", "squeeze", {"x"}, intsAttr("axes", {1})) +
      node("last", "squeeze", {"x"}, intsAttr("axes", {-1})) +
      node("both", "squeeze", {"x"}, intsAttr("axes", {3, 1})) + node("y_all", "squeeze", {"y"}) +
      node("z_all", "squeeze", {"z"}) + node("batch", "squeeze", {"b"}, intsAttr("axes", {0})) +
      signature({"x", "y", "z", "b"}, {"all", "axis1", "last", "both", "y_all", "z_all", "batch"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(10);
  for (int64_t batch : {1, 7, 64}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Array x = randomArray({batch, 1, 3, 1}, DType::F32, -1, 1, rng);
    Array y = randomArray({1, 3}, DType::I32, -9, 9, rng);
    Array b = randomArray({1, 3}, DType::F32, -1, 1, rng);
    auto out = model.run({{"x", tensor(x, DType::F32)},
                          {"y", tensor(y, DType::I32)},
                          {"z", Tensor::of<float>({1, 1}, {4.5f})},
                          {"b", tensor(b, DType::F32)}});
    // Without axes only the dimensions known to be 1 go; the batch stays.
    expectEqual(out, "all", DType::F32, reshaped(x, {batch, 3}));
    expectEqual(out, "axis1", DType::F32, reshaped(x, {batch, 3, 1}));
    expectEqual(out, "last", DType::F32, reshaped(x, {batch, 1, 3}));
    expectEqual(out, "both", DType::F32, reshaped(x, {batch, 3}));
    expectEqual(out, "y_all", DType::I32, reshaped(y, {3}));
    expectEqual(out, "z_all", DType::F32, {{}, {4.5}});
    // An unknown dimension squeezed by axis (fed as 1).
    expectEqual(out, "batch", DType::F32, reshaped(b, {3}));
  }
}

struct ReduceCase {
  std::string name;
  std::vector<int64_t> axes; // empty: all
  bool keepDims;
  // x is fed again as "x2" and "x3", so that cases equal to another one
  // reduce a separate input (aliased fetches are AliasedFetchesAreFreedOnce's).
  std::string input = "x";
};

const ReduceCase kReduceCases[] = {
    {"a0", {0}, false},
    {"a1", {1}, false},
    {"a2", {2}, false},
    {"neg1", {-1}, false, "x2"},
    {"a02", {0, 2}, false},
    {"a20", {2, 0}, false, "x2"},
    {"neg3neg2", {-3, -2}, false},
    {"all", {}, false},
    {"explicit_all", {0, 1, 2}, false, "x2"},
    {"keep1", {1}, true, "x3"},
    {"keep_neg1_0", {-1, 0}, true, "x3"},
    {"keep_all", {}, true, "x3"},
};

class Reduce : public ::testing::TestWithParam<DType> {};

TEST_P(Reduce, SumMeanMaxOverAxes) {
  DType dtype = GetParam();
  bool isFloat = dtype == DType::F32 || dtype == DType::F64;
  std::string nodes;
  std::vector<std::string> fetches;
  for (const char *op : {"reduce_sum", "reduce_mean", "reduce_max"})
    for (const ReduceCase &c : kReduceCases) {
      std::string attrs = c.keepDims ? boolAttr("keep_dims", true) : "";
      if (!c.axes.empty())
        attrs += intsAttr("axes", c.axes);
      nodes += node(std::string(op) + "_" + c.name, op, {c.input}, attrs);
      fetches.push_back(std::string(op) + "_" + c.name);
    }
  Model model(placeholder("x", protoName(dtype), {-1, 3, 4}) +
              placeholder("x2", protoName(dtype), {-1, 3, 4}) +
              placeholder("x3", protoName(dtype), {-1, 3, 4}) + nodes +
              signature({"x", "x2", "x3"}, fetches));
  ASSERT_TRUE(model.ok());
  double rtol = dtype == DType::F32 ? 1e-5 : dtype == DType::F64 ? 1e-12 : 0;
  std::mt19937 rng(12);
  for (int64_t batch : {1, 7, 64}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Array x = isFloat ? randomArray({batch, 3, 4}, dtype, -1, 1, rng)
                      : randomArray({batch, 3, 4}, dtype, -1000, 1000, rng);
    auto out =
        model.run({{"x", tensor(x, dtype)}, {"x2", tensor(x, dtype)}, {"x3", tensor(x, dtype)}});
    for (const ReduceCase &c : kReduceCases) {
      SCOPED_TRACE(c.name);
      Array sum = reduce(x, c.axes, c.keepDims, 0, std::plus<double>());
      double n = countOver(x.shape, c.axes);
      Array mean = unary(sum, [&](double s) { return isFloat ? s / n : std::trunc(s / n); });
      Array max = reduce(x, c.axes, c.keepDims, -INFINITY,
                         [](double a, double b) { return std::max(a, b); });
      expectClose(out, "reduce_sum_" + c.name, dtype, sum, rtol, rtol);
      expectClose(out, "reduce_mean_" + c.name, dtype, mean, rtol, rtol);
      expectEqual(out, "reduce_max_" + c.name, dtype, max);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, Reduce,
                         ::testing::Values(DType::F32, DType::F64, DType::I32, DType::I64),
                         [](const auto &info) {
                           return std::string(nncc::rt::dtypeName(info.param));
                         });

TEST(Ops, ReduceMaxOfNegativesAndManyElements) {
  Model model(
      placeholder("x", "F32", {-1, 1000}) + placeholder("k", "I32", {-1, 3}) +
      node("max", "reduce_max", {"x"}, intsAttr("axes", {1})) + node("sum", "reduce_sum", {"x"}) +
      node("mean", "reduce_mean", {"x"}, intsAttr("axes", {-1})) +
      node("kmax", "reduce_max", {"k"}) + signature({"x", "k"}, {"max", "sum", "mean", "kmax"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(13);
  for (int64_t batch : {1, 7}) {
    Array x = randomArray({batch, 1000}, DType::F32, -1, 1, rng);
    Array k = randomArray({batch, 3}, DType::I32, -100000, -50000, rng); // all negative
    auto out = model.run({{"x", tensor(x, DType::F32)}, {"k", tensor(k, DType::I32)}});
    auto maxOf = [](double a, double b) { return std::max(a, b); };
    expectEqual(out, "max", DType::F32, reduce(x, {1}, false, -INFINITY, maxOf));
    expectClose(out, "sum", DType::F32, reduce(x, {}, false, 0, std::plus<double>()), 1e-5, 1e-4);
    expectClose(
        out, "mean", DType::F32,
        unary(reduce(x, {1}, false, 0, std::plus<double>()), [](double s) { return s / 1000; }),
        1e-5, 1e-6);
    expectEqual(out, "kmax", DType::I32, reduce(k, {}, false, -INFINITY, maxOf));
  }
}

/// The first index of the largest value along `axis`.
Array argmaxRef(const Array &x, int64_t axis) {
  int64_t rank = static_cast<int64_t>(x.shape.size());
  axis = axis < 0 ? axis + rank : axis;
  Shape out;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      out.push_back(x.shape[i]);
  Array r{out, std::vector<double>(count(out), -1)};
  Array best{out, std::vector<double>(count(out), -INFINITY)};
  std::vector<int64_t> st = strides(out);
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
    auto idx = unravel(i, x.shape);
    int64_t o = 0;
    for (int64_t d = 0, j = 0; d < rank; ++d)
      if (d != axis)
        o += idx[d] * st[j++];
    if (r.values[o] < 0 || x.values[i] > best.values[o]) {
      best.values[o] = x.values[i];
      r.values[o] = static_cast<double>(idx[axis]);
    }
  }
  return r;
}

TEST(Ops, ArgMaxTakesTheFirstOfTies) {
  for (DType dtype : {DType::F32, DType::F64, DType::I32, DType::I64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    // "x2" is fed x again: identical nodes of one input would be merged.
    Model model(placeholder("x", t, {-1, 5}) + placeholder("x2", t, {-1, 5}) +
                placeholder("y", t, {2, 3, 4}) + node("rows", "argmax", {"x"}, intAttr("axis", 1)) +
                node("last", "argmax", {"x2"}, intAttr("axis", -1)) +
                node("cols", "argmax", {"x"}, intAttr("axis", 0)) +
                node("y1", "argmax", {"y"}, intAttr("axis", 1)) +
                node("y0", "argmax", {"y"}, intAttr("axis", -3)) +
                signature({"x", "x2", "y"}, {"rows", "last", "cols", "y1", "y0"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(14);
    for (int64_t batch : {1, 7, 64}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      // Few distinct values: ties everywhere.
      Array x = randomArray({batch, 5}, DType::I32, -2, 2, rng);
      Array y = randomArray({2, 3, 4}, DType::I32, 0, 2, rng);
      auto out =
          model.run({{"x", tensor(x, dtype)}, {"x2", tensor(x, dtype)}, {"y", tensor(y, dtype)}});
      expectEqual(out, "rows", DType::I64, argmaxRef(x, 1));
      expectEqual(out, "last", DType::I64, argmaxRef(x, 1));
      expectEqual(out, "cols", DType::I64, argmaxRef(x, 0));
      expectEqual(out, "y1", DType::I64, argmaxRef(y, 1));
      expectEqual(out, "y0", DType::I64, argmaxRef(y, 0));
    }
  }
}

TEST(Ops, ArgMaxOfRandomFloatsAndConstantRows) {
  Model model(placeholder("x", "F32", {-1, 9}) + node("i", "argmax", {"x"}, intAttr("axis", 1)) +
              signature({"x"}, {"i"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(15);
  Array x = randomArray({64, 9}, DType::F32, -5, 5, rng);
  for (int64_t j = 0; j < 9; ++j) {
    x.values[j] = -INFINITY; // a row of -inf: index 0
    x.values[9 + j] = 3.0;   // a constant row: index 0
  }
  auto out = model.run({{"x", tensor(x, DType::F32)}});
  Array want = argmaxRef(x, 1);
  ASSERT_EQ(want.values[0], 0);
  expectEqual(out, "i", DType::I64, want);
}

/// one_hot of integer `indices`: on where the last index equals the value.
Array oneHotRef(const Array &indices, int64_t depth, double on, double off) {
  Shape shape = indices.shape;
  shape.push_back(depth);
  Array r{shape, {}};
  for (double v : indices.values)
    for (int64_t k = 0; k < depth; ++k)
      r.values.push_back(static_cast<int64_t>(v) == k ? on : off);
  return r;
}

TEST(Ops, OneHot) {
  for (DType indexType : {DType::I32, DType::I64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(indexType));
    const std::string t = protoName(indexType);
    Model model(placeholder("i", t, {-1}) + placeholder("m", t, {2, 3}) +
                node("plain", "one_hot", {"i"}, intAttr("depth", 5)) +
                node("custom", "one_hot", {"i"},
                     intAttr("depth", 5) + floatAttr("on_value", 2.5f) +
                         floatAttr("off_value", -1.0f) + typeAttr("dtype", "F64")) +
                node("matrix", "one_hot", {"m"}, intAttr("depth", 4) + typeAttr("dtype", "F32")) +
                signature({"i", "m"}, {"plain", "custom", "matrix"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(16);
    for (int64_t batch : {1, 7, 64}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      // Out of range on both sides: rows of off_value.
      Array i = randomArray({batch}, DType::I32, -2, 7, rng);
      if (batch > 1) {
        i.values[0] = -1;
        i.values[1] = 5;
      }
      Array m = randomArray({2, 3}, DType::I32, 0, 3, rng);
      auto out = model.run({{"i", tensor(i, indexType)}, {"m", tensor(m, indexType)}});
      expectEqual(out, "plain", DType::F32, oneHotRef(i, 5, 1, 0));
      expectEqual(out, "custom", DType::F64, oneHotRef(i, 5, 2.5, -1));
      expectEqual(out, "matrix", DType::F32, oneHotRef(m, 4, 1, 0));
    }
  }
}

/// `v` converted as TensorFlow's cast does: floats truncate toward zero,
/// nonzero is true, f64 -> f32 rounds.
double castRef(double v, DType to) {
  switch (to) {
  case DType::F32:
    return static_cast<float>(v);
  case DType::F64:
    return v;
  case DType::I32:
  case DType::I64:
    return std::trunc(v);
  case DType::Bool:
    return v != 0 ? 1 : 0;
  }
  return v;
}

class Cast : public ::testing::TestWithParam<DType> {};

TEST_P(Cast, ToEveryDtype) {
  DType from = GetParam();
  const DType all[] = {DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool};
  std::string nodes;
  std::vector<std::string> fetches;
  for (DType to : all) {
    std::string name = std::string("to_") + nncc::rt::dtypeName(to);
    nodes += node(name, "cast", {"x"}, typeAttr("dtype", protoName(to)));
    fetches.push_back(name);
  }
  Model model(placeholder("x", protoName(from), {-1, 4}) + nodes + signature({"x"}, fetches));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(17);
  for (int64_t batch : {1, 7, 64}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Array x = randomArray({batch, 4}, from, -6, 6, rng);
    if (from == DType::F32 || from == DType::F64) {
      // Truncation toward zero on both sides, zero and a fraction of zero.
      const double edges[] = {2.7, -2.7, 0.0, -0.5};
      for (int j = 0; j < 4; ++j)
        x.values[j] = castRef(edges[j], from);
      if (from == DType::F64)
        if (batch > 1)
          x.values[4] = 0.1; // rounds when cast to f32
    }
    auto out = model.run({{"x", tensor(x, from)}});
    for (DType to : all)
      expectEqual(out, std::string("to_") + nncc::rt::dtypeName(to), to,
                  unary(x, [to](double v) { return castRef(v, to); }));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Ops, Cast, ::testing::Values(DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool),
    [](const auto &info) { return std::string(nncc::rt::dtypeName(info.param)); });

// Two fetches can share one buffer: identical nodes merged by CSE, or a
// dynamic-shape reshape (a view) fetched with what it reshapes. The session
// must free such a buffer once (it used to free it twice).
TEST(Ops, AliasedFetchesAreFreedOnce) {
  Model model(
      placeholder("x", "F32", {-1, 3}) + node("a", "add", {"x", "x"}) +
      node("b", "add", {"x", "x"}) + node("flat", "reshape", {"a"}, intsAttr("shape", {-1})) +
      node("sum", "reduce_sum", {"x"}, intsAttr("axes", {1})) +
      node("kept", "reduce_sum", {"x"}, intsAttr("axes", {1}) + boolAttr("keep_dims", true)) +
      signature({"x"}, {"a", "b", "flat", "sum", "kept"}));
  ASSERT_TRUE(model.ok());
  for (int i = 0; i < 3; ++i) {
    auto out = model.run({{"x", Tensor::of<float>({2, 3}, {1, 2, 3, 4, 5, 6})}});
    Array twice{{2, 3}, {2, 4, 6, 8, 10, 12}};
    expectEqual(out, "a", DType::F32, twice);
    expectEqual(out, "b", DType::F32, twice);
    expectEqual(out, "flat", DType::F32, reshaped(twice, {6}));
    expectEqual(out, "sum", DType::F32, {{2}, {6, 15}});
    expectEqual(out, "kept", DType::F32, {{2, 1}, {6, 15}});
  }
}

//===----------------------------------------------------------------------===//
// reduce_min, reduce_prod, transpose, slice
//===----------------------------------------------------------------------===//

TEST_P(Reduce, MinAndProdOverAxes) {
  DType dtype = GetParam();
  bool isFloat = dtype == DType::F32 || dtype == DType::F64;
  std::string nodes;
  std::vector<std::string> fetches;
  for (const char *op : {"reduce_min", "reduce_prod"})
    for (const ReduceCase &c : kReduceCases) {
      std::string attrs = c.keepDims ? boolAttr("keep_dims", true) : "";
      if (!c.axes.empty())
        attrs += intsAttr("axes", c.axes);
      nodes += node(std::string(op) + "_" + c.name, op, {c.input}, attrs);
      fetches.push_back(std::string(op) + "_" + c.name);
    }
  Model model(placeholder("x", protoName(dtype), {-1, 3, 4}) +
              placeholder("x2", protoName(dtype), {-1, 3, 4}) +
              placeholder("x3", protoName(dtype), {-1, 3, 4}) + nodes +
              signature({"x", "x2", "x3"}, fetches));
  ASSERT_TRUE(model.ok());
  double rtol = dtype == DType::F32 ? 1e-5 : dtype == DType::F64 ? 1e-12 : 0;
  std::mt19937 rng(21);
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    // Products of up to 36 elements: near 1 for floats, small for integers
    // (whose products wrap identically anyway only below 2^31).
    Array x = isFloat ? randomArray({batch, 3, 4}, dtype, 0.5, 1.5, rng)
                      : randomArray({batch, 3, 4}, dtype, -1, 1, rng);
    if (!isFloat)
      x.values[0] = 2;
    auto out =
        model.run({{"x", tensor(x, dtype)}, {"x2", tensor(x, dtype)}, {"x3", tensor(x, dtype)}});
    for (const ReduceCase &c : kReduceCases) {
      SCOPED_TRACE(c.name);
      expectEqual(out, "reduce_min_" + c.name, dtype,
                  reduce(x, c.axes, c.keepDims, INFINITY,
                         [](double a, double b) { return std::min(a, b); }));
      expectClose(out, "reduce_prod_" + c.name, dtype,
                  reduce(x, c.axes, c.keepDims, 1, std::multiplies<double>()), rtol, rtol);
    }
  }
}

TEST(Ops, ReduceMinAndProdOfNothingAndNaN) {
  Model model(placeholder("x", "F32", {-1, 2}) +
              node("min", "reduce_min", {"x"}, intsAttr("axes", {0})) +
              node("prod", "reduce_prod", {"x"}, intsAttr("axes", {0})) +
              signature({"x"}, {"min", "prod"}));
  ASSERT_TRUE(model.ok());
  auto none = model.run({{"x", Tensor(DType::F32, {0, 2})}});
  expectEqual(none, "min", DType::F32, {{2}, {INFINITY, INFINITY}});
  expectEqual(none, "prod", DType::F32, {{2}, {1, 1}});
  auto nan = model.run({{"x", Tensor::of<float>({2, 2}, {NAN, 2, 1, -3})}});
  expectEqual(nan, "min", DType::F32, {{2}, {NAN, -3}});
  expectEqual(nan, "prod", DType::F32, {{2}, {NAN, -6}});
}

/// NumPy's transpose of `x` by `perm`.
Array transposed(const Array &x, const std::vector<int64_t> &perm) {
  Shape shape;
  for (int64_t p : perm)
    shape.push_back(x.shape[p]);
  Array r{shape, {}};
  std::vector<int64_t> st = strides(x.shape);
  for (int64_t i = 0; i < count(shape); ++i) {
    auto idx = unravel(i, shape);
    int64_t flat = 0;
    for (size_t d = 0; d < perm.size(); ++d)
      flat += idx[d] * st[perm[d]];
    r.values.push_back(x.values[flat]);
  }
  return r;
}

TEST(Ops, TransposeWithUnknownBatch) {
  for (DType dtype : {DType::F32, DType::I64, DType::Bool}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    Model model(placeholder("x", t, {-1, 3, 4}) +
                node("t120", "transpose", {"x"}, intsAttr("perm", {1, 2, 0})) +
                node("t021", "transpose", {"x"}, intsAttr("perm", {0, 2, 1})) +
                node("t012", "transpose", {"x"}, intsAttr("perm", {0, 1, 2})) +
                signature({"x"}, {"t120", "t021", "t012"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(4);
    for (int64_t batch : {1, 5}) {
      Array x = randomArray({batch, 3, 4}, dtype, -50, 50, rng);
      auto out = model.run({{"x", tensor(x, dtype)}});
      expectEqual(out, "t120", dtype, transposed(x, {1, 2, 0}));
      expectEqual(out, "t021", dtype, transposed(x, {0, 2, 1}));
      expectEqual(out, "t012", dtype, x);
    }
  }
}

/// Rows r0.. r0 + rows and columns c0.. c0 + cols of a [?, 5] matrix.
Array block(const Array &x, int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
  Array r{{rows, cols}, {}};
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      r.values.push_back(x.values[(r0 + i) * x.shape[1] + c0 + j]);
  return r;
}

TEST(Ops, SliceWithUnknownBatch) {
  Model model(
      placeholder("x", "F32", {-1, 5}) +
      node("block", "slice", {"x"}, intsAttr("begins", {0, 1}) + intsAttr("sizes", {1, 3})) +
      node("cols", "slice", {"x"}, intsAttr("begins", {0, 3}) + intsAttr("sizes", {-1, 2})) +
      signature({"x"}, {"block", "cols"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(6);
  for (int64_t batch : {1, 4}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Array x = randomArray({batch, 5}, DType::F32, -9, 9, rng);
    auto out = model.run({{"x", tensor(x, DType::F32)}});
    expectEqual(out, "block", DType::F32, block(x, 0, 1, 1, 3));
    expectEqual(out, "cols", DType::F32, block(x, 0, batch, 3, 2));
  }
}

#ifndef NNCC_OPS_ON_CUDA
// The rest of an unknown batch: N - 1 rows, which the CUDA target (every
// unknown size a multiple of the batch N) refuses.
TEST(Ops, SliceOfTheBatch) {
  Model model(
      placeholder("x", "F32", {-1, 5}) +
      node("rows", "slice", {"x"}, intsAttr("begins", {1, 0}) + intsAttr("sizes", {-1, -1})) +
      signature({"x"}, {"rows"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(6);
  for (int64_t batch : {1, 4}) {
    Array x = randomArray({batch, 5}, DType::F32, -9, 9, rng);
    auto out = model.run({{"x", tensor(x, DType::F32)}});
    expectEqual(out, "rows", DType::F32, block(x, 1, batch - 1, 0, 5));
  }
}
#endif

TEST(Ops, ConcatWithUnknownBatch) {
  for (DType dtype : {DType::F32, DType::I32}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    Model model(placeholder("a", t, {-1, 2}) + placeholder("b", t, {-1, 3}) +
                placeholder("c", t, {-1, 1}) +
                node("cols", "concat", {"a", "b", "c", "a"}, intAttr("axis", -1)) +
                node("one", "concat", {"b"}, intAttr("axis", 0)) +
                signature({"a", "b", "c"}, {"cols", "one"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(9);
    for (int64_t batch : {1, 4}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      Array a = randomArray({batch, 2}, dtype, -9, 9, rng);
      Array b = randomArray({batch, 3}, dtype, -9, 9, rng);
      Array c = randomArray({batch, 1}, dtype, -9, 9, rng);
      auto out =
          model.run({{"a", tensor(a, dtype)}, {"b", tensor(b, dtype)}, {"c", tensor(c, dtype)}});
      Array want{{batch, 8}, {}};
      for (int64_t i = 0; i < batch; ++i)
        for (const Array *x : {&a, &b, &c, &a})
          for (int64_t j = 0; j < x->shape[1]; ++j)
            want.values.push_back(x->values[i * x->shape[1] + j]);
      expectEqual(out, "cols", dtype, want);
      expectEqual(out, "one", dtype, b);
    }
  }
}

#ifndef NNCC_OPS_ON_CUDA
// Along the batch: 2N + 1 rows, which the CUDA target (every unknown size a
// multiple of the batch N) refuses.
TEST(Ops, ConcatAlongTheBatch) {
  Model model(placeholder("a", "F32", {-1, 3}) + placeholder("b", "F32", {1, 3}) +
              node("rows", "concat", {"a", "b", "a"}, intAttr("axis", 0)) +
              signature({"a", "b"}, {"rows"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(10);
  for (int64_t batch : {1, 3}) {
    Array a = randomArray({batch, 3}, DType::F32, -9, 9, rng);
    Array b = randomArray({1, 3}, DType::F32, -9, 9, rng);
    auto out = model.run({{"a", tensor(a, DType::F32)}, {"b", tensor(b, DType::F32)}});
    Array want{{2 * batch + 1, 3}, a.values};
    want.values.insert(want.values.end(), b.values.begin(), b.values.end());
    want.values.insert(want.values.end(), a.values.begin(), a.values.end());
    expectEqual(out, "rows", DType::F32, want);
  }
}
#endif

} // namespace
