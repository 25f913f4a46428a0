// libFuzzer target: the .nnx reader (frame, contents, consistency checks),
// without loading the kernels: a file with a valid checksum is code, and
// loading it is running it. Inputs whose first byte is odd are framed
// here first, so that the fuzzer reaches the contents past the CRC-32.
#include "runtime/Executable.h"
#include "runtime/FramedFile.h"

#include "google/protobuf/stubs/logging.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Protobuf logs every string field with invalid UTF-8; the parse fails
  // (or not) all the same.
  static bool silenced = (google::protobuf::SetLogHandler(nullptr), true);
  (void)silenced;
  std::string bytes(reinterpret_cast<const char *>(data), size);
  if (!bytes.empty() && (bytes[0] & 1))
    bytes = nncc::rt::frame(nncc::rt::kExecutableFile, bytes.substr(1));
  auto proto = nncc::rt::readExecutableBytes(bytes, "fuzz.nnx");
  (void)proto;
  return 0;
}
