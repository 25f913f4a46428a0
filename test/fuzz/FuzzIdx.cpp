// libFuzzer target: the idx reader (MNIST's format, plain or gzip), through
// a memory file since it reads paths.
#include "runtime/data/Idx.h"

#include <cstdint>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int fd = memfd_create("fuzz-idx", 0);
  static std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
    return 0;
  // Images are read as f32, labels as i32: an odd size picks the labels.
  auto t = nncc::rt::data::readIdx(path, size & 1 ? nncc::rt::DType::I32 : nncc::rt::DType::F32);
  (void)t;
  return 0;
}
