// Convolutions on the CUDA target as implicit GEMM: conv2d (with its bias
// and ReLU fused after the product), its images' gradient and its filter's
// gradient are tiled product kernels whose operands are read through
// their windows (the linalg the CPU lowers them to). Run on the host
// (CudaHostEmulator), their results must be the CPU backend's: strides 1
// and 2, dilation 2, SAME (TensorFlow's odd padding after) and VALID,
// sizes that are no multiple of any tile, a batch of 1, every tile shape,
// in fp32, fp64 and on the (emulated) tensor cores in TF32 and BF16. E7,
// the CNN chapter's network, takes training steps on a few images as the
// CPU does.
#include "test/e2e/CompileAndRun.h"
#include "test/e2e/CudaCompare.h"
#include "test/e2e/CudaHostEmulator.h"

#include "compiler/cuda/CudaEmitter.h"
#include "compiler/driver/Compiler.h"
#include "examples/e7_cnn/CnnModel.h"

#include <cmath>
#include <random>
#include <set>

using nncc::cuda::Precision;
using nncc::rt::DType;
using nncc::rt::Tensor;
using nncc::test::compileCuda;
using nncc::test::expectClose;
using nncc::test::random;
using nncc::test::Tolerance;
using nncc::test::toleranceOf;

namespace {

struct ConvCase {
  int64_t h, w, c, kh, kw, f;
  int64_t strides[2], dilations[2];
  const char *padding;
};

std::string ints(const char *key, int64_t a, int64_t b) {
  return std::string("attrs { key: \"") + key + "\" value { ints { val: " + std::to_string(a) +
         " val: " + std::to_string(b) + " } } } ";
}

int64_t outSize(int64_t in, int64_t k, int64_t stride, int64_t dilation, const std::string &pad) {
  return pad == "SAME" ? (in + stride - 1) / stride : (in - (k - 1) * dilation - 1) / stride + 1;
}

/// relu(conv2d(x, f) + b), conv2d_backprop_input(dy, f) and
/// conv2d_backprop_filter(x, dy) of case `k`, on both targets, for
/// batches of `batches`, each plan run with the biggest and the smallest
/// tiles (1 multiprocessor, many); returns the tilings launched.
std::string convModel(const ConvCase &k, const std::string &dtype) {
  int64_t oh = outSize(k.h, k.kh, k.strides[0], k.dilations[0], k.padding);
  int64_t ow = outSize(k.w, k.kw, k.strides[1], k.dilations[1], k.padding);
  auto dims = [](std::initializer_list<int64_t> d) {
    std::string s;
    for (int64_t v : d)
      s += " dims: " + std::to_string(v);
    return s;
  };
  std::string window = ints("strides", k.strides[0], k.strides[1]) +
                       ints("dilations", k.dilations[0], k.dilations[1]) +
                       "attrs { key: \"padding\" value { s: \"" + k.padding + "\" } } ";
  std::string text =
      "placeholders { name: \"x\" dtype: DT shape {" + dims({-1, k.h, k.w, k.c}) + " } }\n" +
      "placeholders { name: \"f\" dtype: DT shape {" + dims({k.kh, k.kw, k.c, k.f}) + " } }\n" +
      "placeholders { name: \"b\" dtype: DT shape {" + dims({k.f}) + " } }\n" +
      "placeholders { name: \"dy\" dtype: DT shape {" + dims({-1, oh, ow, k.f}) + " } }\n" +
      "nodes { name: \"y\" op: \"conv2d\" inputs: \"x\" inputs: \"f\" " + window + "}\n" +
      "nodes { name: \"z\" op: \"add\" inputs: \"y\" inputs: \"b\" }\n" +
      "nodes { name: \"r\" op: \"relu\" inputs: \"z\" }\n" +
      "nodes { name: \"dx\" op: \"conv2d_backprop_input\" inputs: \"dy\" inputs: \"f\" " + window +
      ints("input_size", k.h, k.w) + "}\n" +
      "nodes { name: \"df\" op: \"conv2d_backprop_filter\" inputs: \"x\" inputs: \"dy\" " + window +
      ints("filter_size", k.kh, k.kw) + "}\n" +
      "signatures { name: \"run\" feeds: \"x\" feeds: \"f\" feeds: \"b\" feeds: \"dy\" "
      "fetches: \"r\" fetches: \"dx\" fetches: \"df\" }\n";
  for (size_t at; (at = text.find("DT")) != std::string::npos;)
    text.replace(at, 2, dtype);
  return text;
}

std::set<std::string> checkConv(const ConvCase &k, const std::string &dtype, Precision precision,
                                std::initializer_list<int64_t> batches = {1, 3},
                                std::initializer_list<unsigned> multiprocessors = {1, 100000}) {
  SCOPED_TRACE(std::to_string(k.h) + "x" + std::to_string(k.w) + "x" + std::to_string(k.c) +
               " filter " + std::to_string(k.kh) + "x" + std::to_string(k.kw) + "x" +
               std::to_string(k.f) + " strides " + std::to_string(k.strides[0]) + "," +
               std::to_string(k.strides[1]) + " dilations " + std::to_string(k.dilations[0]) + "," +
               std::to_string(k.dilations[1]) + " " + k.padding + " " + dtype + " " +
               nncc::cuda::precisionName(precision));
  int64_t oh = outSize(k.h, k.kh, k.strides[0], k.dilations[0], k.padding);
  int64_t ow = outSize(k.w, k.kw, k.strides[1], k.dilations[1], k.padding);
  std::string text = convModel(k, dtype);
  auto graph = nncc::parseGraphText(text, "conv.pbtxt");
  if (!graph) {
    ADD_FAILURE() << llvm::toString(graph.takeError());
    return {};
  }
  nncc::exe::Executable cuda = compileCuda(*graph, precision);
  if (!cuda.has_cuda())
    return {};
  // The three convolutions are tiled products: none is left to a loop
  // over its windows per element.
  int tiled = 0;
  for (const auto &launch : cuda.cuda().signatures(0).launches()) {
    tiled += launch.tilings_size() > 0;
    EXPECT_EQ(launch.lanes(), 0u) << launch.kernel() << " reduces per element";
  }
  EXPECT_EQ(tiled, 3);
  auto cpu = nncc::test::orFail(nncc::compileAndLoad(*graph));
  if (!cpu)
    return {};
  nncc::rt::Session session(cpu);
  EXPECT_TRUE(session.initialize().ok());
  DType dt = dtype == "F64" ? DType::F64 : DType::F32;
  Tolerance tolerance = toleranceOf(precision, dt == DType::F64);
  std::mt19937 rng(11);
  std::set<std::string> launched;
  for (int64_t n : batches) {
    std::vector<Tensor> feeds = {random(dt, {n, k.h, k.w, k.c}, rng),
                                 random(dt, {k.kh, k.kw, k.c, k.f}, rng), random(dt, {k.f}, rng),
                                 random(dt, {n, oh, ow, k.f}, rng)};
    auto expected =
        session.run("run", {{"x", feeds[0]}, {"f", feeds[1]}, {"b", feeds[2]}, {"dy", feeds[3]}});
    EXPECT_TRUE(expected.ok()) << expected.error();
    if (!expected.ok())
      return {};
    for (unsigned sms : multiprocessors) {
      SCOPED_TRACE("batch " + std::to_string(n) + ", multiprocessors " + std::to_string(sms));
      for (const auto &launch : cuda.cuda().signatures(0).launches()) {
        nncc::rt::Shape shape;
        nncc::rt::cuda::bufferBytes(cuda.cuda().buffers(launch.args(launch.args_size() - 1)), n,
                                    shape);
        const std::string *kernel = nullptr;
        EXPECT_TRUE(nncc::rt::cuda::gridFor(launch, shape, sms, kernel).ok());
        launched.insert(*kernel);
      }
      nncc::test::CudaHostEmulator host(cuda);
      EXPECT_EQ(host.error(), "");
      host.setMultiprocessors(sms);
      auto got = host.run("run", feeds, {});
      EXPECT_TRUE(got.ok()) << got.error();
      if (!got.ok())
        return launched;
      const char *names[] = {"r", "dx", "df"};
      for (int i = 0; i < 3; ++i)
        expectClose((*got)[i], expected->at(names[i]), names[i], tolerance);
    }
  }
  return launched;
}

// Small shapes (the emulator runs a block's threads one at a time), each
// with a stride, a dilation or a padding of its own: odd sizes, SAME's
// extra row and column after, a stride that skips the last rows (VALID),
// 1x1 filters, a dilated window wider than the stride.
const ConvCase kCases[] = {
    {5, 7, 3, 3, 3, 4, {1, 1}, {1, 1}, "SAME"},  {7, 6, 2, 3, 2, 5, {2, 2}, {1, 1}, "SAME"},
    {9, 8, 3, 3, 3, 2, {2, 1}, {1, 1}, "VALID"}, {9, 9, 2, 3, 3, 3, {1, 1}, {2, 2}, "SAME"},
    {8, 7, 2, 2, 3, 3, {2, 2}, {2, 1}, "VALID"}, {4, 5, 3, 1, 1, 6, {1, 1}, {1, 1}, "VALID"},
};

TEST(CudaConv, ForwardAndGradientsGiveTheCpuResultsInFp32) {
  for (const ConvCase &k : kCases)
    checkConv(k, "F32", Precision::FP32);
}

TEST(CudaConv, ForwardAndGradientsGiveTheCpuResultsInFp64) {
  for (const ConvCase &k : kCases)
    checkConv(k, "F64", Precision::FP32);
}

TEST(CudaConv, ForwardAndGradientsOnTheTensorCoresWithinTheirPrecision) {
  for (Precision p : {Precision::TF32, Precision::BF16})
    for (const ConvCase &k : {kCases[1], kCases[3], kCases[4]})
      checkConv(k, "F32", p);
}

// 70 filters and 2 x 12 x 11 output rows: every tile shape is written
// (128x128 down to 8x8 with the contraction split four ways; on the tensor
// cores 128x128, 64x64 and 16x16), the plan launches the biggest on one
// multiprocessor and the smallest on many, and each gives the CPU's
// results.
TEST(CudaConv, EveryTilingGivesTheCpuResults) {
  const ConvCase k = {12, 11, 3, 3, 3, 70, {1, 1}, {1, 1}, "SAME"};
  std::set<std::string> fma = checkConv(k, "F32", Precision::FP32, {2});
  for (const char *suffix : {"_t128", "_t8"})
    EXPECT_TRUE(std::any_of(fma.begin(), fma.end(),
                            [&](const std::string &s) { return s.find(suffix) != s.npos; }))
        << suffix << " was never launched";
  std::set<std::string> mma = checkConv(k, "F32", Precision::TF32, {2});
  for (const char *suffix : {"_m128", "_m16"})
    EXPECT_TRUE(std::any_of(mma.begin(), mma.end(),
                            [&](const std::string &s) { return s.find(suffix) != s.npos; }))
        << suffix << " was never launched";
}

} // namespace

