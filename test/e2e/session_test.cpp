// The runtime's Session and Executable: feeds are checked before any kernel
// runs, every bad call is an error naming the input and what was expected,
// and the variables survive failed calls unchanged.
#include "test/e2e/CompileAndRun.h"

#include "compiler/driver/Compiler.h"
#include "runtime/Allocator.h"
#include "runtime/ThreadPool.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

using nncc::rt::DType;
using nncc::rt::Session;
using nncc::rt::Tensor;

namespace {

const char *kModel = R"pb(
  name: "affine"
  placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 3 } }
  placeholders { name: "k" dtype: I32 shape { dims: 2 } }
  variables { name: "w" dtype: F32 shape: 3 shape: 2
              initializer { kind: CONSTANT value { dtype: F32 float_val: 0.5 } } }
  variables { name: "b" dtype: F32 shape: 2 initializer { kind: ONES } }
  nodes { name: "xw" op: "matmul" inputs: "x" inputs: "w" }
  nodes { name: "y" op: "bias_add" inputs: "xw" inputs: "b" }
  nodes { name: "k2" op: "mul" inputs: "k" inputs: "k" }
  signatures { name: "predict" feeds: "x" fetches: "y" }
  signatures { name: "square" feeds: "k" fetches: "k2" }
)pb";

class SessionTest : public ::testing::Test {
protected:
  void SetUp() override {
    exe = nncc::test::compileText(kModel);
    ASSERT_TRUE(exe);
    session = std::make_unique<Session>(exe);
    ASSERT_TRUE(session->initialize().ok());
  }
  /// The error of running predict with `feeds`, after checking that it
  /// failed and left the variables alone.
  std::string failure(const std::string &sig, const nncc::rt::TensorMap &feeds,
                      const std::vector<std::string> &fetches = {}) {
    auto before = session->variable("w")->toDoubles();
    auto out = session->run(sig, feeds, fetches);
    EXPECT_FALSE(out.ok());
    EXPECT_EQ(session->variable("w")->toDoubles(), before);
    return out.ok() ? "" : out.error();
  }
  std::shared_ptr<nncc::rt::Executable> exe;
  std::unique_ptr<Session> session;
};

TEST_F(SessionTest, RunsWithResidentVariables) {
  auto out = session->run("predict", {{"x", Tensor::of<float>({2, 3}, {1, 2, 3, 4, 5, 6})}});
  ASSERT_TRUE(out.ok()) << out.error();
  // y = x . (0.5) + 1
  EXPECT_EQ(out->at("y").toDoubles(), (std::vector<double>{4, 4, 8.5, 8.5}));
  ASSERT_TRUE(session->setVariable("b", Tensor::of<float>({2}, {0, 10})).ok());
  out = session->run("predict", {{"x", Tensor::of<float>({1, 3}, {1, 1, 1})}});
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->at("y").toDoubles(), (std::vector<double>{1.5, 11.5}));
  auto k = session->run("square", {{"k", Tensor::of<int32_t>({2}, {-3, 7})}});
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(k->at("k2").toDoubles(), (std::vector<double>{9, 49}));
}

