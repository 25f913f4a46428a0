// The CPU the native code is for: this machine's (native) or a named one
// (x86-64-v3, znver4, ...), of this machine's architecture or another
// triple's (aarch64-linux-gnu: cross-compilation). It sets the target machine's CPU and features,
// the vector width the product kernels are written for, and the features an
// .nnx records for the runtime to check at load.
#ifndef NNCC_COMPILER_CPU_TARGETCPU_H
#define NNCC_COMPILER_CPU_TARGETCPU_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nncc::cpu {

struct TargetCpu {
  std::string triple;   ///< normalized: this process's (x86_64-pc-linux-gnu) or --triple's
  std::string cpu;      ///< LLVM's CPU name: the host's for native
  std::string features; ///< LLVM's feature string: the host's for native, empty otherwise
  /// 512 with AVX-512, 256 with AVX2 and FMA, otherwise 128.
  int64_t vectorBits = 128;
  /// How many: 0 for x86's (32 with AVX-512, else 16), 32 on AArch64.
  int64_t vectorRegisters = 0;
  /// The features among rt::kCpuFeatureNames the code may use.
  std::vector<std::string> requiredFeatures;
};

/// What `nncc compile --cpu` accepts, for messages and help.
inline constexpr llvm::StringLiteral kCpuForms =
    "native (this machine's CPU), x86-64, x86-64-v2, x86-64-v3, x86-64-v4, or an LLVM CPU name "
    "(e.g. skylake, znver4; `llc-19 -mcpu=help` lists them)";

/// `name` ("native", "x86-64-v3", an LLVM CPU name; empty: native) of
/// `triple` (empty: this machine's) as a TargetCpu; an unknown name is an
/// error listing the accepted forms. For another architecture's triple an
/// empty name is its "generic" CPU and "native" is an error.
llvm::Expected<TargetCpu> resolveTargetCpu(llvm::StringRef name, llvm::StringRef triple = "");

/// This process's triple, e.g. x86_64-pc-linux-gnu.
std::string hostTriple();

/// Whether code for `triple` (empty: the host's) runs on this machine's
/// architecture.
bool isHostTriple(llvm::StringRef triple);

} // namespace nncc::cpu

#endif
