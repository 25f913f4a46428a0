// A dense, row-major tensor of the runtime: dtype, shape and memory that is
// either owned (shared, freed with the last copy) or borrowed from the caller.
#ifndef NNCC_RUNTIME_TENSOR_H
#define NNCC_RUNTIME_TENSOR_H

#include "runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nncc::rt {

enum class DType { F32, F64, I32, I64, Bool };

/// "f32", "f64", "i32", "i64", "bool".
const char *dtypeName(DType dtype);
/// Bytes per element (bool is one byte).
size_t dtypeSize(DType dtype);

using Shape = std::vector<int64_t>;
/// The most elements one tensor may have: a shape read from a file or an
/// artifact that claims more is an error, not an allocation.
constexpr int64_t kMaxElements = int64_t(1) << 34;
/// "(3, 2)", "()" for a scalar.
std::string shapeString(const Shape &shape);
/// The number of elements of `shape` (1 for a scalar).
int64_t numElements(const Shape &shape);

class Tensor {
public:
  Tensor() = default;
  /// A zero-filled tensor that owns its memory; where the memory cannot be
  /// had it holds no data (valid() is false).
  Tensor(DType dtype, Shape shape);
  /// A tensor viewing `data`, which the caller keeps alive.
  static Tensor borrow(DType dtype, Shape shape, void *data);
  /// A tensor owning `data`, released with `deleter`.
  static Tensor adopt(DType dtype, Shape shape, void *data, std::function<void(void *)> deleter);
  /// A tensor owning a copy of `values`.
  template <typename T> static Tensor of(Shape shape, const std::vector<T> &values);

  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return numElements(shape_); }
  size_t bytes() const { return static_cast<size_t>(size()) * dtypeSize(dtype_); }
  void *data() { return data_; }
  const void *data() const { return data_; }
  template <typename T> T *data() { return static_cast<T *>(data_); }
  template <typename T> const T *data() const { return static_cast<const T *>(data_); }
  /// Elements converted to double, in row-major order (for printing, tests).
  std::vector<double> toDoubles() const;
  /// A deep copy that owns its memory.
  Tensor clone() const;
  bool valid() const { return data_ != nullptr || size() == 0; }

private:
  DType dtype_ = DType::F32;
  Shape shape_;
  void *data_ = nullptr;
  std::shared_ptr<void> owner_;
};

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> {
  static constexpr DType value = DType::F32;
};
template <> struct DTypeOf<double> {
  static constexpr DType value = DType::F64;
};
template <> struct DTypeOf<int32_t> {
  static constexpr DType value = DType::I32;
};
template <> struct DTypeOf<int64_t> {
  static constexpr DType value = DType::I64;
};
template <> struct DTypeOf<bool> {
  static constexpr DType value = DType::Bool;
};

template <typename T> Tensor Tensor::of(Shape shape, const std::vector<T> &values) {
  Tensor t(DTypeOf<T>::value, std::move(shape));
  T *out = t.data<T>();
  for (size_t i = 0; i < values.size() && i < static_cast<size_t>(t.size()); ++i)
    out[i] = values[i];
  return t;
}

} // namespace nncc::rt

#endif
