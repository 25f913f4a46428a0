// NumPy-like literals of the command line ("1.0", "[1, 2]", "[[1, 2], [3, 4]]",
// "true") turned into tensors, so a small feed needs no .npy file.
#ifndef NNCC_RUNTIME_LITERAL_H
#define NNCC_RUNTIME_LITERAL_H

#include "runtime/Tensor.h"

#include <string>

namespace nncc::rt {

/// Parses `text` into a tensor of `dtype`: a number or true/false gives a
/// scalar, nested [...] lists give an array whose shape the nesting sets
/// ("[]" is shape (0,)). Numbers must fit the dtype: integer dtypes take
/// integral values only ("2" or "2.0", not "2.5"); bool takes true/false
/// (or True/False) and numbers (non-zero is true). Errors quote the literal
/// and the column of what is wrong.
Expected<Tensor> parseLiteral(const std::string &text, DType dtype);

} // namespace nncc::rt

#endif