// 32 filters: the square tiles of 128 and 64 would leave half their
// columns idle; tiles of 32 columns (128x32, 64x32, several outputs per
// thread) come first, 128x32 on one multiprocessor, 64x32 where 128x32
// gives too few blocks (4: 264 rows are 3 tiles of 128 rows, 5 of 64).
TEST(CudaConv, TallTilesForFewFilters) {
  const ConvCase k = {12, 11, 3, 3, 3, 32, {1, 1}, {1, 1}, "SAME"};
  std::set<std::string> launched = checkConv(k, "F32", Precision::FP32, {2}, {1, 4, 100000});
  for (const char *suffix : {"_t128x32", "_t64x32", "_t8"})
    EXPECT_TRUE(std::any_of(launched.begin(), launched.end(),
                            [&](const std::string &s) { return s.find(suffix) != s.npos; }))
        << suffix << " was never launched";
  EXPECT_FALSE(std::any_of(launched.begin(), launched.end(), [&](const std::string &s) {
    return s.find("_t128") != s.npos && s.find("x32") == s.npos;
  })) << "128x128 tiles for 32 columns";
}

// NVRTC compiles the convolutions' tiled kernels (the windows read
// through lambdas, the padding's predicated loads) for sm_80 and sm_90,
// with FMAs (fp32, fp64) and on the tensor cores (TF32, BF16).
TEST(CudaConv, NvrtcCompilesTheKernelsForSm80AndSm90) {
  if (!nncc::cuda::haveNvrtc())
    GTEST_SKIP() << "nncc was built without the CUDA toolkit (NVRTC)";
  const ConvCase k = {12, 11, 3, 3, 3, 70, {2, 1}, {1, 2}, "SAME"};
  for (auto [dtype, precision] :
       {std::pair{"F32", Precision::FP32}, std::pair{"F64", Precision::FP32},
        std::pair{"F32", Precision::TF32}, std::pair{"F32", Precision::BF16}}) {
    auto graph = nncc::parseGraphText(convModel(k, dtype), "conv.pbtxt");
    ASSERT_TRUE(bool(graph)) << llvm::toString(graph.takeError());
    for (const char *arch : {"80", "90"}) {
      SCOPED_TRACE(std::string(dtype) + " " + nncc::cuda::precisionName(precision) + " sm_" + arch);
      nncc::exe::Executable exe = compileCuda(*graph, precision, true, arch);
      ASSERT_TRUE(exe.has_cuda());
      const std::string &ptx = exe.cuda().ptx();
      EXPECT_NE(ptx.find(std::string(".target sm_") + arch), std::string::npos);
      EXPECT_FALSE(exe.cuda().cubin().empty());
      int tilings = 0;
      for (const auto &launch : exe.cuda().signatures(0).launches())
        for (const auto &t : launch.tilings()) {
          ++tilings;
          EXPECT_NE(ptx.find(".entry " + t.kernel() + "("), std::string::npos) << t.kernel();
        }
      EXPECT_GE(tilings, 5); // the forward's 3 or 4, the gradients' 1 or 2 each
      bool f32 = std::string(dtype) == "F32";
      EXPECT_EQ(ptx.find("mma.sync.aligned") != std::string::npos,
                f32 && precision != Precision::FP32);
    }
  }
}

