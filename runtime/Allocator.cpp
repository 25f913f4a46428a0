#include "runtime/Allocator.h"

#include <cstdlib>
#include <vector>

namespace nncc::rt {
namespace {

constexpr int kClasses = 48;
constexpr size_t kKeptPerClass = 16;
constexpr size_t kHeader = 16; // holds the size class; keeps 16-byte alignment

struct Cache {
  std::vector<void *> free[kClasses];
  AllocatorStats stats;
  ~Cache() {
    for (auto &list : free)
      for (void *block : list)
        std::free(block);
  }
};

Cache &cache() {
  thread_local Cache c;
  return c;
}

int sizeClass(int64_t bytes) {
  uint64_t need = static_cast<uint64_t>(bytes < 0 ? 0 : bytes) + kHeader;
  int c = 6; // 64 bytes at least
  while ((uint64_t{1} << c) < need)
    ++c;
  return c;
}

} // namespace

void *kernelAlloc(int64_t bytes) {
  int c = sizeClass(bytes);
  if (c >= kClasses)
    return nullptr;
  Cache &cc = cache();
  void *block;
  if (!cc.free[c].empty()) {
    block = cc.free[c].back();
    cc.free[c].pop_back();
    ++cc.stats.reused;
  } else {
    block = std::malloc(size_t{1} << c);
    if (!block)
      return nullptr;
    ++cc.stats.fresh;
  }
  *static_cast<int64_t *>(block) = c;
  return static_cast<char *>(block) + kHeader;
}

void kernelFree(void *p) {
  if (!p)
    return;
  void *block = static_cast<char *>(p) - kHeader;
  int c = static_cast<int>(*static_cast<int64_t *>(block));
  auto &list = cache().free[c];
  if (list.size() < kKeptPerClass)
    list.push_back(block);
  else
    std::free(block);
}

AllocatorStats allocatorStats() { return cache().stats; }

} // namespace nncc::rt
