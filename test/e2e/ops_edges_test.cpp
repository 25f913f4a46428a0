// NaN and edge semantics of the nn ops, one table of {graph, feeds, expected}
// run by ops_test on the CPU and by ops_cuda_test on the CUDA target too (its
// fetches must be the CPU's). The expected values are NumPy's, or where NumPy
// refuses (an error) or has no integer answer, the choice stated here:
//
//   integer a / 0                  0 (NumPy's floor_divide; never a trap)
//   integer MIN / -1               MIN (NumPy)
//   x / x                          not folded to 1: 0 / 0 is 0 (integers), NaN (floats)
//   float 0 / 0, x / 0             NaN, +-inf (IEEE)
//   reduce_sum over no elements    0 (NumPy)
//   reduce_mean over no elements   NaN (NumPy); 0 for integers (0 / 0 above)
//   reduce_max over no elements    -inf, the lowest integer (TensorFlow; NumPy: error)
//   argmax over an empty axis      -1 (NumPy: error)
//   matmul with a zero dimension   the empty product; K = 0 gives zeros (NumPy)
//   argmax, reduce_max with NaN    NaN is the largest, the first NaN wins (NumPy)
//
// (Integer division truncates toward zero, as TensorFlow's truncatediv; only
// its edges follow NumPy. No min, argmin, floor division or mod op exists yet.)
#include "test/e2e/OpsTestSupport.h"

#include <climits>

using namespace nncc::test::ops;

