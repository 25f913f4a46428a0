#include "Convert.h"

#include <memory>

namespace nncc::py {

void registerErrors() {
  pb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const NnccError &e) {
      pb::object cls = pb::module_::import("nncc.errors").attr(e.kind.c_str());
      PyErr_SetObject(cls.ptr(), pb::str(e.what()).ptr());
    } catch (const std::invalid_argument &e) {
      // The graph builder's refusals (compiler/frontend).
      pb::object cls = pb::module_::import("nncc.errors").attr("InvalidArgument");
      PyErr_SetObject(cls.ptr(), pb::str(e.what()).ptr());
    }
  });
}

void check(const rt::Status &status, const char *kind) {
  if (!status.ok())
    throw NnccError(kind, status.message());
}

pb::dtype numpyDType(rt::DType dtype) {
  switch (dtype) {
  case rt::DType::F32:
    return pb::dtype::of<float>();
  case rt::DType::F64:
    return pb::dtype::of<double>();
  case rt::DType::I32:
    return pb::dtype::of<int32_t>();
  case rt::DType::I64:
    return pb::dtype::of<int64_t>();
  case rt::DType::Bool:
    return pb::dtype::of<bool>();
  }
  return pb::dtype::of<float>();
}

std::optional<rt::DType> runtimeDType(const pb::dtype &dtype) {
  // From the descriptor itself: this is on every feed's path.
  const auto *d = pb::detail::array_descriptor_proxy(dtype.ptr());
  if (d->byteorder == '>')
    return std::nullopt; // not this (little-endian) machine's order
  switch (d->kind) {
  case 'f':
    return d->elsize == 4   ? std::optional(rt::DType::F32)
           : d->elsize == 8 ? std::optional(rt::DType::F64)
                            : std::nullopt;
  case 'i':
    return d->elsize == 4   ? std::optional(rt::DType::I32)
           : d->elsize == 8 ? std::optional(rt::DType::I64)
                            : std::nullopt;
  case 'b':
    return d->elsize == 1 ? std::optional(rt::DType::Bool) : std::nullopt;
  default:
    return std::nullopt;
  }
}

rt::Tensor toTensor(pb::handle value, std::optional<rt::DType> want, const std::string &what,
                    pb::object &keep) {
  static const pb::module_ &np = *new pb::module_(pb::module_::import("numpy"));
  pb::array array;
  if (pb::isinstance<pb::array>(value)) {
    array = pb::reinterpret_borrow<pb::array>(value);
  } else {
    // Python scalars and lists: NumPy's reading, then the wanted dtype.
    array = np.attr("asarray")(value);
    if (array.dtype().kind() == 'O' || array.dtype().kind() == 'U')
      throw NnccError("InvalidArgument", what + ": cannot be read as a number array (" +
                                             std::string(pb::str(pb::repr(value))) + ")");
  }
  std::optional<rt::DType> own = runtimeDType(array.dtype());
  rt::DType dtype = want ? *want : own ? *own : rt::DType::F32;
  pb::dtype target = numpyDType(dtype);
  if (!own || *own != dtype) {
    bool python = !pb::isinstance<pb::array>(value);
    // A Python number or list takes the wanted dtype as TF1 does (1 feeds
    // a float); an array is cast only where no value class is lost.
    if (!python && !np.attr("can_cast")(array.dtype(), target, "same_kind").cast<bool>())
      throw NnccError("InvalidArgument", what + ": expected " + rt::dtypeName(dtype) +
                                             ", got an array of " +
                                             std::string(pb::str(array.dtype())) +
                                             " (cast it first: arr.astype(...))");
    if (python && array.dtype().kind() == 'f' && (target.kind() == 'i' || target.kind() == 'b'))
      throw NnccError("InvalidArgument",
                      what + ": expected " + rt::dtypeName(dtype) + ", got a float value");
  }
  if (!(array.flags() & pb::array::c_style) || !own || *own != dtype)
    array = np.attr("ascontiguousarray")(array, target);
  rt::Shape shape(array.shape(), array.shape() + array.ndim());
  keep = array;
  return rt::Tensor::borrow(dtype, std::move(shape), const_cast<void *>(array.data()));
}

pb::array toArray(rt::Tensor tensor) {
  auto *owned = new rt::Tensor(std::move(tensor));
  pb::capsule owner(owned, [](void *p) { delete static_cast<rt::Tensor *>(p); });
  std::vector<pb::ssize_t> shape(owned->shape().begin(), owned->shape().end());
  std::vector<pb::ssize_t> strides(shape.size());
  pb::ssize_t stride = static_cast<pb::ssize_t>(rt::dtypeSize(owned->dtype()));
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return pb::array(numpyDType(owned->dtype()), shape, strides, owned->data(), owner);
}

} // namespace nncc::py
