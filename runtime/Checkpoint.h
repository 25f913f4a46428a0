// Reading checkpoints (proto/checkpoint.proto in the framed envelope of
// runtime/FramedFile.h) against an executable's variables, apart from a
// Session so that the reader can be tested and fuzzed on bytes alone.
#ifndef NNCC_RUNTIME_CHECKPOINT_H
#define NNCC_RUNTIME_CHECKPOINT_H

#include "runtime/Session.h"

namespace nncc::rt {

/// The variables of checkpoint `bytes` (the contents of `path`), which must
/// hold exactly `model`'s variables with their dtypes and shapes; otherwise
/// the error lists every mismatch. Truncated, corrupted (CRC-32) and
/// other-version files are refused.
Expected<TensorMap> readCheckpointBytes(const std::string &bytes, const std::string &path,
                                        const exe::Executable &model);

} // namespace nncc::rt

#endif
