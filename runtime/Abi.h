// The one interface between the code nncc compiles and the runtime that
// runs it (IREE's executable_library.h plays this part there): what a CPU
// library exports and which hooks the runtime fills in after loading it,
// and the argument every CUDA kernel takes. The compiler's emitters and the
// runtime both include this header; it depends on nothing.
#ifndef NNCC_RUNTIME_ABI_H
#define NNCC_RUNTIME_ABI_H

#include <cstddef>
#include <cstdint>

namespace nncc::abi {

// --- CPU: a shared library of native code -------------------------------

/// A signature's entry point is kEntryPrefix + the signature's name; it takes
/// one array of pointers to the arguments' memref descriptors and results.
inline constexpr char kEntryPrefix[] = "nncc_entry_";

/// Global function pointers the library defines with a serial (or libc)
/// default and the runtime points at its own functions after dlopen.
/// kParallelForHook: runs task(ctx, i, j) over [begin, end) split in
/// ranges of at least `grain` rows.
using RowTask = void (*)(void *ctx, int64_t begin, int64_t end);
using ParallelForFn = void (*)(RowTask task, void *ctx, int64_t begin, int64_t end, int64_t grain);
inline constexpr char kParallelForHook[] = "nncc_parallel_for_hook";
/// kParallelAheadHook (the same type): starts task over [begin, end) in
/// pieces of `grain` rows that the pool's threads take while they have no
/// kernel rows to run, and returns at once (a compiled loop's next batch,
/// gathered while the step runs); kWaitAheadHook returns when they are
/// done, the caller running those no thread took. The library's defaults
/// run the task at once, serially, and wait for nothing.
inline constexpr char kParallelAheadHook[] = "nncc_parallel_ahead_hook";
using WaitAheadFn = void (*)();
inline constexpr char kWaitAheadHook[] = "nncc_wait_ahead_hook";
/// kAllocHook / kFreeHook: the kernels' buffers (the runtime's caching
/// allocator; the session frees the results it adopts).
using AllocFn = void *(*)(int64_t bytes);
using FreeFn = void (*)(void *block);
inline constexpr char kAllocHook[] = "nncc_alloc_hook";
inline constexpr char kFreeHook[] = "nncc_free_hook";
/// kNumericFaultHook: called with an op's index where a checked value holds
/// a NaN or an infinity (--check-numerics); the runtime keeps the first.
using NumericFaultFn = void (*)(int32_t index);
inline constexpr char kNumericFaultHook[] = "nncc_numeric_fault_hook";
/// kAllReduceHook: nn.all_reduce of a data-parallel step, on one packed
/// bucket of `count` elements of `dtype`, reduced in place over the ranks
/// with `reduction`. The library's default does nothing (one process); the
/// runtime points it at its collective (MPI) when it loads the library.
enum AllReduceDType : int32_t { kAllReduceF32 = 0, kAllReduceF64 = 1 };
enum AllReduceKind : int32_t { kAllReduceSum = 0, kAllReduceMean = 1 };
using AllReduceFn = void (*)(void *data, int64_t count, int32_t dtype, int32_t reduction);
inline constexpr char kAllReduceHook[] = "nncc_all_reduce_hook";

// --- CUDA: kernels compiled by NVRTC ------------------------------------

/// The most buffers one kernel takes (its inputs and its output).
inline constexpr unsigned kMaxKernelArgs = 32;
/// Every kernel's one argument: its buffers (the output last) and N, the
/// run's unknown size. The generated source declares it as kKernelArgsName
/// with the same layout (CudaEmitter writes it from kMaxKernelArgs).
struct KernelArgs {
  void *p[kMaxKernelArgs];
  long long n;
};
inline constexpr char kKernelArgsName[] = "nncc_args";
/// The most buffers a fused step's kernel (CudaFusedStep) takes, and its
/// one argument: the buffers of all the step's launches, then N (1 KiB of
/// the 4 KiB a kernel's parameters may take).
inline constexpr unsigned kMaxFusedArgs = 128;
struct FusedArgs {
  void *p[kMaxFusedArgs];
  long long n;
};
inline constexpr char kFusedArgsName[] = "nncc_fused_args";

} // namespace nncc::abi

#endif
