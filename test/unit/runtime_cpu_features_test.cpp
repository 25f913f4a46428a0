// The runtime's cpuid reader and its check of an executable's required CPU
// features at load. NNCC_TEST_NNX names E1 compiled here for the native CPU
// (the features LLVM reports for this host), which the tests without it skip.
#include "runtime/CpuFeatures.h"
#include "runtime/Executable.h"
#include "runtime/FramedFile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <unistd.h>

using namespace nncc;
using namespace nncc::rt;

namespace {

bool known(const std::string &name) {
  return std::find_if(std::begin(kCpuFeatureNames), std::end(kCpuFeatureNames),
                      [&](const char *f) { return name == f; }) != std::end(kCpuFeatureNames);
}

std::optional<exe::Executable> nativeE1() {
  const char *path = std::getenv("NNCC_TEST_NNX");
  if (!path || !*path)
    return std::nullopt;
  auto proto = readExecutable(path);
  EXPECT_TRUE(proto.ok()) << proto.error();
  if (!proto)
    return std::nullopt;
  return *proto;
}

} // namespace

#if defined(__x86_64__)
TEST(CpuFeatures, HostHasTheBaseline) {
  EXPECT_TRUE(hostCpuFeatures().count("sse2"));
  std::string level = hostCpuLevel();
  EXPECT_TRUE(level == "x86-64" || level == "x86-64-v2" || level == "x86-64-v3" ||
              level == "x86-64-v4")
      << level;
}

TEST(CpuFeatures, LevelsFollowTheFeatures) {
  const auto &host = hostCpuFeatures();
  std::string level = hostCpuLevel();
  if (level == "x86-64-v4") {
    for (const char *f : {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})
      EXPECT_TRUE(host.count(f)) << f;
  }
  if (level == "x86-64-v3" || level == "x86-64-v4") {
    for (const char *f : {"avx", "avx2", "fma", "bmi2", "movbe", "lzcnt", "f16c"})
      EXPECT_TRUE(host.count(f)) << f;
  }
  if (host.count("avx2")) {
    EXPECT_TRUE(host.count("avx")); // the OS saves the YMM state for both or neither
  }
}
#endif

TEST(CpuFeatures, ReportsOnlyNamesItChecks) {
  for (const std::string &f : hostCpuFeatures())
    EXPECT_TRUE(known(f)) << f;
}

TEST(CpuFeatures, MissingKeepsOrderAndUnknownNames) {
  std::vector<std::string> required(hostCpuFeatures().begin(), hostCpuFeatures().end());
  required.push_back("nncc-made-up-feature");
  EXPECT_EQ(missingCpuFeatures(required), std::vector<std::string>{"nncc-made-up-feature"});
  EXPECT_TRUE(checkCpuFeatures({hostCpuFeatures().begin(), hostCpuFeatures().end()}, "m").ok());
}

// LLVM's host features (what native code may use) are among cpuid's, so
// native code loads.
TEST(CpuFeatures, NativeCodeNeedsOnlyWhatTheHostHas) {
  auto proto = nativeE1();
  if (!proto)
    GTEST_SKIP() << "NNCC_TEST_NNX not set";
  ASSERT_GT(proto->required_cpu_features_size(), 0);
  for (const std::string &f : proto->required_cpu_features()) {
    EXPECT_TRUE(known(f)) << f;
    EXPECT_TRUE(hostCpuFeatures().count(f)) << f << " is required but cpuid does not report it";
  }
  auto loaded = Executable::load(std::getenv("NNCC_TEST_NNX"));
  EXPECT_TRUE(loaded.ok()) << loaded.error();
}

// An executable naming a feature this host lacks (one cpuid says is absent,
// and a name the runtime does not know) is refused at load, saying which and
// the --cpu flag that fits.
TEST(CpuFeatures, RefusesFeaturesTheHostLacks) {
  auto proto = nativeE1();
  if (!proto)
    GTEST_SKIP() << "NNCC_TEST_NNX not set";
  std::vector<std::string> absent;
  for (const char *f : kCpuFeatureNames)
    if (!hostCpuFeatures().count(f))
      absent.push_back(f);
  absent.push_back("nncc-made-up-feature");
  for (const std::string &feature : absent) {
    exe::Executable edited = *proto;
    edited.add_required_cpu_features(feature);
    std::string path = ::testing::TempDir() + "cpu_features_" + std::to_string(getpid()) + ".nnx";
    ASSERT_TRUE(writeFramed(kExecutableFile, edited.SerializeAsString(), path).ok());
    auto loaded = Executable::load(path);
    std::remove(path.c_str());
    ASSERT_FALSE(loaded.ok()) << feature;
    EXPECT_EQ(loaded.error(),
              path + ": compiled for a CPU with " + feature +
                  " (missing here); recompile with nncc compile --cpu=" + hostCpuLevel());
    auto inMemory = Executable::fromProto(edited, "m.nnx");
    ASSERT_FALSE(inMemory.ok());
    EXPECT_NE(inMemory.error().find("m.nnx: compiled for a CPU with " + feature), std::string::npos)
        << inMemory.error();
  }
}

// Code for another architecture (nncc compile --triple) is refused before
// the loader sees it; this machine's triple, in any vendor spelling, loads.
TEST(CpuFeatures, RefusesAnotherArchitecture) {
  EXPECT_TRUE(checkTargetArchitecture("", "m.nnx").ok());
  EXPECT_TRUE(checkTargetArchitecture(hostArchitecture() + "-unknown-linux-gnu", "m.nnx").ok());
  std::string other =
      hostArchitecture() == "aarch64" ? "x86_64-pc-linux-gnu" : "aarch64-unknown-linux-gnu";
  Status s = checkTargetArchitecture(other, "m.nnx");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "m.nnx: compiled for " + other + "; this machine is " +
                             hostArchitecture() +
                             ": recompile with nncc compile (or --triple=...)");
  auto proto = nativeE1();
  if (!proto)
    GTEST_SKIP() << "NNCC_TEST_NNX not set";
  proto->set_target_triple(other);
  auto loaded = Executable::fromProto(*proto, "m.nnx");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error(), s.message());
}
