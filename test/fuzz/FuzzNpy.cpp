// libFuzzer target: the .npy reader.
#include "runtime/Npy.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto t =
      nncc::rt::readNpyBytes(std::string(reinterpret_cast<const char *>(data), size), "fuzz.npy");
  (void)t;
  return 0;
}
