#include "runtime/Random.h"

#include <algorithm>
#include <cmath>

namespace nncc::rt {

PhiloxCounter philox4x32_10(PhiloxCounter c, PhiloxKey k) {
  constexpr uint32_t M0 = 0xD2511F53, M1 = 0xCD9E8D57;
  constexpr uint32_t W0 = 0x9E3779B9, W1 = 0xBB67AE85;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += W0;
      k[1] += W1;
    }
    uint64_t p0 = uint64_t(M0) * c[0], p1 = uint64_t(M1) * c[2];
    uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
  }
  return c;
}

PhiloxCounter randomBlock(uint64_t seed, uint64_t block) {
  return philox4x32_10({uint32_t(block), uint32_t(block >> 32), 0, 0},
                       {uint32_t(seed), uint32_t(seed >> 32)});
}

float uniformAt(uint64_t seed, uint64_t i) {
  return uniformFromBits(randomBlock(seed, i / 4)[i % 4]);
}

namespace {

/// Box-Muller on one pair of words: the cos and the sin element.
std::array<double, 2> boxMuller(uint32_t w1, uint32_t w2) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  double u1 = uniformFromBits(w1), u2 = uniformFromBits(w2);
  double r = std::sqrt(-2.0 * std::log(1.0 - u1)); // 1 - u1 is in (0, 1]
  return {r * std::cos(kTwoPi * u2), r * std::sin(kTwoPi * u2)};
}

template <typename T> void fillUniform(Tensor &t, uint64_t seed, double lo, double hi) {
  T *out = t.data<T>();
  uint64_t n = static_cast<uint64_t>(t.size());
  const T top = static_cast<T>(hi);
  for (uint64_t b = 0; b * 4 < n; ++b) {
    PhiloxCounter w = randomBlock(seed, b);
    for (uint64_t j = 0; j < 4 && b * 4 + j < n; ++j) {
      T v = static_cast<T>(lo + (hi - lo) * double(uniformFromBits(w[j])));
      // Rounding to T must not reach the excluded upper bound.
      if (v >= top && hi > lo)
        v = std::nextafter(top, static_cast<T>(lo));
      out[b * 4 + j] = v;
    }
  }
}

template <typename T> void fillNormal(Tensor &t, uint64_t seed, double mean, double stddev) {
  T *out = t.data<T>();
  uint64_t n = static_cast<uint64_t>(t.size());
  for (uint64_t b = 0; b * 4 < n; ++b) {
    PhiloxCounter w = randomBlock(seed, b);
    std::array<double, 2> z01 = boxMuller(w[0], w[1]), z23 = boxMuller(w[2], w[3]);
    double z[4] = {z01[0], z01[1], z23[0], z23[1]};
    for (uint64_t j = 0; j < 4 && b * 4 + j < n; ++j)
      out[b * 4 + j] = static_cast<T>(mean + stddev * z[j]);
  }
}

template <typename T> void fill(Tensor &t, const std::vector<double> &values) {
  T *out = t.data<T>();
  for (int64_t i = 0; i < t.size(); ++i)
    out[i] = static_cast<T>(values.size() == 1 ? values[0] : values[i]);
}

Status checkConstants(const Tensor &t, const std::vector<double> &values) {
  if (values.size() != 1 && static_cast<int64_t>(values.size()) != t.size())
    return Status::error("constant initializer: " + std::to_string(values.size()) +
                         " values for a tensor of shape " + shapeString(t.shape()) + " (" +
                         std::to_string(t.size()) + " elements); give 1 or " +
                         std::to_string(t.size()));
  if (t.dtype() != DType::I32 && t.dtype() != DType::I64)
    return Status();
  bool i32 = t.dtype() == DType::I32;
  double lo = i32 ? -2147483648.0 : -9223372036854775808.0;
  double hi = i32 ? 2147483648.0 : 9223372036854775808.0;
  for (double v : values)
    if (!(v >= lo && v < hi) || v != std::floor(v))
      return Status::error("constant initializer: value " + std::to_string(v) + " is not an " +
                           dtypeName(t.dtype()) + " integer");
  return Status();
}

} // namespace

