#include "tools/nncc/Feeds.h"

#include "runtime/Format.h"
#include "runtime/Literal.h"
#include "runtime/Npy.h"

#include "llvm/ADT/StringRef.h"

namespace nncc::tool {

rt::Expected<rt::Tensor> readFeed(const std::string &value, rt::DType dtype) {
  if (llvm::StringRef(value).ends_with(".npy"))
    return rt::readNpy(value);
  return rt::parseLiteral(value, dtype);
}

rt::Status writeFetch(const std::string &path, const rt::Tensor &t) {
  return rt::writeNpy(path, t);
}

std::string formatTensor(const rt::Tensor &t, int precision) {
  rt::FormatOptions options;
  if (precision < 0)
    return rt::formatArray(t, options);
  options.precision = precision;
  if (t.rank() != 0)
    return rt::formatArray(t, options);
  // NumPy prints scalars at full precision; an explicit --precision rounds
  // them like array elements.
  std::string s =
      rt::formatArray(rt::Tensor::borrow(t.dtype(), {1}, const_cast<void *>(t.data())), options);
  return s.substr(1, s.size() - 2);
}

graph::Tensor toGraphTensor(const rt::Tensor &t) {
  graph::Tensor out;
  for (int64_t d : t.shape())
    out.add_dims(d);
  int64_t n = t.size();
  switch (t.dtype()) {
  case rt::DType::F32:
    out.set_dtype(graph::F32);
    out.mutable_float_val()->Add(t.data<float>(), t.data<float>() + n);
    break;
  case rt::DType::F64:
    out.set_dtype(graph::F64);
    out.mutable_double_val()->Add(t.data<double>(), t.data<double>() + n);
    break;
  case rt::DType::I32:
    out.set_dtype(graph::I32);
    for (int64_t i = 0; i < n; ++i)
      out.add_int_val(t.data<int32_t>()[i]);
    break;
  case rt::DType::I64:
    out.set_dtype(graph::I64);
    out.mutable_int_val()->Add(t.data<int64_t>(), t.data<int64_t>() + n);
    break;
  case rt::DType::Bool:
    out.set_dtype(graph::BOOL);
    for (int64_t i = 0; i < n; ++i)
      out.add_bool_val(t.data<bool>()[i]);
    break;
  }
  return out;
}

rt::Expected<std::map<std::string, graph::Tensor>>
readBindings(const std::vector<std::string> &bindings) {
  std::map<std::string, graph::Tensor> out;
  for (const std::string &b : bindings) {
    size_t eq = b.find('=');
    if (eq == std::string::npos || eq == 0)
      return rt::Status::error("--bind '" + b + "': expected NAME=VALUE");
    std::string value = b.substr(eq + 1);
    // Integers are int64 (shapes, axes), anything else float32.
    bool integral = value.find_first_of(".eEn") == std::string::npos;
    auto t = readFeed(value, integral ? rt::DType::I64 : rt::DType::F32);
    if (!t)
      return rt::Status::error("--bind " + b.substr(0, eq) + ": " + t.error());
    out[b.substr(0, eq)] = toGraphTensor(*t);
  }
  return out;
}

} // namespace nncc::tool
