// The kernels' allocator: buffers by power-of-two size class, with freed
// ones kept per thread for reuse, so that a training loop's steady state
// (the same buffers every step) never reaches malloc. The compiled library
// calls it through its nncc_alloc_hook / nncc_free_hook; the session frees
// the result buffers it adopts with kernelFree.
#ifndef NNCC_RUNTIME_ALLOCATOR_H
#define NNCC_RUNTIME_ALLOCATOR_H

#include <cstddef>
#include <cstdint>

namespace nncc::rt {

/// At least `bytes` bytes, 16-byte aligned.
void *kernelAlloc(int64_t bytes);
/// Returns a block from kernelAlloc (null is ignored).
void kernelFree(void *block);

/// Blocks served from this thread's cache and from malloc so far (tests).
struct AllocatorStats {
  uint64_t reused = 0, fresh = 0;
};
AllocatorStats allocatorStats();

} // namespace nncc::rt

#endif
