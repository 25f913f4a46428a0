// Checkpoints: every variable round-trips (optimizer slots and the
// iteration counter included), a checkpoint that does not match the model is
// refused with every mismatch listed, bad files are refused with what is
// wrong, and a failed restore or save changes nothing.
#include "test/e2e/CompileAndRun.h"

#include <gmock/gmock.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using nncc::rt::DType;
using nncc::rt::Session;
using nncc::rt::Tensor;
using ::testing::HasSubstr;

namespace {

std::string model(int units) {
  return R"pb(
    name: "regression"
    placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 3 } }
    placeholders { name: "y" dtype: F32 shape { dims: -1 dims: )pb" +
         std::to_string(units) + R"pb( } }
    variables { name: "w" dtype: F32 shape: 3 shape: )pb" +
         std::to_string(units) + R"pb(
                initializer { kind: GLOROT_UNIFORM seed: 4 } }
    variables { name: "b" dtype: F32 shape: )pb" +
         std::to_string(units) + R"pb( }
    nodes { name: "xw" op: "matmul" inputs: "x" inputs: "w" }
    nodes { name: "pred" op: "bias_add" inputs: "xw" inputs: "b" }
    nodes { name: "loss" op: "mean_squared_error" inputs: "pred" inputs: "y" }
    signatures { name: "predict" feeds: "x" fetches: "pred" }
    signatures { name: "train" feeds: "x" feeds: "y" fetches: "loss" loss: "loss"
                 optimizer { kind: "sgd" learning_rate: 0.1 momentum: 0.9 } }
  )pb";
}

std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "/nncc_ckpt_" + name;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class CheckpointTest : public ::testing::Test {
protected:
  void SetUp() override {
    exe = nncc::test::compileText(model(2));
    ASSERT_TRUE(exe);
    session = std::make_unique<Session>(exe);
    ASSERT_TRUE(session->initialize().ok());
    for (int i = 0; i < 5; ++i)
      train();
  }
  void train() {
    auto out = session->run("train", {{"x", Tensor::borrow(DType::F32, {4, 3}, x.data())},
                                      {"y", Tensor::borrow(DType::F32, {4, 2}, y.data())}});
    ASSERT_TRUE(out.ok()) << out.error();
  }
  std::vector<double> state(Session &s) {
    std::vector<double> all;
    for (const auto &v : exe->proto().variables()) {
      auto t = s.variable(v.name());
      EXPECT_TRUE(t.ok()) << v.name();
      auto d = t->toDoubles();
      all.insert(all.end(), d.begin(), d.end());
    }
    return all;
  }
  std::vector<float> x = {1, 2, 3, 0, 1, 0, -1, 2, 1, 3, 3, 3};
  std::vector<float> y = {1, 0, 0, 1, 2, 2, -1, 0};
  std::shared_ptr<nncc::rt::Executable> exe;
  std::unique_ptr<Session> session;
};

TEST_F(CheckpointTest, RoundTripsEveryVariableAndTrainingContinuesTheSame) {
  std::string path = tempPath("roundtrip");
  ASSERT_TRUE(session->save(path).ok());
  Session restored(exe);
  ASSERT_TRUE(restored.initialize().ok());
  EXPECT_NE(state(restored), state(*session));
  ASSERT_TRUE(restored.restore(path).ok());
  EXPECT_EQ(state(restored), state(*session)); // momentum slots and counter too
  EXPECT_EQ(restored.variable("train/iterations")->toDoubles()[0], 5);
  // The next step is the same step on both: the optimizer state came along.
  train();
  auto out = restored.run("train", {{"x", Tensor::borrow(DType::F32, {4, 3}, x.data())},
                                    {"y", Tensor::borrow(DType::F32, {4, 2}, y.data())}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(state(restored), state(*session));
  // No temporary file is left beside it.
  struct stat st;
  EXPECT_NE(stat((path + ".tmp" + std::to_string(getpid())).c_str(), &st), 0);
  std::remove(path.c_str());
}

TEST_F(CheckpointTest, MismatchedModelIsRefusedWithEveryMismatchListed) {
  std::string path = tempPath("mismatch");
  ASSERT_TRUE(session->save(path).ok());
  auto other = nncc::test::compileText(model(5));
  ASSERT_TRUE(other);
  Session s(other);
  ASSERT_TRUE(s.initialize().ok());
  auto before = s.variable("w")->toDoubles();
  nncc::rt::Status status = s.restore(path);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("does not match model 'regression'"));
  EXPECT_THAT(
      status.message(),
      HasSubstr("variable 'w' is f32 (3, 2) in the checkpoint but f32 (3, 5) in the model"));
  EXPECT_THAT(status.message(), HasSubstr("variable 'b' is f32 (2,) in the checkpoint"));
  EXPECT_THAT(status.message(), HasSubstr("variable 'train/w/momentum'"));
  EXPECT_EQ(s.variable("w")->toDoubles(), before);

  // A model with fewer variables (no optimizer): the extra ones are listed.
  auto plain = nncc::test::compileText(R"pb(
    variables { name: "w" dtype: F32 shape: 3 shape: 2 }
    variables { name: "c" dtype: I32 shape: 1 }
    nodes { name: "s" op: "reduce_sum" inputs: "w" }
    signatures { name: "f" fetches: "s" }
  )pb");
  ASSERT_TRUE(plain);
  Session p(plain);
  ASSERT_TRUE(p.initialize().ok());
  status = p.restore(path);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("variable 'c' (i32 (1,)) is missing"));
  EXPECT_THAT(status.message(), HasSubstr("variable 'b' is not in the model"));
  EXPECT_THAT(status.message(), HasSubstr("variable 'train/iterations' is not in the model"));
  std::remove(path.c_str());
}

