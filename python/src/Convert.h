// What both Python modules share: NumPy arrays <-> runtime tensors (without
// a copy where the layout allows) and nncc's errors as Python exceptions
// (python/nncc/errors.py).
#ifndef NNCC_PYTHON_CONVERT_H
#define NNCC_PYTHON_CONVERT_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace nncc::py {

namespace pb = pybind11;

/// An error raised in Python as the nncc.errors class `kind` ("Error",
/// "InvalidArgument", "NotFound", "DataLoss", "CompileError",
/// "Unavailable") with the runtime's or compiler's message.
struct NnccError : std::runtime_error {
  NnccError(std::string kind, const std::string &message)
      : std::runtime_error(message), kind(std::move(kind)) {}
  std::string kind;
};

/// Registers the translation of NnccError to nncc.errors (once per module).
void registerErrors();

/// Throws NnccError for a failed status; `kind` as above.
void check(const rt::Status &status, const char *kind = "InvalidArgument");
template <typename T> T take(rt::Expected<T> value, const char *kind = "InvalidArgument") {
  if (!value)
    throw NnccError(kind, value.error());
  return value.take();
}

/// The NumPy dtype of a runtime dtype and back (nullopt: no such dtype).
pb::dtype numpyDType(rt::DType dtype);
std::optional<rt::DType> runtimeDType(const pb::dtype &dtype);

/// `value` (an array, a scalar, a nested list) as a tensor of `want` (or its
/// own dtype): a C-contiguous array of that dtype is viewed, not copied, and
/// `keep` is set to what must stay alive while the tensor is used; anything
/// else is converted once, where NumPy's same-kind casting allows (floats
/// are not truncated to integers). `what` names the value in errors.
rt::Tensor toTensor(pb::handle value, std::optional<rt::DType> want, const std::string &what,
                    pb::object &keep);

/// A NumPy array over the tensor's memory, which it keeps alive (no copy).
pb::array toArray(rt::Tensor tensor);

} // namespace nncc::py

#endif
