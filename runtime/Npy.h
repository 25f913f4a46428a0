// NumPy .npy files in and out of the runtime: the feeds and fetches of
// `nncc run`. Versions 1.0 and 2.0, C order, little-endian f4/f8/i4/i8 and
// b1. Every malformed file is an error naming the file and what is wrong.
#ifndef NNCC_RUNTIME_NPY_H
#define NNCC_RUNTIME_NPY_H

#include "runtime/Tensor.h"

#include <string>

namespace nncc::rt {

/// Reads a .npy file. The element count is checked against the file size
/// before any memory is allocated for the data.
Expected<Tensor> readNpy(const std::string &path);

/// Reads .npy content held in memory; `nameForErrors` stands for the file in
/// error messages.
Expected<Tensor> readNpyBytes(const std::string &bytes, const std::string &nameForErrors);

/// Writes `t` as a version 1.0 .npy file (2.0 if the header needs it),
/// atomically: to a temporary file beside `path`, then renamed over it.
Status writeNpy(const std::string &path, const Tensor &t);

/// The .npy content writeNpy would write.
Expected<std::string> writeNpyBytes(const Tensor &t);

} // namespace nncc::rt

#endif