TEST_F(CheckpointTest, BadFilesAreRefusedAndChangeNothing) {
  std::string path = tempPath("bad");
  ASSERT_TRUE(session->save(path).ok());
  std::string good = readFile(path);
  auto before = state(*session);
  auto refused = [&](const std::string &bytes) {
    writeFile(path, bytes);
    nncc::rt::Status s = session->restore(path);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(state(*session), before);
    return s.ok() ? std::string() : s.message();
  };
  EXPECT_THAT(refused(good.substr(0, good.size() - 3)), HasSubstr("truncated"));
  EXPECT_THAT(refused(good.substr(0, 10)), HasSubstr("not an nncc checkpoint"));
  EXPECT_THAT(refused(good + "xyz"), HasSubstr("trailing bytes"));
  std::string flipped = good;
  flipped[flipped.size() - 5] ^= 0x40;
  EXPECT_THAT(refused(flipped), HasSubstr("corrupted (checksum mismatch)"));
  std::string newer = good;
  newer[8] = static_cast<char>(nncc::rt::kCheckpointVersion + 1);
  EXPECT_THAT(
      refused(newer),
      HasSubstr("format version 2 is newer than the version this runtime reads (1); update nncc"));
  EXPECT_THAT(refused("PK\x03\x04 a zip file"), HasSubstr("not an nncc checkpoint"));
  std::remove(path.c_str());
  nncc::rt::Status missing = session->restore(path);
  EXPECT_THAT(missing.message(), HasSubstr(path + ": cannot open the nncc checkpoint"));
}

TEST_F(CheckpointTest, FailedSaveLeavesTheOldCheckpoint) {
  std::string path = tempPath("keep");
  ASSERT_TRUE(session->save(path).ok());
  std::string first = readFile(path);
  nncc::rt::Status s = session->save("/nonexistent-dir/ckpt");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent-dir/ckpt: cannot write the nncc checkpoint"));
  EXPECT_EQ(readFile(path), first);
  std::remove(path.c_str());
}

// A save killed in the middle of writing (here: by the file-size limit,
// SIGXFSZ, in a child process) leaves the previous checkpoint in place and
// readable: the data goes to a temporary file that only a finished write
// renames over it.
TEST_F(CheckpointTest, InterruptedSaveLeavesTheOldCheckpointIntact) {
  std::string path = tempPath("interrupted");
  ASSERT_TRUE(session->save(path).ok());
  std::string first = readFile(path);
  train(); // different values to save
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    struct rlimit limit = {64, 64};
    setrlimit(RLIMIT_FSIZE, &limit);
    (void)session->save(path); // killed while writing
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the save was not interrupted";
  EXPECT_EQ(WTERMSIG(status), SIGXFSZ);
  EXPECT_EQ(readFile(path), first);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  EXPECT_TRUE(s.restore(path).ok());
  std::remove(path.c_str());
  std::remove((path + ".tmp" + std::to_string(child)).c_str());
}

} // namespace
