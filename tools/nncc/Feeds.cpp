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

} // namespace nncc::tool
