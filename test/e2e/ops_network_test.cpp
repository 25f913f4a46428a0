// Network ops on the CPU against a C++ reference: matmul (transposes,
// batches, broadcast and unknown batches), bias_add, softmax, log_softmax,
// softmax_cross_entropy (one-hot and sparse labels) and mean_squared_error.
#include "test/e2e/OpsTestSupport.h"

#include "runtime/Random.h"

using namespace nncc::test::ops;

namespace {

// Sums over many products: relative to the result and absolute to the sizes
// of the terms (the inputs are in [-1, 1]).
constexpr double kSumRtol = 1e-5, kSumAtol = 1e-5;

/// lhs [m, k] or [k, m] and rhs [k, n] or [n, k] as the transposes say.
Shape operandShape(Shape batch, int64_t rows, int64_t cols, bool transposed) {
  batch.push_back(transposed ? cols : rows);
  batch.push_back(transposed ? rows : cols);
  return batch;
}

/// matmul of placeholders declared `aDecl`, `bDecl`, run on each fed pair.
void checkMatMul(DType dtype, const Shape &aDecl, const Shape &bDecl, bool ta, bool tb,
                 const std::vector<std::pair<Shape, Shape>> &fed) {
  const std::string t = protoName(dtype);
  Model model(
      placeholder("a", t, aDecl) + placeholder("b", t, bDecl) +
      node("c", "matmul", {"a", "b"}, boolAttr("transpose_a", ta) + boolAttr("transpose_b", tb)) +
      signature({"a", "b"}, {"c"}));
  ASSERT_TRUE(model.ok());
  bool isFloat = dtype == DType::F32 || dtype == DType::F64;
  std::mt19937 rng(99);
  for (const auto &[as, bs] : fed) {
    SCOPED_TRACE("lhs " + nncc::rt::shapeString(as) + " rhs " + nncc::rt::shapeString(bs) +
                 (ta ? " transpose_a" : "") + (tb ? " transpose_b" : ""));
    Array a = isFloat ? randomArray(as, dtype, -1, 1, rng) : randomArray(as, dtype, -9, 9, rng);
    Array b = isFloat ? randomArray(bs, dtype, -1, 1, rng) : randomArray(bs, dtype, -9, 9, rng);
    auto out = model.run({{"a", tensor(a, dtype)}, {"b", tensor(b, dtype)}});
    if (isFloat)
      expectClose(out, "c", dtype, matmul(a, b, ta, tb), kSumRtol, kSumAtol);
    else
      expectEqual(out, "c", dtype, matmul(a, b, ta, tb));
  }
}

struct MatMulCase {
  DType dtype;
  bool ta, tb;
};

// gtest would print the bytes, padding included.
void PrintTo(const MatMulCase &c, std::ostream *os) {
  *os << nncc::rt::dtypeName(c.dtype) << (c.ta ? " transpose_a" : "")
      << (c.tb ? " transpose_b" : "");
}

class MatMul : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(MatMul, Plain) {
  auto [dtype, ta, tb] = GetParam();
  Shape a = operandShape({}, 5, 7, ta), b = operandShape({}, 7, 3, tb);
  checkMatMul(dtype, a, b, ta, tb, {{a, b}});
  // Many terms per sum.
  Shape bigA = operandShape({}, 33, 300, ta), bigB = operandShape({}, 300, 17, tb);
  checkMatMul(dtype, bigA, bigB, ta, tb, {{bigA, bigB}});
}

TEST_P(MatMul, UnknownRowsOrContractionFedSeveralSizes) {
  auto [dtype, ta, tb] = GetParam();
  std::vector<std::pair<Shape, Shape>> rows, depth;
  for (int64_t size : {1, 7, 64}) {
    rows.push_back({operandShape({}, size, 6, ta), operandShape({}, 6, 4, tb)});
    depth.push_back({operandShape({}, 5, size, ta), operandShape({}, size, 4, tb)});
  }
  // [?, 6] x [6, 4]
  checkMatMul(dtype, operandShape({}, -1, 6, ta), operandShape({}, 6, 4, tb), ta, tb, rows);
  // [5, ?] x [?, 4]: the contracted size is unknown.
  checkMatMul(dtype, operandShape({}, 5, -1, ta), operandShape({}, -1, 4, tb), ta, tb, depth);
}

// The CPU kernels' edges: several k blocks of 128 with a partial last one
// (and partial tiles of the transposed pack), full column panels and a
// masked tail, a wide B that is packed, rows left over by the row blocks,
// several row tiles of an unpacked B with a partial last one (400 rows of
// 50 columns: tiles of 162 rows in f32), and rows fed at several sizes.
// Not in the CUDA mirror, whose tiles have edges of their own
// (cuda_test: CudaProducts.EveryTilingGivesTheCpuResults).
#ifndef NNCC_OPS_ON_CUDA
TEST_P(MatMul, KernelBlocksPanelsAndTails) {
  auto [dtype, ta, tb] = GetParam();
  for (auto [m, k, n] :
       {std::array<int64_t, 3>{70, 300, 113}, {9, 140, 1030}, {3, 5, 50}, {400, 300, 50}}) {
    checkMatMul(dtype, operandShape({}, m, k, ta), operandShape({}, k, n, tb), ta, tb,
                {{operandShape({}, m, k, ta), operandShape({}, k, n, tb)}});
    std::vector<std::pair<Shape, Shape>> rows;
    for (int64_t size : {1, 37})
      rows.push_back({operandShape({}, size, k, ta), operandShape({}, k, n, tb)});
    checkMatMul(dtype, operandShape({}, -1, k, ta), operandShape({}, k, n, tb), ta, tb, rows);
  }
}
#endif

TEST_P(MatMul, Batched) {
  auto [dtype, ta, tb] = GetParam();
  Shape a = operandShape({3}, 4, 5, ta), b = operandShape({3}, 5, 2, tb);
  checkMatMul(dtype, a, b, ta, tb, {{a, b}});
}

TEST_P(MatMul, BroadcastBatch) {
  auto [dtype, ta, tb] = GetParam();
  // [b, m, k] x [k, n], [m, k] x [b, k, n], and a batch of 1 that stretches.
  Shape a3 = operandShape({3}, 4, 5, ta), b2 = operandShape({}, 5, 2, tb);
  checkMatMul(dtype, a3, b2, ta, tb, {{a3, b2}});
  Shape a2 = operandShape({}, 4, 5, ta), b3 = operandShape({3}, 5, 2, tb);
  checkMatMul(dtype, a2, b3, ta, tb, {{a2, b3}});
  Shape a1 = operandShape({2, 1}, 4, 5, ta), b4 = operandShape({3}, 5, 2, tb);
  checkMatMul(dtype, a1, b4, ta, tb, {{a1, b4}});
}

TEST_P(MatMul, UnknownBatchFedSeveralSizes) {
  auto [dtype, ta, tb] = GetParam();
  std::vector<std::pair<Shape, Shape>> broadcast, both;
  for (int64_t batch : {1, 7, 64}) {
    broadcast.push_back({operandShape({batch}, 4, 5, ta), operandShape({}, 5, 3, tb)});
    both.push_back({operandShape({batch}, 4, 5, ta), operandShape({batch}, 5, 3, tb)});
  }
  // [?, m, k] x [k, n]
  checkMatMul(dtype, operandShape({-1}, 4, 5, ta), operandShape({}, 5, 3, tb), ta, tb, broadcast);
  // [?, m, k] x [?, k, n]
  checkMatMul(dtype, operandShape({-1}, 4, 5, ta), operandShape({-1}, 5, 3, tb), ta, tb, both);
  // [m, k] x [?, k, n]: the batch comes from the rhs.
  std::vector<std::pair<Shape, Shape>> fromRhs;
  for (int64_t batch : {1, 7})
    fromRhs.push_back({operandShape({}, 4, 5, ta), operandShape({batch}, 5, 3, tb)});
  checkMatMul(dtype, operandShape({}, 4, 5, ta), operandShape({-1}, 5, 3, tb), ta, tb, fromRhs);
}

std::string matMulCaseName(const ::testing::TestParamInfo<MatMulCase> &info) {
  return std::string(nncc::rt::dtypeName(info.param.dtype)) + (info.param.ta ? "_TransposeA" : "") +
         (info.param.tb ? "_TransposeB" : "");
}

INSTANTIATE_TEST_SUITE_P(
    Ops, MatMul,
    ::testing::Values(MatMulCase{DType::F32, false, false}, MatMulCase{DType::F32, true, false},
                      MatMulCase{DType::F32, false, true}, MatMulCase{DType::F32, true, true},
                      MatMulCase{DType::F64, false, false}, MatMulCase{DType::I32, false, false},
                      MatMulCase{DType::I32, true, true}, MatMulCase{DType::I64, false, true}),
    matMulCaseName);

struct ConvCase {
  int64_t h, w, c, kh, kw, f;
  std::vector<int64_t> strides, dilations;
  std::string padding;
};

/// conv2d on images of an unknown batch, fed 1 and 3 images, against the
/// reference, in f32 and f64.
void checkConv2D(const ConvCase &k) {
  for (DType dtype : {DType::F32, DType::F64}) {
    SCOPED_TRACE(std::string(nncc::rt::dtypeName(dtype)) + " " + k.padding + " " +
                 std::to_string(k.h) + "x" + std::to_string(k.w) + " filter " +
                 std::to_string(k.kh) + "x" + std::to_string(k.kw) + " strides " +
                 std::to_string(k.strides[0]) + "," + std::to_string(k.strides[1]) + " dilations " +
                 std::to_string(k.dilations[0]) + "," + std::to_string(k.dilations[1]));
    const std::string t = protoName(dtype);
    Model model(placeholder("x", t, {-1, k.h, k.w, k.c}) +
                placeholder("f", t, {k.kh, k.kw, k.c, k.f}) +
                node("y", "conv2d", {"x", "f"},
                     intsAttr("strides", k.strides) + intsAttr("dilations", k.dilations) +
                         "attrs { key: \"padding\" value { s: \"" + k.padding + "\" } } ") +
                signature({"x", "f"}, {"y"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(11);
    for (int64_t batch : {1, 3}) {
      Array x = randomArray({batch, k.h, k.w, k.c}, dtype, -1, 1, rng);
      Array f = randomArray({k.kh, k.kw, k.c, k.f}, dtype, -1, 1, rng);
      auto out = model.run({{"x", tensor(x, dtype)}, {"f", tensor(f, dtype)}});
      expectClose(out, "y", dtype, conv2d(x, f, k.strides, k.padding, k.dilations), kSumRtol,
                  kSumAtol);
    }
  }
}

TEST(Ops, Conv2DAsTensorFlow) {
  checkConv2D({6, 5, 3, 3, 3, 4, {1, 1}, {1, 1}, "VALID"});
  checkConv2D({6, 5, 3, 3, 3, 4, {1, 1}, {1, 1}, "SAME"});
  // Even sizes and strides: SAME puts the odd padding row after.
  checkConv2D({7, 8, 2, 2, 4, 3, {2, 3}, {1, 1}, "SAME"});
  checkConv2D({9, 7, 2, 3, 2, 2, {2, 2}, {1, 1}, "VALID"});
  checkConv2D({9, 9, 2, 3, 3, 2, {1, 1}, {2, 3}, "SAME"});
  checkConv2D({9, 9, 2, 3, 2, 2, {2, 1}, {2, 2}, "VALID"});
  // One input channel, a 1x1 filter, a filter as big as the image.
  checkConv2D({5, 5, 1, 1, 1, 3, {1, 1}, {1, 1}, "SAME"});
  checkConv2D({4, 4, 3, 4, 4, 2, {1, 1}, {1, 1}, "VALID"});
}

TEST(Ops, MaxAndAvgPoolAsTensorFlow) {
  struct Case {
    int64_t h, w;
    std::vector<int64_t> ksize, strides;
    std::string padding;
  };
  for (const Case &k : std::vector<Case>{{8, 8, {2, 2}, {2, 2}, "VALID"},
                                         {7, 9, {2, 2}, {2, 2}, "SAME"},
                                         {7, 6, {3, 2}, {2, 1}, "SAME"},
                                         {9, 7, {3, 3}, {1, 2}, "VALID"}})
    for (DType dtype : {DType::F32, DType::F64}) {
      SCOPED_TRACE(std::string(nncc::rt::dtypeName(dtype)) + " " + k.padding + " " +
                   std::to_string(k.h) + "x" + std::to_string(k.w) + " ksize " +
                   std::to_string(k.ksize[0]) + "x" + std::to_string(k.ksize[1]));
      const std::string t = protoName(dtype);
      std::string window = intsAttr("ksize", k.ksize) + intsAttr("strides", k.strides) +
                           "attrs { key: \"padding\" value { s: \"" + k.padding + "\" } } ";
      Model model(placeholder("x", t, {-1, k.h, k.w, 3}) + node("mx", "max_pool", {"x"}, window) +
                  node("av", "avg_pool", {"x"}, window) + signature({"x"}, {"mx", "av"}));
      ASSERT_TRUE(model.ok());
      std::mt19937 rng(12);
      for (int64_t batch : {1, 2}) {
        Array x = randomArray({batch, k.h, k.w, 3}, dtype, -1, 1, rng);
        auto out = model.run({{"x", tensor(x, dtype)}});
        expectEqual(out, "mx", dtype, pool(x, k.ksize, k.strides, k.padding, true));
        expectClose(out, "av", dtype, pool(x, k.ksize, k.strides, k.padding, false), kSumRtol,
                    kSumAtol);
      }
    }
}

// dropout: in a training signature each step draws a mask from the Philox
// stream of (element, step) under the seed, the kept elements scaled by
// 1 / (1 - rate), and the gradient flows through the same mask (the next
// step's w shows it); in any other signature it is the identity.
TEST(Ops, DropoutDrawsAPhiloxMaskPerStep) {
  const char *layers = R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 50 } }
    variables { name: "w" dtype: F32 shape: 50 initializer { kind: ONES } }
    nodes { name: "wx" op: "mul" inputs: "x" inputs: "w" }
    nodes { name: "d" op: "dropout" inputs: "wx"
            attrs { key: "rate" value { f: 0.25 } } attrs { key: "seed" value { i: 77 } } }
    nodes { name: "loss" op: "reduce_sum" inputs: "d" }
  )pb";
  Model training(std::string(layers) + R"pb(
    signatures { name: "run" feeds: "x" fetches: "d" loss: "loss"
                 optimizer { kind: "sgd" learning_rate: 0.5 } })pb");
  ASSERT_TRUE(training.ok());
  std::mt19937 rng(3);
  const int64_t rows = 4, cols = 50;
  std::vector<double> w(cols, 1.0);
  const float scale = static_cast<float>(1.0 / (1.0 - 0.25f));
  int64_t kept = 0;
  for (uint64_t step = 0; step < 3; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    Array x = randomArray({rows, cols}, DType::F32, -1, 1, rng);
    Array want{{rows, cols}, std::vector<double>(rows * cols)};
    std::vector<double> grad(cols, 0.0);
    for (int64_t i = 0; i < rows * cols; ++i) {
      uint32_t bits = nncc::rt::philox4x32_10({uint32_t(i), 0, uint32_t(step), 0}, {77, 0})[0];
      bool keep = static_cast<float>(bits >> 8) * (1.0f / 16777216.0f) >= 0.25f;
      float wx = static_cast<float>(x.values[i]) * static_cast<float>(w[i % cols]);
      want.values[i] = keep ? static_cast<float>(wx * scale) : 0.0f;
      grad[i % cols] += keep ? x.values[i] * scale : 0.0;
      kept += keep;
    }
    auto out = training.run({{"x", tensor(x, DType::F32)}});
    expectClose(out, "d", DType::F32, want, 1e-5, 1e-5);
    for (int64_t j = 0; j < cols; ++j)
      w[j] = static_cast<float>(w[j] - 0.5 * grad[j]);
  }
  EXPECT_NEAR(static_cast<double>(kept) / (3 * rows * cols), 0.75, 0.06);

  Model inference(std::string(layers) +
                  R"pb(signatures { name: "run" feeds: "x" fetches: "d" })pb");
  ASSERT_TRUE(inference.ok());
  Array x = randomArray({rows, cols}, DType::F32, -1, 1, rng);
  expectEqual(inference.run({{"x", tensor(x, DType::F32)}}), "d", DType::F32, x);
}

// batch_norm: a training step normalizes with the batch's mean and biased
// variance per channel and moves the moving statistics toward them
// (Keras'); another signature normalizes with the moving statistics.
TEST(Ops, BatchNormTrainsWithBatchStatisticsAndInfersWithMovingOnes) {
  const std::string text = R"pb(
    placeholders { name: "x" dtype: F64 shape { dims: -1 dims: 3 } }
    variables { name: "gamma" dtype: F64 shape: 3 initializer { kind: ONES } }
    variables { name: "beta" dtype: F64 shape: 3 initializer { kind: ZEROS } }
    variables { name: "mean" dtype: F64 shape: 3 frozen: true initializer { kind: ZEROS } }
    variables { name: "var" dtype: F64 shape: 3 frozen: true initializer { kind: ONES } }
    nodes { name: "y" op: "batch_norm" inputs: "x" inputs: "gamma" inputs: "beta"
            inputs: "mean" inputs: "var"
            attrs { key: "epsilon" value { f: 0.001 } } attrs { key: "momentum" value { f: 0.75 } } }
    nodes { name: "loss" op: "reduce_sum" inputs: "y" }
    signatures { name: "train" feeds: "x" fetches: "y" loss: "loss"
                 optimizer { kind: "sgd" learning_rate: 0.1 } }
    signatures { name: "infer" feeds: "x" fetches: "y" }
  )pb";
  auto exe = nncc::test::compileText(text);
  ASSERT_TRUE(exe);
  nncc::rt::Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  std::mt19937 rng(8);
  const int64_t rows = 5;
  Array x = randomArray({rows, 3}, DType::F64, -2, 3, rng);
  double eps = static_cast<float>(0.001), momentum = static_cast<float>(0.75);
  std::vector<double> mean(3, 0), var(3, 0);
  for (int64_t i = 0; i < rows; ++i)
    for (int c = 0; c < 3; ++c)
      mean[c] += x.values[i * 3 + c] / rows;
  for (int64_t i = 0; i < rows; ++i)
    for (int c = 0; c < 3; ++c)
      var[c] += (x.values[i * 3 + c] - mean[c]) * (x.values[i * 3 + c] - mean[c]) / rows;
  Array want{{rows, 3}, std::vector<double>(rows * 3)};
  for (int64_t i = 0; i < rows * 3; ++i)
    want.values[i] = (x.values[i] - mean[i % 3]) / std::sqrt(var[i % 3] + eps);
  auto out = s.run("train", {{"x", tensor(x, DType::F64)}});
  ASSERT_TRUE(out.ok()) << out.error();
  expectClose(*out, "y", DType::F64, want, 1e-12, 1e-12);
  std::vector<double> movingMean(3), movingVar(3);
  for (int c = 0; c < 3; ++c) {
    movingMean[c] = (1 - momentum) * mean[c];
    movingVar[c] = momentum + (1 - momentum) * var[c];
  }
  auto gotMean = s.variable("mean"), gotVar = s.variable("var");
  ASSERT_TRUE(gotMean.ok() && gotVar.ok());
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(gotMean->toDoubles()[c], movingMean[c], 1e-12) << c;
    EXPECT_NEAR(gotVar->toDoubles()[c], movingVar[c], 1e-12) << c;
  }
  // gamma and beta trained: d(sum y)/d(beta) = rows, d/d(gamma) = sum of
  // the normalized values (0).
  for (int c = 0; c < 3; ++c)
    EXPECT_NEAR(s.variable("beta")->toDoubles()[c], -static_cast<double>(0.1f) * rows, 1e-12);
  auto inferred = s.run("infer", {{"x", tensor(x, DType::F64)}});
  ASSERT_TRUE(inferred.ok()) << inferred.error();
  auto gamma = s.variable("gamma")->toDoubles(), beta = s.variable("beta")->toDoubles();
  for (int64_t i = 0; i < rows * 3; ++i) {
    int c = i % 3;
    want.values[i] =
        (x.values[i] - movingMean[c]) / std::sqrt(movingVar[c] + eps) * gamma[c] + beta[c];
  }
  expectClose(*inferred, "y", DType::F64, want, 1e-12, 1e-12);
}