namespace {

constexpr double kMin32 = INT32_MIN;
constexpr double kMin64 = static_cast<double>(INT64_MIN);

struct Feed {
  std::string name;
  DType dtype;
  Array value;
};

struct Fetch {
  std::string name;
  DType dtype;
  Array value;
};

struct EdgeCase {
  std::string name;
  std::string graph; // placeholders and nodes; the signature feeds and fetches
  std::vector<Feed> feeds;
  std::vector<Fetch> expected;
};

/// A constant node with a graph.proto tensor value written out.
std::string constant(const std::string &name, const std::string &tensorText) {
  return "nodes { name: \"" + name +
         "\" op: \"constant\" attrs { key: \"value\" value { tensor { " + tensorText + " } } } }\n";
}

/// The case's name in gtest's messages.
void PrintTo(const EdgeCase &c, std::ostream *os) { *os << c.name; }

std::vector<EdgeCase> edgeCases() {
  const double inf = INFINITY, nan = NAN;
  std::vector<EdgeCase> cases;
  // (a) Integer division.
  for (DType t : {DType::I32, DType::I64}) {
    std::string p = protoName(t);
    double min = t == DType::I32 ? kMin32 : kMin64;
    cases.push_back(
        {std::string("IntegerDivisionByZeroAndOverflow") + p,
         placeholder("a", p, {-1}) + placeholder("b", p, {-1}) + node("q", "div", {"a", "b"}),
         {{"a", t, {{6}, {7, -7, 0, min, min, 5}}}, {"b", t, {{6}, {0, 0, 0, -1, 1, -1}}}},
         {{"q", t, {{6}, {0, 0, 0, min, min, -5}}}}});
    // A divisor row broadcast over the batch.
    cases.push_back(
        {std::string("IntegerDivisionByBroadcastZero") + p,
         placeholder("a", p, {-1, 3}) + placeholder("b", p, {3}) + node("q", "div", {"a", "b"}),
         {{"a", t, {{2, 3}, {4, min, -9, 0, 8, 9}}}, {"b", t, {{3}, {0, -1, 2}}}},
         {{"q", t, {{2, 3}, {0, min, -4, 0, -8, 4}}}}});
    cases.push_back({std::string("IntegerXOverXIsNotFoldedToOne") + p,
                     placeholder("x", p, {-1}) + node("q", "div", {"x", "x"}),
                     {{"x", t, {{4}, {0, 3, -2, min}}}},
                     {{"q", t, {{4}, {0, 1, 1, 1}}}}});
  }
  cases.push_back({"IntegerDivisionOfConstantsFoldsTheSame",
                   placeholder("x", "I32", {-1}) +
                       constant("a", "dtype: I32 dims: 2 int_val: [7, -2147483648]") +
                       constant("b", "dtype: I32 dims: 2 int_val: [0, -1]") +
                       node("q", "div", {"a", "b"}) + node("y", "neg", {"x"}),
                   {{"x", DType::I32, {{1}, {1}}}},
                   {{"q", DType::I32, {{2}, {0, kMin32}}}, {"y", DType::I32, {{1}, {-1}}}}});
  for (DType t : {DType::F32, DType::F64}) {
    std::string p = protoName(t);
    cases.push_back(
        {std::string("FloatXOverXAndDivisionByZero") + p,
         placeholder("x", p, {-1}) + placeholder("z", p, {-1}) + node("q", "div", {"x", "x"}) +
             node("r", "div", {"x", "z"}),
         {{"x", t, {{5}, {0, inf, nan, 2, -3}}}, {"z", t, {{5}, {0, 0, 0, 0, 0}}}},
         {{"q", t, {{5}, {nan, nan, nan, 1, 1}}}, {"r", t, {{5}, {nan, inf, nan, inf, -inf}}}}});
  }

  // (b) Empty tensors: a batch of 0 through every kind of kernel.
  for (DType t : {DType::F32, DType::F64}) {
    std::string p = protoName(t);
    cases.push_back({std::string("EmptyBatchReductions") + p,
                     placeholder("x", p, {-1, 3}) + placeholder("row", p, {3}) +
                         node("sum", "add", {"x", "row"}) + node("relu", "relu", {"x"}) +
                         node("col_sum", "reduce_sum", {"x"}, intsAttr("axes", {0})) +
                         node("row_sum", "reduce_sum", {"x"}, intsAttr("axes", {1})) +
                         node("all_sum", "reduce_sum", {"x"}) +
                         node("col_mean", "reduce_mean", {"x"}, intsAttr("axes", {0})) +
                         node("all_mean", "reduce_mean", {"x"}) +
                         node("col_max", "reduce_max", {"x"}, intsAttr("axes", {0})) +
                         node("row_max", "reduce_max", {"x"}, intsAttr("axes", {-1})) +
                         node("all_max", "reduce_max", {"x"}) +
                         node("row_arg", "argmax", {"x"}, intAttr("axis", 1)) +
                         node("col_arg", "argmax", {"x"}, intAttr("axis", 0)),
                     {{"x", t, {{0, 3}, {}}}, {"row", t, {{3}, {1, 2, 3}}}},
                     {{"sum", t, {{0, 3}, {}}},
                      {"relu", t, {{0, 3}, {}}},
                      {"col_sum", t, {{3}, {0, 0, 0}}},
                      {"row_sum", t, {{0}, {}}},
                      {"all_sum", t, {{}, {0}}},
                      {"col_mean", t, {{3}, {nan, nan, nan}}},
                      {"all_mean", t, {{}, {nan}}},
                      {"col_max", t, {{3}, {-inf, -inf, -inf}}},
                      {"row_max", t, {{0}, {}}},
                      {"all_max", t, {{}, {-inf}}},
                      {"row_arg", DType::I64, {{0}, {}}},
                      {"col_arg", DType::I64, {{3}, {-1, -1, -1}}}}});
  }
  for (DType t : {DType::I32, DType::I64}) {
    std::string p = protoName(t);
    double min = t == DType::I32 ? kMin32 : kMin64;
    cases.push_back({std::string("EmptyBatchIntegerReductions") + p,
                     placeholder("x", p, {-1, 3}) + node("q", "div", {"x", "x"}) +
                         node("col_sum", "reduce_sum", {"x"}, intsAttr("axes", {0})) +
                         node("col_mean", "reduce_mean", {"x"}, intsAttr("axes", {0})) +
                         node("all_mean", "reduce_mean", {"x"}) +
                         node("col_max", "reduce_max", {"x"}, intsAttr("axes", {0})) +
                         node("col_arg", "argmax", {"x"}, intAttr("axis", 0)),
                     {{"x", t, {{0, 3}, {}}}},
                     {{"q", t, {{0, 3}, {}}},
                      {"col_sum", t, {{3}, {0, 0, 0}}},
                      {"col_mean", t, {{3}, {0, 0, 0}}},
                      {"all_mean", t, {{}, {0}}},
                      {"col_max", t, {{3}, {min, min, min}}},
                      {"col_arg", DType::I64, {{3}, {-1, -1, -1}}}}});
  }
  cases.push_back(
      {"EmptyBatchNetworkOps",
       placeholder("x", "F32", {-1, 3}) + placeholder("w", "F32", {3, 2}) +
           placeholder("k", "I32", {-1}) + node("xw", "matmul", {"x", "w"}) +
           node("sm", "softmax", {"x"}) + node("sm0", "softmax", {"x"}, intAttr("axis", 0)) +
           node("lsm", "log_softmax", {"x"}) + node("oh", "one_hot", {"k"}, intAttr("depth", 4)) +
           node("ce", "softmax_cross_entropy", {"x", "k"}) +
           node("mse", "mean_squared_error", {"x", "x"}),
       {{"x", DType::F32, {{0, 3}, {}}},
        {"w", DType::F32, {{3, 2}, {1, 2, 3, 4, 5, 6}}},
        {"k", DType::I32, {{0}, {}}}},
       {{"xw", DType::F32, {{0, 2}, {}}},
        {"sm", DType::F32, {{0, 3}, {}}},
        {"sm0", DType::F32, {{0, 3}, {}}},
        {"lsm", DType::F32, {{0, 3}, {}}},
        {"oh", DType::F32, {{0, 4}, {}}},
        {"ce", DType::F32, {{0}, {}}},
        {"mse", DType::F32, {{}, {nan}}}}});
  // The contraction of length 0: np.zeros((2, 0)) @ np.zeros((0, 3)) is
  // zeros((2, 3)).
  for (DType t : {DType::F32, DType::I32}) {
    std::string p = protoName(t);
    cases.push_back(
        {std::string("MatMulOverNoTermsIsZeros") + p,
         placeholder("a", p, {2, -1}) + placeholder("b", p, {-1, 3}) +
             node("ab", "matmul", {"a", "b"}) +
             node("ba", "matmul", {"b", "a"},
                  boolAttr("transpose_a", true) + boolAttr("transpose_b", true)),
         {{"a", t, {{2, 0}, {}}}, {"b", t, {{0, 3}, {}}}},
         {{"ab", t, {{2, 3}, {0, 0, 0, 0, 0, 0}}}, {"ba", t, {{3, 2}, {0, 0, 0, 0, 0, 0}}}}});
  }

  // (c) NaN is the largest value: np.argmax([1, nan, 3]) is 1 (the first
  // NaN), np.max of a row with a NaN is NaN; -inf and +inf order as numbers.
  for (DType t : {DType::F32, DType::F64}) {
    std::string p = protoName(t);
    cases.push_back({std::string("ArgMaxAndMaxTakeNaNAsNumPyDoes") + p,
                     placeholder("x", p, {-1, 3}) + node("i", "argmax", {"x"}, intAttr("axis", 1)) +
                         node("m", "reduce_max", {"x"}, intsAttr("axes", {1})) +
                         node("c", "argmax", {"x"}, intAttr("axis", 0)),
                     {{"x",
                       t,
                       {{5, 3},
                        {1, nan, 3,    //
                         nan, 0, 1,    //
                         2, 5, nan,    //
                         -inf, inf, 4, //
                         nan, nan, -1}}}},
                     {{"i", DType::I64, {{5}, {1, 0, 2, 1, 0}}},
                      {"m", t, {{5}, {nan, nan, nan, inf, nan}}},
                      {"c", DType::I64, {{3}, {1, 0, 2}}}}});
  }
  return cases;
}

class Edges : public ::testing::TestWithParam<EdgeCase> {};

TEST_P(Edges, AsStated) {
  const EdgeCase &c = GetParam();
  std::vector<std::string> feedNames, fetchNames;
  for (const Feed &f : c.feeds)
    feedNames.push_back(f.name);
  for (const Fetch &f : c.expected)
    fetchNames.push_back(f.name);
  Model model(c.graph + signature(feedNames, fetchNames));
  ASSERT_TRUE(model.ok());
  TensorMap feeds;
  for (const Feed &f : c.feeds)
    feeds.emplace(f.name, tensor(f.value, f.dtype));
  auto out = model.run(feeds);
  for (const Fetch &f : c.expected)
    expectEqual(out, f.name, f.dtype, f.value);
}

INSTANTIATE_TEST_SUITE_P(Ops, Edges, ::testing::ValuesIn(edgeCases()),
                         [](const auto &info) { return info.param.name; });

} // namespace
