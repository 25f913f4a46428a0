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
  if (precision >= 0)
    options.precision = precision;
  return rt::formatArray(t, options);
}

} // namespace nncc::tool