TEST(Ops, BiasAdd) {
  for (DType dtype : {DType::F32, DType::I32}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    Model model(placeholder("x", t, {-1, 4}) + placeholder("y", t, {2, 3, 4}) +
                placeholder("b", t, {4}) + node("xb", "bias_add", {"x", "b"}) +
                node("yb", "bias_add", {"y", "b"}) + signature({"x", "y", "b"}, {"xb", "yb"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(5);
    for (int64_t batch : {1, 7, 64}) {
      Array x = randomArray({batch, 4}, dtype, -20, 20, rng);
      Array y = randomArray({2, 3, 4}, dtype, -20, 20, rng);
      Array b = randomArray({4}, dtype, -20, 20, rng);
      auto out =
          model.run({{"x", tensor(x, dtype)}, {"y", tensor(y, dtype)}, {"b", tensor(b, dtype)}});
      double rtol = dtype == DType::F32 ? 1e-6 : 0;
      expectClose(out, "xb", dtype, binary(x, b, std::plus<double>()), rtol);
      expectClose(out, "yb", dtype, binary(y, b, std::plus<double>()), rtol);
    }
  }
}

TEST(Ops, SoftmaxAndLogSoftmaxAlongEachAxis) {
  for (DType dtype : {DType::F32, DType::F64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    std::string nodes;
    for (const char *op : {"softmax", "log_softmax"}) {
      std::string o = op;
      // "x2" is fed x again: identical nodes of one input would be merged.
      nodes += node(o + "_last", op, {"x"}) + // axis defaults to -1
               node(o + "_minus1", op, {"x2"}, intAttr("axis", -1)) +
               node(o + "_0", op, {"x"}, intAttr("axis", 0)) +
               node(o + "_y1", op, {"y"}, intAttr("axis", 1)) +
               node(o + "_y0", op, {"y"}, intAttr("axis", -3));
    }
    Model model(
        placeholder("x", t, {-1, 6}) + placeholder("x2", t, {-1, 6}) +
        placeholder("y", t, {2, 3, 4}) + nodes +
        signature({"x", "x2", "y"}, {"softmax_last", "softmax_minus1", "softmax_0", "softmax_y1",
                                     "softmax_y0", "log_softmax_last", "log_softmax_minus1",
                                     "log_softmax_0", "log_softmax_y1", "log_softmax_y0"}));
    ASSERT_TRUE(model.ok());
    double rtol = dtype == DType::F32 ? 1e-5 : 1e-12;
    std::mt19937 rng(11);
    for (int64_t batch : {1, 7, 64}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      Array x = randomArray({batch, 6}, dtype, -5, 5, rng);
      // Large logits must not overflow (the max is subtracted first).
      x.values[0] = 500;
      x.values[1] = -500;
      Array y = randomArray({2, 3, 4}, dtype, -5, 5, rng);
      auto out =
          model.run({{"x", tensor(x, dtype)}, {"x2", tensor(x, dtype)}, {"y", tensor(y, dtype)}});
      for (bool log : {false, true}) {
        std::string o = log ? "log_softmax" : "softmax";
        // Probabilities tiny against the row's largest are absolute noise;
        // log-probabilities near 0 carry the rounding of log(sum).
        double atol = log ? (dtype == DType::F32 ? 1e-6 : 1e-13) : rtol * 1e-3;
        expectClose(out, o + "_last", dtype, softmax(x, -1, log), rtol, atol);
        expectClose(out, o + "_minus1", dtype, softmax(x, -1, log), rtol, atol);
        expectClose(out, o + "_0", dtype, softmax(x, 0, log), rtol, atol);
        expectClose(out, o + "_y1", dtype, softmax(y, 1, log), rtol, atol);
        expectClose(out, o + "_y0", dtype, softmax(y, 0, log), rtol, atol);
      }
    }
  }
}

/// The reference per-example loss: -sum(labels * log_softmax(logits)).
Array crossEntropy(const Array &logits, const Array &labels) {
  Array terms = binary(labels, softmax(logits, -1, true),
                       [](double p, double logq) { return p == 0 ? 0.0 : -p * logq; });
  return reduce(terms, {-1}, false, 0, std::plus<double>());
}

/// The sparse form: -log_softmax(logits)[label], NaN when out of range.
Array sparseCrossEntropy(const Array &logits, const Array &labels) {
  Array logp = softmax(logits, -1, true);
  int64_t classes = logits.shape.back();
  Array r{labels.shape, {}};
  for (size_t i = 0; i < labels.size(); ++i) {
    auto label = static_cast<int64_t>(labels.values[i]);
    r.values.push_back(label < 0 || label >= classes ? NAN : -logp.values[i * classes + label]);
  }
  return r;
}

TEST(Ops, SoftmaxCrossEntropyWithOneHotAndProbabilityLabels) {
  for (DType dtype : {DType::F32, DType::F64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    Model model(placeholder("logits", t, {-1, 5}) + placeholder("labels", t, {-1, 5}) +
                placeholder("logits3", t, {2, 3, 4}) + placeholder("labels3", t, {2, 3, 4}) +
                node("loss", "softmax_cross_entropy", {"logits", "labels"}) +
                node("loss3", "softmax_cross_entropy", {"logits3", "labels3"}) +
                signature({"logits", "labels", "logits3", "labels3"}, {"loss", "loss3"}));
    ASSERT_TRUE(model.ok());
    double rtol = dtype == DType::F32 ? 1e-5 : 1e-12;
    std::mt19937 rng(17);
    for (int64_t batch : {1, 7, 64}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      Array logits = randomArray({batch, 5}, dtype, -4, 4, rng);
      Array classes = randomArray({batch}, DType::I32, 0, 4, rng);
      Array labels{{batch, 5}, std::vector<double>(batch * 5, 0.0)};
      for (int64_t i = 0; i < batch; ++i)
        labels.values[i * 5 + static_cast<int64_t>(classes.values[i])] = 1;
      // Probability labels: a random distribution per row.
      Array logits3 = randomArray({2, 3, 4}, dtype, -4, 4, rng);
      Array labels3 = softmax(randomArray({2, 3, 4}, dtype, -2, 2, rng), -1, false);
      if (dtype == DType::F32)
        for (double &v : labels3.values)
          v = static_cast<float>(v);
      auto out = model.run({{"logits", tensor(logits, dtype)},
                            {"labels", tensor(labels, dtype)},
                            {"logits3", tensor(logits3, dtype)},
                            {"labels3", tensor(labels3, dtype)}});
      expectClose(out, "loss", dtype, crossEntropy(logits, labels), rtol, rtol);
      expectClose(out, "loss3", dtype, crossEntropy(logits3, labels3), rtol, rtol);
    }
  }
}

TEST(Ops, SoftmaxCrossEntropyWithSparseLabels) {
  for (DType labelType : {DType::I32, DType::I64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(labelType));
    Model model(placeholder("logits", "F32", {-1, 5}) +
                placeholder("labels", protoName(labelType), {-1}) +
                placeholder("dense", "F32", {-1, 5}) +
                node("loss", "softmax_cross_entropy", {"logits", "labels"}) +
                node("dense_loss", "softmax_cross_entropy", {"logits", "dense"}) +
                signature({"logits", "labels", "dense"}, {"loss", "dense_loss"}));
    ASSERT_TRUE(model.ok());
    std::mt19937 rng(23);
    for (int64_t batch : {1, 7, 64}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      Array logits = randomArray({batch, 5}, DType::F32, -4, 4, rng);
      Array labels = randomArray({batch}, DType::I32, 0, 4, rng);
      Array dense{{batch, 5}, std::vector<double>(batch * 5, 0.0)};
      for (int64_t i = 0; i < batch; ++i)
        dense.values[i * 5 + static_cast<int64_t>(labels.values[i])] = 1;
      auto out = model.run({{"logits", tensor(logits, DType::F32)},
                            {"labels", tensor(labels, labelType)},
                            {"dense", tensor(dense, DType::F32)}});
      Array want = sparseCrossEntropy(logits, labels);
      expectClose(out, "loss", DType::F32, want, 1e-5, 1e-6);
      // The sparse and the one-hot form agree.
      expectClose(out, "dense_loss", DType::F32, want, 1e-5, 1e-6);
    }
    // A label outside [0, 5) gives NaN for its example only.
    Array logits = randomArray({4, 5}, DType::F32, -4, 4, rng);
    Array labels{{4}, {2, -1, 5, 4}};
    auto out = model.run({{"logits", tensor(logits, DType::F32)},
                          {"labels", tensor(labels, labelType)},
                          {"dense", Tensor(DType::F32, {4, 5})}});
    Array want = sparseCrossEntropy(logits, labels);
    ASSERT_TRUE(std::isnan(want.values[1]) && std::isnan(want.values[2]));
    expectClose(out, "loss", DType::F32, want, 1e-5, 1e-6);
  }
}

TEST(Ops, SoftmaxCrossEntropyOfOneExample) {
  // Rank-1 logits: a scalar loss; the sparse label is a scalar.
  Model model(placeholder("logits", "F64", {5}) + placeholder("onehot", "F64", {5}) +
              placeholder("label", "I64", {}) +
              node("loss", "softmax_cross_entropy", {"logits", "onehot"}) +
              node("sparse_loss", "softmax_cross_entropy", {"logits", "label"}) +
              signature({"logits", "onehot", "label"}, {"loss", "sparse_loss"}));
  ASSERT_TRUE(model.ok());
  std::mt19937 rng(29);
  for (int64_t label : {0, 3, 4, 5, -1}) {
    SCOPED_TRACE("label " + std::to_string(label));
    Array logits = randomArray({5}, DType::F64, -4, 4, rng);
    Array onehot{{5}, std::vector<double>(5, 0.0)};
    if (label >= 0 && label < 5)
      onehot.values[label] = 1;
    Array labels{{}, {static_cast<double>(label)}};
    auto out = model.run({{"logits", tensor(logits, DType::F64)},
                          {"onehot", tensor(onehot, DType::F64)},
                          {"label", tensor(labels, DType::I64)}});
    expectClose(out, "sparse_loss", DType::F64, sparseCrossEntropy(logits, labels), 1e-12, 1e-12);
    if (label >= 0 && label < 5)
      expectClose(out, "loss", DType::F64, crossEntropy(logits, onehot), 1e-12, 1e-12);
  }
}

TEST(Ops, MeanSquaredError) {
  for (DType dtype : {DType::F32, DType::F64}) {
    SCOPED_TRACE(nncc::rt::dtypeName(dtype));
    const std::string t = protoName(dtype);
    Model model(placeholder("p", t, {-1, 3}) + placeholder("y", t, {-1, 3}) +
                placeholder("row", t, {3}) + node("mse", "mean_squared_error", {"p", "y"}) +
                node("mse_row", "mean_squared_error", {"p", "row"}) +
                node("row_mse", "mean_squared_error", {"row", "y"}) +
                signature({"p", "y", "row"}, {"mse", "mse_row", "row_mse"}));
    ASSERT_TRUE(model.ok());
    double rtol = dtype == DType::F32 ? 1e-5 : 1e-12;
    std::mt19937 rng(31);
    for (int64_t batch : {1, 7, 64}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      Array p = randomArray({batch, 3}, dtype, -3, 3, rng);
      Array y = randomArray({batch, 3}, dtype, -3, 3, rng);
      Array row = randomArray({3}, dtype, -3, 3, rng);
      auto out = model.run(
          {{"p", tensor(p, dtype)}, {"y", tensor(y, dtype)}, {"row", tensor(row, dtype)}});
      auto mse = [](const Array &a, const Array &b) {
        Array sq = binary(a, b, [](double x, double z) { return (x - z) * (x - z); });
        Array sum = reduce(sq, {}, false, 0, std::plus<double>());
        sum.values[0] /= static_cast<double>(sq.size());
        return sum;
      };
      expectClose(out, "mse", dtype, mse(p, y), rtol);
      // Broadcast targets: the mean is over the broadcast shape.
      expectClose(out, "mse_row", dtype, mse(p, row), rtol);
      expectClose(out, "row_mse", dtype, mse(row, y), rtol);
    }
  }
}

} // namespace
