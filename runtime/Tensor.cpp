#include "runtime/Tensor.h"

#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace nncc::rt {

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::Bool:
    return 1;
  }
  return 0;
}

std::string shapeString(const Shape &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += i ? ", " : "";
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    s += ",";
  return s + ")";
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  size_t n = std::max<size_t>(bytes(), 1);
  // 64-byte alignment suits AVX-512 loads. A large tensor (a dataset) goes on
  // transparent huge pages: gathering its rows at random in a shuffled batch
  // then misses the TLB once per 2 MiB instead of once per row.
  constexpr size_t kHuge = size_t(2) << 20;
  size_t align = n >= 2 * kHuge ? kHuge : 64;
  void *p = std::aligned_alloc(align, (n + align - 1) / align * align);
  if (!p)
    return;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (align == kHuge)
    madvise(p, (n + align - 1) / align * align, MADV_HUGEPAGE);
#endif
  std::memset(p, 0, n);
  data_ = p;
  owner_ = std::shared_ptr<void>(p, std::free);
}

Tensor Tensor::borrow(DType dtype, Shape shape, void *data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

Tensor Tensor::adopt(DType dtype, Shape shape, void *data, std::function<void(void *)> deleter) {
  Tensor t = borrow(dtype, std::move(shape), data);
  t.owner_ = std::shared_ptr<void>(data, std::move(deleter));
  return t;
}

std::vector<double> Tensor::toDoubles() const {
  std::vector<double> out(static_cast<size_t>(size()));
  for (size_t i = 0; i < out.size(); ++i) {
    switch (dtype_) {
    case DType::F32:
      out[i] = data<float>()[i];
      break;
    case DType::F64:
      out[i] = data<double>()[i];
      break;
    case DType::I32:
      out[i] = data<int32_t>()[i];
      break;
    case DType::I64:
      out[i] = static_cast<double>(data<int64_t>()[i]);
      break;
    case DType::Bool:
      out[i] = data<bool>()[i] ? 1 : 0;
      break;
    }
  }
  return out;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  if (bytes())
    std::memcpy(t.data_, data_, bytes());
  return t;
}

} // namespace nncc::rt
