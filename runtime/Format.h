// Tensors printed as NumPy prints arrays (str(a)), so the CLI's fetched
// values and the examples' output read like the textbook's NumPy sessions.
#ifndef NNCC_RUNTIME_FORMAT_H
#define NNCC_RUNTIME_FORMAT_H

#include "runtime/Tensor.h"

#include <string>

namespace nncc::rt {

/// numpy's print options (np.set_printoptions), with numpy's defaults.
struct FormatOptions {
  /// Digits after the point at most (numpy's `precision`); each value is
  /// printed with the fewest digits that read back to it, up to this many.
  int precision = 8;
  /// numpy's floatmode='fixed': always `precision` digits after the point.
  bool fixed = false;
  /// Lines are wrapped before this many characters.
  int lineWidth = 75;
  /// Arrays of more elements are summarized with "..." ...
  int64_t threshold = 1000;
  /// ... keeping this many items at each end of every axis.
  int edgeItems = 3;
};

/// What numpy's str(a) prints for an array of the same dtype and values:
/// "[2.7 4.7 6.7]", "[[0. 1.]\n [2. 3.]]", "[ True False]", "[ 1 -2]".
/// A rank-0 tensor prints as numpy prints the scalar: "2.7", "3.0", "1e-05"
/// (with the shortest digits, whatever the precision).
std::string formatArray(const Tensor &t, const FormatOptions &options = {});

} // namespace nncc::rt

#endif