// E7, the CNN chapter's network (two 5x5 SAME convolutions with ReLU and
// max-pooling, dense 1024, dropout, Adam): two training steps on two
// images, then the prediction, give the CPU's loss, updated variables and
// probabilities on the host device.
TEST(CudaConv, E7StepsGiveTheCpuResults) {
  nncc::LoadedGraph graph = nncc::fromProto(nncc::examples::buildLayersCnn(123).proto(), "e7_cnn");
  nncc::exe::Executable cuda = compileCuda(graph, Precision::FP32);
  ASSERT_TRUE(cuda.has_cuda());
  // A kernel's text in the program's source.
  const std::string &source = cuda.cuda().source();
  auto text = [&](const std::string &kernel) {
    size_t at = source.find("void " + kernel + "(");
    return at == std::string::npos ? std::string()
                                   : source.substr(at, source.find("extern", at) - at);
  };
  int convolutions = 0, products = 0, slabbed = 0;
  for (const auto &sig : cuda.cuda().signatures())
    for (const auto &launch : sig.launches()) {
      bool tiled = launch.tilings_size() > 0;
      bool windows =
          tiled && text(launch.tilings(0).kernel()).find("auto loadA") != std::string::npos;
      convolutions += windows;
      products += tiled && !windows;
      slabbed += text(launch.kernel()).find("slabs' partial products") != std::string::npos;
    }
  // train: conv_1, conv_2, conv_2's images' gradient (conv_1's is not
  // needed) and both filters' gradients; predict: conv_1, conv_2.
  EXPECT_EQ(convolutions, 7);
  // Plain products, each once: train's fc_3 and fc_4, their weights'
  // gradients (each read by both Adam slots, multiplied once, not once
  // per slot) and their inputs'; predict's fc_3 and fc_4.
  EXPECT_EQ(products, 8);
  // The filters' gradients (contractions over N*28*28 and N*14*14 into 800
  // and 51200 elements) split across the grid, their slabs added after.
  EXPECT_EQ(slabbed, 2);
  auto cpu = nncc::test::orFail(nncc::compileAndLoad(graph));
  ASSERT_TRUE(cpu);
  nncc::rt::Session session(cpu);
  ASSERT_TRUE(session.initialize().ok());
  std::mt19937 rng(5);
  const int64_t n = 2;
  Tensor x = random(DType::F32, {n, 28, 28, 1}, rng);
  Tensor y(DType::I32, {n});
  for (int64_t i = 0; i < n; ++i)
    y.data<int32_t>()[i] = static_cast<int32_t>(rng() % 10);
  nncc::test::CudaHostEmulator host(cuda);
  ASSERT_EQ(host.error(), "");
  const Tolerance fp32 = toleranceOf(Precision::FP32, false);
  for (const nncc::exe::SignatureSpec &sig : cuda.signatures()) {
    std::vector<Tensor> feeds, variables;
    nncc::rt::TensorMap feedMap;
    for (const auto &spec : sig.feeds()) {
      feeds.push_back(spec.name() == "x" ? x : y);
      feedMap[spec.name()] = feeds.back();
    }
    for (const std::string &v : sig.variables())
      variables.push_back(*session.variable(v));
    for (int step = 0; step < (sig.name() == "train" ? 2 : 1); ++step) {
      SCOPED_TRACE(sig.name() + " step " + std::to_string(step));
      auto expected = session.run(sig.name(), feedMap);
      ASSERT_TRUE(expected.ok()) << expected.error();
      auto got = host.run(sig.name(), feeds, variables);
      ASSERT_TRUE(got.ok()) << got.error();
      ASSERT_EQ(got->size(), size_t(sig.fetches_size() + sig.updates_size()));
      for (int i = 0; i < sig.fetches_size(); ++i)
        if (sig.fetches(i).name() != "classes")
          expectClose((*got)[i], expected->at(sig.fetches(i).name()), sig.fetches(i).name(), fp32);
      for (int i = 0; i < sig.updates_size(); ++i) {
        expectClose((*got)[sig.fetches_size() + i], *session.variable(sig.updates(i)),
                    sig.updates(i), fp32);
        for (int j = 0; j < sig.variables_size(); ++j)
          if (sig.variables(j) == sig.updates(i))
            variables[j] = (*got)[sig.fetches_size() + i];
      }
    }
  }
}
