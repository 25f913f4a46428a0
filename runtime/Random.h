// Counter-based random numbers (Philox-4x32-10) and the variable
// initializers built on them. Element i of a random tensor is a pure
// function of (seed, i), so a GPU kernel can produce the same values in
// any order and on any number of threads.
#ifndef NNCC_RUNTIME_RANDOM_H
#define NNCC_RUNTIME_RANDOM_H

#include "runtime/Tensor.h"

#include <array>
#include <cstdint>
#include <vector>

namespace nncc::rt {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

/// Philox-4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as
/// easy as 1, 2, 3", SC'11), bit-exact with Random123's philox4x32_R(10,...).
PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key);

/// The four words of block `block` of the stream of `seed`: counter
/// {lo32(block), hi32(block), 0, 0}, key {lo32(seed), hi32(seed)}.
PhiloxCounter randomBlock(uint64_t seed, uint64_t block);

/// A uniform float in [0, 1): the top 24 bits of `bits` times 2^-24 (exact
/// in float32).
inline float uniformFromBits(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

/// Element i of the uniform [0, 1) stream of `seed`: word i % 4 of block i / 4.
float uniformAt(uint64_t seed, uint64_t i);

/// Element i of the standard normal stream of `seed`. Block i / 4 gives two
/// pairs of uniforms (words 0, 1 and 2, 3); each pair (u1, u2) gives, by
/// Box-Muller, r = sqrt(-2 ln(1 - u1)) and elements r cos(2 pi u2) and
/// r sin(2 pi u2), in that order. Computed in double.
double normalAt(uint64_t seed, uint64_t i);

/// How a variable starts, as Keras's initializers define it.
struct InitializerSpec {
  enum class Kind { Zeros, Ones, Constant, GlorotUniform, RandomNormal, RandomUniform };
  Kind kind = Kind::Zeros;
  /// Constant: one value fills the tensor, or one value per element.
  std::vector<double> constantValues;
  uint64_t seed = 0;
  /// RandomNormal (Keras's defaults).
  double mean = 0.0, stddev = 0.05;
  /// RandomUniform: values in [minval, maxval) (Keras's defaults).
  double minval = -0.05, maxval = 0.05;
};

/// "zeros", "ones", "constant", "glorot_uniform", "random_normal",
/// "random_uniform".
const char *initializerKindName(InitializerSpec::Kind kind);

/// Keras's glorot_uniform limit sqrt(6 / (fan_in + fan_out)): rank 2
/// (fan_in, fan_out) = shape; rank 1 both shape[0]; rank 0 both 1; higher
/// ranks multiply both by the receptive field product(shape[:-2]).
double glorotUniformLimit(const Shape &shape);

/// Fills `t` (already of the variable's dtype and shape) as `spec` says.
/// Random kinds need an f32 or f64 tensor; the others take any dtype.
Status initialize(Tensor &t, const InitializerSpec &spec);

} // namespace nncc::rt

#endif
