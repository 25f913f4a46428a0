#include "runtime/FramedFile.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace nncc::rt {
namespace {

constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8;

template <typename T> void put(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}
template <typename T> T get(const std::string &in, size_t at) {
  T value;
  std::memcpy(&value, in.data() + at, sizeof(T));
  return value;
}

uint32_t crc32Of(const char *data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t done = 0; done < size;) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(size - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef *>(data + done), chunk);
    done += chunk;
  }
  return static_cast<uint32_t>(crc);
}

} // namespace

std::string frame(const FileKind &kind, const std::string &payload) {
  std::string out(kind.magic, 8);
  put<uint32_t>(out, kind.version);
  put<uint32_t>(out, crc32Of(payload.data(), payload.size()));
  put<uint64_t>(out, payload.size());
  out += payload;
  return out;
}

Expected<std::string> unframe(const FileKind &kind, const std::string &bytes,
                              const std::string &path) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kind.magic, 8) != 0)
    return Status::error(path + ": not an " + kind.what);
  uint32_t version = get<uint32_t>(bytes, 8), crc = get<uint32_t>(bytes, 12);
  uint64_t size = get<uint64_t>(bytes, 16);
  if (version != kind.version)
    return Status::error(
        path + ": format version " + std::to_string(version) +
        (version > kind.version ? " is newer than" : " differs from") +
        " the version this runtime reads (" + std::to_string(kind.version) + "); " +
        (version > kind.version ? "update nncc" : "write it again with this nncc"));
  if (size != bytes.size() - kHeaderBytes)
    return Status::error(path + ": truncated or with trailing bytes (the header says " +
                         std::to_string(size) + " bytes of data, the file has " +
                         std::to_string(bytes.size() - kHeaderBytes) + ")");
  if (crc32Of(bytes.data() + kHeaderBytes, size) != crc)
    return Status::error(path + ": corrupted (checksum mismatch)");
  return bytes.substr(kHeaderBytes);
}

Expected<std::string> readFileOf(const FileKind &kind, const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open the " + std::string(kind.what));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Expected<std::string> readFramed(const FileKind &kind, const std::string &path) {
  auto bytes = readFileOf(kind, path);
  if (!bytes)
    return bytes.status();
  return unframe(kind, *bytes, path);
}

Status writeFramed(const FileKind &kind, const std::string &payload, const std::string &path) {
  std::string bytes = frame(kind, payload);
  std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return Status::error(path + ": cannot write the " + std::string(kind.what));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      return Status::error(path + ": writing the " + std::string(kind.what) + " failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::error(path + ": cannot write the " + std::string(kind.what) +
                         " (rename failed)");
  }
  return Status();
}

} // namespace nncc::rt
