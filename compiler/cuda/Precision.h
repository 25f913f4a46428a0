// How the CUDA target's tiled products multiply: exact fp32 FMAs, or the
// tensor cores (mma.sync) on operands rounded to TF32 or BF16, accumulating in
// fp32 either way. Shared by the compiler's options and the kernel writer.
#ifndef NNCC_COMPILER_CUDA_PRECISION_H
#define NNCC_COMPILER_CUDA_PRECISION_H

#include <optional>
#include <string>

namespace nncc::cuda {

enum class Precision { FP32, TF32, BF16 };

/// "fp32", "tf32", "bf16" -> Precision; nullopt otherwise.
inline std::optional<Precision> parsePrecision(const std::string &name) {
  if (name == "fp32")
    return Precision::FP32;
  if (name == "tf32")
    return Precision::TF32;
  if (name == "bf16")
    return Precision::BF16;
  return std::nullopt;
}

inline const char *precisionName(Precision p) {
  switch (p) {
  case Precision::TF32:
    return "tf32";
  case Precision::BF16:
    return "bf16";
  case Precision::FP32:
    break;
  }
  return "fp32";
}

} // namespace nncc::cuda

#endif
