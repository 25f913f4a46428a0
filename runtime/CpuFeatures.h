// The x86 CPU features an executable's kernels may need, and those this CPU
// has (cpuid, and xgetbv for the AVX and AVX-512 state the OS saves): the
// runtime refuses an .nnx compiled for features the host lacks (or for
// another architecture: nncc compile --triple) instead of dying of an
// illegal instruction in the middle of a run.
#ifndef NNCC_RUNTIME_CPUFEATURES_H
#define NNCC_RUNTIME_CPUFEATURES_H

#include "runtime/Status.h"

#include <set>
#include <string>
#include <vector>

namespace nncc::rt {

/// The features nncc records in an .nnx (Executable.required_cpu_features)
/// and the runtime checks, in LLVM's spelling. The compiler asks LLVM which
/// of these its target has; the runtime reads them with cpuid.
inline constexpr const char *kCpuFeatureNames[] = {
    "sse2",       "sse3",       "ssse3",       "sse4.1",     "sse4.2",       "sse4a",
    "popcnt",     "cx16",       "sahf",        "pclmul",     "aes",          "movbe",
    "avx",        "avx2",       "fma",         "f16c",       "bmi",          "bmi2",
    "lzcnt",      "adx",        "sha",         "gfni",       "vaes",         "vpclmulqdq",
    "avxvnni",    "avx512f",    "avx512bw",    "avx512cd",   "avx512dq",     "avx512vl",
    "avx512ifma", "avx512vbmi", "avx512vbmi2", "avx512vnni", "avx512bitalg", "avx512vpopcntdq",
    "avx512bf16", "avx512fp16"};

/// Those of kCpuFeatureNames this CPU has and the OS enables (empty off
/// x86-64). Read once.
const std::set<std::string> &hostCpuFeatures();

/// The names in `required` the host lacks (unknown names included), in
/// their order.
std::vector<std::string> missingCpuFeatures(const std::vector<std::string> &required);

/// The `nncc compile --cpu` level that fits this host: the highest of
/// x86-64-v4, x86-64-v3, x86-64-v2 and x86-64 whose features it has.
std::string hostCpuLevel();

/// This machine's architecture as a triple spells it: x86_64, aarch64, ...
std::string hostArchitecture();

/// Ok when code for `triple` (an .nnx's target_triple; empty in old ones)
/// is for this machine's architecture; otherwise an error naming `name`,
/// both architectures and how to recompile. Checked before the library is
/// loaded: the loader's own refusal ("wrong ELF class") says less.
Status checkTargetArchitecture(const std::string &triple, const std::string &name);

/// Ok when this host has all of `required`; otherwise an error naming
/// `name`, the missing features and the --cpu flag to recompile with.
Status checkCpuFeatures(const std::vector<std::string> &required, const std::string &name);

} // namespace nncc::rt

#endif