// A run's bookkeeping is reused from run to run (per thread): the results
// of earlier runs keep their values through later runs, failed ones too,
// and runs on two threads at once each get their own.
TEST_F(SessionTest, ResultsOutliveLaterRunsAndThreadsDoNotMix) {
  auto first = session->run("predict", {{"x", Tensor::of<float>({1, 3}, {1, 1, 1})}});
  ASSERT_TRUE(first.ok()) << first.error();
  auto second = session->run("predict", {{"x", Tensor::of<float>({2, 3}, {2, 2, 2, 4, 4, 4})}});
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_FALSE(session->run("predict", {{"x", Tensor::of<float>({1, 2}, {1, 1})}}).ok());
  EXPECT_EQ(first->at("y").toDoubles(), (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(second->at("y").toDoubles(), (std::vector<double>{4, 4, 7, 7}));

  std::vector<std::vector<double>> seen(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      float v = static_cast<float>(t + 1);
      for (int i = 0; i < 200; ++i) {
        auto out = session->run("predict", {{"x", Tensor::of<float>({1, 3}, {v, v, v})}});
        if (!out.ok())
          return;
        seen[t] = out->at("y").toDoubles();
        if (seen[t][0] != 1.5 * v + 1)
          return;
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(seen[0], (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(seen[1], (std::vector<double>{4, 4}));
}

TEST_F(SessionTest, WrongDtypeNamesFeedAndTypes) {
  std::string e = failure("predict", {{"x", Tensor::of<double>({2, 3}, {1, 2, 3, 4, 5, 6})}});
  EXPECT_NE(e.find("feed 'x'"), std::string::npos) << e;
  EXPECT_NE(e.find("wrong dtype"), std::string::npos) << e;
  EXPECT_NE(e.find("expected f32 (?, 3)"), std::string::npos) << e;
  EXPECT_NE(e.find("got f64 (2, 3)"), std::string::npos) << e;
}

TEST_F(SessionTest, WrongRankAndWrongFixedDimension) {
  std::string e = failure("predict", {{"x", Tensor::of<float>({6}, {1, 2, 3, 4, 5, 6})}});
  EXPECT_NE(e.find("wrong rank"), std::string::npos) << e;
  EXPECT_NE(e.find("got f32 (6,)"), std::string::npos) << e;
  e = failure("predict", {{"x", Tensor::of<float>({3, 2}, {1, 2, 3, 4, 5, 6})}});
  EXPECT_NE(e.find("wrong size of dimension 1"), std::string::npos) << e;
  EXPECT_NE(e.find("expected f32 (?, 3), got f32 (3, 2)"), std::string::npos) << e;
}

TEST_F(SessionTest, MissingUnknownFeedsFetchesAndSignatures) {
  std::string e = failure("predict", {});
  EXPECT_NE(e.find("needs feed 'x' (f32 (?, 3))"), std::string::npos) << e;
  e = failure("predict",
              {{"x", Tensor::of<float>({1, 3}, {1, 2, 3})}, {"z", Tensor::of<float>({1}, {1})}});
  EXPECT_NE(e.find("has no feed 'z' (it feeds: x)"), std::string::npos) << e;
  e = failure("predict", {{"x", Tensor::of<float>({1, 3}, {1, 2, 3})}}, {"logits"});
  EXPECT_NE(e.find("cannot fetch 'logits' (it fetches: y)"), std::string::npos) << e;
  e = failure("train", {});
  EXPECT_NE(e.find("unknown signature 'train' (the executable has: predict, square)"),
            std::string::npos)
      << e;
}

TEST_F(SessionTest, VariablesCheckedOnWrite) {
  auto s = session->setVariable("w", Tensor::of<float>({2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("variable 'w' is f32 (3, 2), got f32 (2, 3)"), std::string::npos)
      << s.message();
  EXPECT_FALSE(session->setVariable("nope", Tensor::of<float>({1}, {1})).ok());
  EXPECT_FALSE(session->variable("nope").ok());
  EXPECT_EQ(session->variable("w")->toDoubles(), std::vector<double>(6, 0.5));
}

TEST_F(SessionTest, RunBeforeInitializeIsAnError) {
  Session fresh(exe);
  auto out = fresh.run("predict", {{"x", Tensor::of<float>({1, 3}, {1, 2, 3})}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().find("variable 'w', which is not initialized"), std::string::npos)
      << out.error();
}

TEST_F(SessionTest, ExecutableFileRoundTripAndBadFiles) {
  std::string path = ::testing::TempDir() + "/affine.nnx";
  ASSERT_FALSE(bool(nncc::writeExecutable(exe->proto(), path)));
  auto loaded = nncc::rt::Executable::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  Session s(*loaded);
  ASSERT_TRUE(s.initialize().ok());
  auto out = s.run("predict", {{"x", Tensor::of<float>({1, 3}, {2, 2, 2})}});
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->at("y").toDoubles(), (std::vector<double>{4, 4}));

  auto missing = nncc::rt::Executable::load(path + ".missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("cannot open"), std::string::npos) << missing.error();

  std::string garbage = ::testing::TempDir() + "/garbage.nnx";
  std::ofstream(garbage) << "\xff\xff\xff not a protobuf";
  auto bad = nncc::rt::Executable::load(garbage);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("not an nncc executable"), std::string::npos) << bad.error();

  // The file is framed: truncated, corrupted and newer files are told apart.
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream all;
    all << in.rdbuf();
    good = all.str();
  }
  auto loadBytes = [&](const std::string &bytes) {
    std::ofstream(garbage, std::ios::binary | std::ios::trunc) << bytes;
    auto r = nncc::rt::Executable::load(garbage);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error();
  };
  EXPECT_NE(loadBytes(good.substr(0, good.size() / 2)).find("truncated"), std::string::npos);
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  EXPECT_NE(loadBytes(flipped).find("corrupted (checksum mismatch)"), std::string::npos);
  std::string future = good;
  future[8] = static_cast<char>(nncc::rt::kFormatVersion + 1);
  EXPECT_NE(loadBytes(future).find("is newer than the version this runtime reads"),
            std::string::npos);

  nncc::exe::Executable newer = exe->proto();
  newer.set_format_version(nncc::rt::kFormatVersion + 1);
  auto refused = nncc::rt::Executable::fromProto(newer, "newer.nnx");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("is newer than the version this runtime reads"), std::string::npos)
      << refused.error();

  nncc::exe::Executable gpu = exe->proto();
  gpu.set_target("cuda");
  EXPECT_FALSE(nncc::rt::Executable::fromProto(gpu, "gpu.nnx").ok());
  std::remove(path.c_str());
  std::remove(garbage.c_str());
}

// An executable whose parts do not hang together (a corrupted or hand-made
// file with a valid checksum) is refused before anything reads through it.
TEST_F(SessionTest, InconsistentExecutablesAreRefused) {
  auto refused = [&](auto edit) {
    nncc::exe::Executable proto = exe->proto();
    edit(proto);
    auto r = nncc::rt::Executable::fromProto(proto, "edited.nnx");
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error();
  };
  EXPECT_EQ(refused([](auto &p) { p.mutable_signatures(0)->add_updates("ghost"); }),
            "edited.nnx: signature 'predict' uses variable 'ghost', which the "
            "executable does not declare");
  EXPECT_EQ(refused([](auto &p) { p.mutable_signatures(0)->add_variables("ghost"); }),
            "edited.nnx: signature 'predict' uses variable 'ghost', which the "
            "executable does not declare");
  EXPECT_EQ(refused([](auto &p) { p.mutable_signatures(0)->clear_entry(); }),
            "edited.nnx: signature 'predict' names no kernel entry point");
  EXPECT_EQ(refused([](auto &p) { *p.add_signatures() = p.signatures(0); }),
            "edited.nnx: signature 'predict' is declared twice");
  EXPECT_EQ(refused([](auto &p) { *p.add_variables() = p.variables(0); }),
            "edited.nnx: variable 'w' is declared twice");
  EXPECT_EQ(refused([](auto &p) { p.mutable_signatures(0)->mutable_feeds(0)->set_dims(0, -7); }),
            "edited.nnx: signature 'predict': tensor 'x' has dimension -7 (expected "
            "-1 for unknown, or 0 or more)");
  // 10^12 elements: an error, not a 4 TB allocation at initialize().
  std::string big = refused([](auto &p) {
    p.mutable_variables(0)->set_shape(0, 1000000);
    p.mutable_variables(0)->set_shape(1, 1000000);
  });
  EXPECT_NE(big.find("variable 'w' has shape (1000000, 1000000); every dimension must "
                     "be 0 or more and the whole at most 2^34 elements"),
            std::string::npos)
      << big;
}

} // namespace

// Seeded initializers are pure functions of the seed: two compiles and two
// sessions give bit-identical weights, another seed different ones.
TEST(Initializers, SameSeedGivesBitIdenticalWeights) {
  auto model = [](int seed) {
    return "variables { name: \"w\" dtype: F32 shape: 784 shape: 50 initializer "
           "{ kind: GLOROT_UNIFORM seed: " +
           std::to_string(seed) +
           " } }\n"
           "variables { name: \"n\" dtype: F32 shape: 1000 initializer "
           "{ kind: RANDOM_NORMAL seed: " +
           std::to_string(seed) +
           " stddev: 2 } }\n"
           "nodes { name: \"s\" op: \"reduce_sum\" inputs: \"w\" }\n"
           "nodes { name: \"t\" op: \"reduce_sum\" inputs: \"n\" }\n"
           "signatures { name: \"sums\" fetches: \"s\" fetches: \"t\" }\n";
  };
  auto weights = [](const std::shared_ptr<nncc::rt::Executable> &exe) {
    Session s(exe);
    EXPECT_TRUE(s.initialize().ok());
    std::vector<float> all;
    for (const char *name : {"w", "n"}) {
      auto t = s.variable(name);
      EXPECT_TRUE(t.ok());
      all.insert(all.end(), t->data<float>(), t->data<float>() + t->size());
    }
    return all;
  };
  auto a = nncc::test::compileText(model(5)), b = nncc::test::compileText(model(5)),
       c = nncc::test::compileText(model(6));
  ASSERT_TRUE(a && b && c);
  std::vector<float> wa = weights(a), wa2 = weights(a), wb = weights(b), wc = weights(c);
  ASSERT_EQ(wa.size(), 784u * 50 + 1000);
  EXPECT_EQ(std::memcmp(wa.data(), wa2.data(), wa.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(wa.data(), wb.data(), wa.size() * sizeof(float)), 0);
  EXPECT_NE(wa, wc);
}

// Executables alive at the same time each run their own kernels, however
// many were loaded and dropped before (the libraries are told apart by the
// memory files they were loaded from).
TEST(Executables, SeveralAliveRunTheirOwnKernels) {
  auto scale = [](int factor) {
    return "placeholders { name: \"x\" dtype: F32 shape { dims: 2 } }\n"
           "nodes { name: \"k\" op: \"constant\" attrs { key: \"value\" value { tensor "
           "{ dtype: F32 float_val: " +
           std::to_string(factor) +
           " } } } }\n"
           "nodes { name: \"y\" op: \"mul\" inputs: \"x\" inputs: \"k\" }\n"
           "signatures { name: \"predict\" feeds: \"x\" fetches: \"y\" }\n";
  };
  std::vector<std::shared_ptr<nncc::rt::Executable>> alive;
  for (int round = 0; round < 2; ++round) {
    nncc::test::compileText(scale(100)); // loaded and dropped at once
    for (int factor = 2; factor <= 4; ++factor)
      alive.push_back(nncc::test::compileText(scale(factor + 10 * round)));
  }
  std::vector<float> x = {1, 2};
  for (size_t i = 0; i < alive.size(); ++i) {
    ASSERT_TRUE(alive[i]);
    Session s(alive[i]);
    ASSERT_TRUE(s.initialize().ok());
    auto out = s.run("predict", {{"x", Tensor::borrow(DType::F32, {2}, x.data())}}, {"y"});
    ASSERT_TRUE(out.ok()) << out.error();
    float factor = 2 + i % 3 + 10 * (i / 3);
    EXPECT_EQ(out->at("y").data<float>()[1], 2 * factor) << "executable " << i;
  }
}

// Large products are split over the runtime's threads by rows: the result is
// the same, bit for bit, on one thread and on all of them, and right.
TEST(Threads, SplitProductsGiveTheSameBits) {
  auto exe = nncc::test::compileText(R"pb(
    placeholders { name: "a" dtype: F32 shape { dims: -1 dims: 300 } }
    placeholders { name: "b" dtype: F32 shape { dims: 300 dims: 700 } }
    nodes { name: "c" op: "matmul" inputs: "a" inputs: "b" }
    signatures { name: "f" feeds: "a" feeds: "b" fetches: "c" }
  )pb");
  ASSERT_TRUE(exe);
  const int64_t m = 517, k = 300, n = 700;
  std::vector<float> a(m * k), b(k * n);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<float>((i * 7919) % 1000) / 500.0f - 1;
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<float>((i * 104729) % 1000) / 500.0f - 1;
  auto run = [&](int threads) {
    nncc::rt::setThreadCount(threads);
    Session s(exe);
    EXPECT_TRUE(s.initialize().ok());
    auto out = s.run("f", {{"a", Tensor::borrow(DType::F32, {m, k}, a.data())},
                           {"b", Tensor::borrow(DType::F32, {k, n}, b.data())}});
    EXPECT_TRUE(out.ok()) << out.error();
    const float *c = out->at("c").data<float>();
    return std::vector<float>(c, c + m * n);
  };
  nncc::rt::setThreadCount(256);
  int pool = nncc::rt::threadCount();
  std::vector<float> one = run(1), all = run(pool);
  nncc::rt::setThreadCount(pool);
  if (pool == 1)
    GTEST_LOG_(INFO) << "one hardware thread: nothing was split";
  EXPECT_EQ(std::memcmp(one.data(), all.data(), one.size() * sizeof(float)), 0);
  for (int64_t i : {int64_t(0), m / 2, m - 1})
    for (int64_t j : {int64_t(0), n - 1}) {
      double ref = 0;
      for (int64_t p = 0; p < k; ++p)
        ref += double(a[i * k + p]) * b[p * n + j];
      EXPECT_NEAR(one[i * n + j], ref, 1e-3) << i << "," << j;
    }
}

// The steady state of a training loop allocates nothing: after the first
// steps, every buffer the kernels ask for is one they freed before.
TEST(Allocator, TrainingStepsReuseTheirBuffers) {
  auto exe = nncc::test::compileText(R"pb(
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 8 } }
    placeholders { name: "y" dtype: F32 shape { dims: -1 dims: 2 } }
    variables { name: "w" dtype: F32 shape: 8 shape: 2 initializer { kind: GLOROT_UNIFORM seed: 1 } }
    nodes { name: "p" op: "matmul" inputs: "x" inputs: "w" }
    nodes { name: "t" op: "tanh" inputs: "p" }
    nodes { name: "loss" op: "mean_squared_error" inputs: "t" inputs: "y" }
    signatures { name: "train" feeds: "x" feeds: "y" fetches: "loss" loss: "loss"
                 optimizer { kind: "sgd" learning_rate: 0.1 momentum: 0.9 } }
  )pb");
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  std::vector<float> x(32 * 8, 0.25f), y(32 * 2, 0.5f);
  auto step = [&] {
    auto out = s.run("train", {{"x", Tensor::borrow(DType::F32, {32, 8}, x.data())},
                               {"y", Tensor::borrow(DType::F32, {32, 2}, y.data())}});
    ASSERT_TRUE(out.ok()) << out.error();
  };
  for (int i = 0; i < 3; ++i)
    step();
  auto before = nncc::rt::allocatorStats();
  for (int i = 0; i < 20; ++i)
    step();
  auto after = nncc::rt::allocatorStats();
  EXPECT_EQ(after.fresh, before.fresh) << "new blocks in the steady state";
  EXPECT_GT(after.reused, before.reused + 20);
}