double normalAt(uint64_t seed, uint64_t i) {
  PhiloxCounter w = randomBlock(seed, i / 4);
  size_t pair = (i % 4) / 2;
  return boxMuller(w[2 * pair], w[2 * pair + 1])[i % 2];
}

const char *initializerKindName(InitializerSpec::Kind kind) {
  using K = InitializerSpec::Kind;
  switch (kind) {
  case K::Zeros:
    return "zeros";
  case K::Ones:
    return "ones";
  case K::Constant:
    return "constant";
  case K::GlorotUniform:
    return "glorot_uniform";
  case K::RandomNormal:
    return "random_normal";
  case K::RandomUniform:
    return "random_uniform";
  }
  return "?";
}

double glorotUniformLimit(const Shape &shape) {
  double fanIn = 1, fanOut = 1;
  size_t r = shape.size();
  if (r == 1) {
    fanIn = fanOut = double(shape[0]);
  } else if (r >= 2) {
    double receptive = 1;
    for (size_t i = 0; i + 2 < r; ++i)
      receptive *= double(shape[i]);
    fanIn = double(shape[r - 2]) * receptive;
    fanOut = double(shape[r - 1]) * receptive;
  }
  return std::sqrt(6.0 / std::max(1.0, fanIn + fanOut));
}

Status initialize(Tensor &t, const InitializerSpec &spec) {
  using K = InitializerSpec::Kind;
  if (!t.valid())
    return Status::error(std::string(initializerKindName(spec.kind)) +
                         " initializer: the tensor has no memory");
  std::vector<double> values;
  switch (spec.kind) {
  case K::Zeros:
    values = {0.0};
    break;
  case K::Ones:
    values = {1.0};
    break;
  case K::Constant:
    values = spec.constantValues;
    if (values.empty())
      return Status::error("constant initializer: no value given");
    break;
  default:
    break;
  }
  if (!values.empty()) {
    if (Status st = checkConstants(t, values); !st.ok())
      return st;
    switch (t.dtype()) {
    case DType::F32:
      fill<float>(t, values);
      break;
    case DType::F64:
      fill<double>(t, values);
      break;
    case DType::I32:
      fill<int32_t>(t, values);
      break;
    case DType::I64:
      fill<int64_t>(t, values);
      break;
    case DType::Bool:
      fill<bool>(t, values);
      break;
    }
    return Status();
  }

  std::string what = std::string(initializerKindName(spec.kind)) + " initializer";
  if (t.dtype() != DType::F32 && t.dtype() != DType::F64)
    return Status::error(what + " needs an f32 or f64 tensor, not " + dtypeName(t.dtype()));
  bool f32 = t.dtype() == DType::F32;
  if (spec.kind == K::RandomNormal) {
    if (!std::isfinite(spec.mean) || !(spec.stddev >= 0) || !std::isfinite(spec.stddev))
      return Status::error(what + ": needs a finite mean and stddev >= 0, got mean " +
                           std::to_string(spec.mean) + ", stddev " + std::to_string(spec.stddev));
    f32 ? fillNormal<float>(t, spec.seed, spec.mean, spec.stddev)
        : fillNormal<double>(t, spec.seed, spec.mean, spec.stddev);
    return Status();
  }
  double lo = spec.minval, hi = spec.maxval;
  if (spec.kind == K::GlorotUniform) {
    hi = glorotUniformLimit(t.shape());
    lo = -hi;
  } else if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) {
    return Status::error(what + ": needs finite minval <= maxval, got [" + std::to_string(lo) +
                         ", " + std::to_string(hi) + ")");
  }
  f32 ? fillUniform<float>(t, spec.seed, lo, hi) : fillUniform<double>(t, spec.seed, lo, hi);
  return Status();
}

} // namespace nncc::rt
