#include "runtime/CpuFeatures.h"

#include <algorithm>

#include <sys/utsname.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace nncc::rt {

namespace {

/// The psABI's x86-64 levels (as LLVM defines its x86-64-vN CPUs), each
/// with the features of kCpuFeatureNames it adds to the one below.
struct Level {
  const char *name;
  std::vector<const char *> adds;
};
const std::vector<Level> &levels() {
  static const std::vector<Level> all = {
      {"x86-64", {"sse2"}},
      {"x86-64-v2", {"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "cx16", "sahf"}},
      {"x86-64-v3", {"avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe"}},
      {"x86-64-v4", {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}}};
  return all;
}

#if defined(__x86_64__) || defined(__i386__)
std::set<std::string> readCpuid() {
  std::set<std::string> out;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
    return out;
  auto bit = [](unsigned reg, int i) { return (reg >> i) & 1u; };
  unsigned ecx1 = ecx, edx1 = edx;
  // The OS saves the YMM (and ZMM) registers on a context switch only where
  // XCR0 says so: without that, AVX (AVX-512) code is not safe to run.
  bool avxState = false, avx512State = false;
  if (bit(ecx1, 27)) { // OSXSAVE: xgetbv is there
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    avxState = (lo & 0x6) == 0x6;                  // XMM and YMM
    avx512State = avxState && (lo & 0xe0) == 0xe0; // opmask, ZMM0-15 high, ZMM16-31
  }
  auto add = [&](const char *name, bool has) {
    if (has)
      out.insert(name);
  };
  add("sse2", bit(edx1, 26));
  add("sse3", bit(ecx1, 0));
  add("pclmul", bit(ecx1, 1));
  add("ssse3", bit(ecx1, 9));
  add("fma", bit(ecx1, 12) && avxState);
  add("cx16", bit(ecx1, 13));
  add("sse4.1", bit(ecx1, 19));
  add("sse4.2", bit(ecx1, 20));
  add("movbe", bit(ecx1, 22));
  add("popcnt", bit(ecx1, 23));
  add("aes", bit(ecx1, 25));
  add("avx", bit(ecx1, 28) && avxState);
  add("f16c", bit(ecx1, 29) && avxState);

  unsigned maxLeaf = __get_cpuid_max(0, nullptr);
  if (maxLeaf >= 7 && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    unsigned subleaves = eax;
    add("bmi", bit(ebx, 3));
    add("avx2", bit(ebx, 5) && avxState);
    add("bmi2", bit(ebx, 8));
    add("avx512f", bit(ebx, 16) && avx512State);
    add("avx512dq", bit(ebx, 17) && avx512State);
    add("adx", bit(ebx, 19));
    add("avx512ifma", bit(ebx, 21) && avx512State);
    add("avx512cd", bit(ebx, 28) && avx512State);
    add("sha", bit(ebx, 29));
    add("avx512bw", bit(ebx, 30) && avx512State);
    add("avx512vl", bit(ebx, 31) && avx512State);
    add("avx512vbmi", bit(ecx, 1) && avx512State);
    add("avx512vbmi2", bit(ecx, 6) && avx512State);
    add("gfni", bit(ecx, 8));
    add("vaes", bit(ecx, 9) && avxState);
    add("vpclmulqdq", bit(ecx, 10) && avxState);
    add("avx512vnni", bit(ecx, 11) && avx512State);
    add("avx512bitalg", bit(ecx, 12) && avx512State);
    add("avx512vpopcntdq", bit(ecx, 14) && avx512State);
    add("avx512fp16", bit(edx, 23) && avx512State);
    if (subleaves >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
      add("avxvnni", bit(eax, 4) && avxState);
      add("avx512bf16", bit(eax, 5) && avx512State);
    }
  }
  if (__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx)) {
    add("sahf", bit(ecx, 0));
    add("lzcnt", bit(ecx, 5));
    add("sse4a", bit(ecx, 6));
  }
  return out;
}
#else
std::set<std::string> readCpuid() { return {}; }
#endif

} // namespace

const std::set<std::string> &hostCpuFeatures() {
  static const std::set<std::string> features = readCpuid();
  return features;
}

std::vector<std::string> missingCpuFeatures(const std::vector<std::string> &required) {
  std::vector<std::string> missing;
  for (const std::string &f : required)
    if (!hostCpuFeatures().count(f))
      missing.push_back(f);
  return missing;
}

std::string hostCpuLevel() {
  std::string fits;
  for (const Level &level : levels()) {
    if (!std::all_of(level.adds.begin(), level.adds.end(),
                     [](const char *f) { return hostCpuFeatures().count(f) > 0; }))
      break;
    fits = level.name;
  }
  return fits;
}

std::string hostArchitecture() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  struct utsname u;
  return uname(&u) == 0 ? u.machine : "unknown";
#endif
}

Status checkTargetArchitecture(const std::string &triple, const std::string &name) {
  if (triple.empty())
    return Status();
  std::string arch = triple.substr(0, triple.find('-'));
  if (arch == "amd64")
    arch = "x86_64";
  else if (arch == "arm64")
    arch = "aarch64";
  std::string host = hostArchitecture();
  if (arch == host)
    return Status();
  return Status::error(name + ": compiled for " + triple + "; this machine is " + host +
                       ": recompile with nncc compile (or --triple=...)");
}

Status checkCpuFeatures(const std::vector<std::string> &required, const std::string &name) {
  std::vector<std::string> missing = missingCpuFeatures(required);
  if (missing.empty())
    return Status();
  std::string list;
  for (const std::string &f : missing)
    list += (list.empty() ? "" : ", ") + f;
  std::string level = hostCpuLevel();
  return Status::error(name + ": compiled for a CPU with " + list + " (missing here); " +
                       (level.empty() ? std::string("this CPU is not an x86-64 one nncc targets")
                                      : "recompile with nncc compile --cpu=" + level));
}

} // namespace nncc::rt
