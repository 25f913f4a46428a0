// The envelope of nncc's binary files (.nnx executables, checkpoints): an
// 8-byte magic, the format version (u32), a CRC-32 of the payload (u32) and
// the payload's size (u64), little-endian, then the payload. Reading it
// tells a foreign, truncated, corrupted or other-version file apart.
#ifndef NNCC_RUNTIME_FRAMEDFILE_H
#define NNCC_RUNTIME_FRAMEDFILE_H

#include "runtime/Status.h"

#include <cstdint>
#include <string>

namespace nncc::rt {

struct FileKind {
  const char *magic; // exactly 8 bytes
  uint32_t version;
  const char *what; // "nncc executable (.nnx)", "nncc checkpoint"
};

inline constexpr FileKind kExecutableFile = {"NNCCNNX\n", 3, "nncc executable (.nnx)"};
inline constexpr FileKind kCheckpointFile = {"NNCCKPT\n", 1, "nncc checkpoint"};

/// header + payload.
std::string frame(const FileKind &kind, const std::string &payload);
/// The payload of `bytes` (the contents of `path`), or why it is refused.
Expected<std::string> unframe(const FileKind &kind, const std::string &bytes,
                              const std::string &path);
/// The bytes of `path`, a `kind` file (named in the error).
Expected<std::string> readFileOf(const FileKind &kind, const std::string &path);
/// Reads `path` and unframes it.
Expected<std::string> readFramed(const FileKind &kind, const std::string &path);
/// Writes frame(kind, payload) to `path` atomically (temporary, rename).
Status writeFramed(const FileKind &kind, const std::string &payload, const std::string &path);

} // namespace nncc::rt

#endif
