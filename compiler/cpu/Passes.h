// The CPU backend's passes: nn -> linalg lowering, and the pipeline from
// there to the LLVM dialect (bufferization, loops, LLVM conversion).
#ifndef NNCC_COMPILER_CPU_PASSES_H
#define NNCC_COMPILER_CPU_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "runtime/Abi.h"

namespace mlir {
class DialectRegistry;
namespace func {
class FuncOp;
}
} // namespace mlir

namespace nncc::cpu {

/// nn-to-linalg: every nn op except the variable ops becomes linalg, tensor,
/// arith and math. Unranked tensors are an error naming the op.
/// Convolutions become products of their windows (kWindowProductAttr),
/// max_pool_grad of tiling windows works on a [N, OH, KH, OW, KW, C] view:
/// the forms both targets' kernels take.
std::unique_ptr<mlir::Pass> createNNToLinalgPass();

/// nn-cpu-loops: each loop signature (nn::kLoopsAttr, graph.proto: Loop)
/// becomes a function calling its step's function in a native loop over
/// batches gathered from the fed dataset; the attribute goes.
std::unique_ptr<mlir::Pass> createLoopsPass();

/// nn-cpu-matmul-to-vector: every 2-D linalg.matmul on buffers with a static
/// column count becomes a call of a register-blocked kernel of vector FMAs
/// for `vectorBits`-bit registers (256: AVX2, 512: AVX-512), `vectorRegisters`
/// of them (0: x86's, 32 with AVX-512, else 16; AArch64 has 32). Kernels are
/// row-range functions: `kRowKernelPrefix`matmul_N(A, B, C, begin, end), with
/// the rows per task worth a thread in their `kRowGrainAttr`.
std::unique_ptr<mlir::Pass> createMatmulToVectorPass(int64_t vectorBits = 512,
                                                     int64_t vectorRegisters = 0);
inline constexpr llvm::StringLiteral kRowKernelPrefix = "__nncc_rows_";
/// Every function the CPU pipeline makes starts so (signatures do not).
inline constexpr llvm::StringLiteral kKernelPrefix = "__nncc_";
/// nn-cpu-outline-ops: a signature's small linalg ops as functions
/// `kOpKernelPrefix`N(what the op uses...), called once per run.
inline constexpr llvm::StringLiteral kOpKernelPrefix = "__nncc_op_";
/// On a linalg.generic that nn-to-linalg makes of a convolution (its
/// windows of padded images times the filter, or the filter's gradient):
/// [form, row stride, column stride, row dilation, column dilation], form 0
/// for loops (n, oh, ow, f | kh, kw, c), 1 for (kh, kw, c, f | n, oh, ow).
/// nn-cpu-matmul-to-vector makes it a product kernel that reads the
/// windows in place; nn-cpu-fuse-elementwise leaves it whole.
inline constexpr llvm::StringLiteral kWindowProductAttr = "nncc.window_product";
inline constexpr llvm::StringLiteral kRowGrainAttr = "nncc.row_grain";
/// A row kernel's use of each buffer argument (an i64 array, one entry per
/// argument but the range): kRowWise when a task touches only its rows
/// (the first dimension, cut to [begin, end)), otherwise the whole buffer;
/// kReads and kWrites as the kernel reads and writes it.
inline constexpr llvm::StringLiteral kRowArgsAttr = "nncc.row_args";
/// RowArgFlags: the bits of those entries.
inline constexpr int64_t kRowWise = 1, kReads = 2, kWrites = 4;
/// A row kernel that reads a whole operand too big for a core's share of
/// the L2 cache (a product's B of more than kChainableBytes, a dynamic
/// dimension counted as 256): called on
/// small tiles of rows it would stream that operand from memory once per
/// tile, so nn-cpu-row-chains leaves it out of chains.
inline constexpr llvm::StringLiteral kRowUnchainedAttr = "nncc.row_unchained";
inline constexpr int64_t kChainableBytes = 256 << 10;
/// On a linalg.generic that nn-cpu-loops makes of the next step's batch:
/// its row kernel (nn-cpu-parallel-rows, out of chains) is started ahead
/// through kParallelAheadHook, the pool's idle threads gathering the rows
/// while the current step runs, and waited for (kWaitAheadFunction) at the
/// end of the step.
inline constexpr llvm::StringLiteral kRowAheadAttr = "nncc.row_ahead";
/// Rows of a gather per piece of work started ahead (about 4K elements:
/// a kernel of the step waits behind at most one piece).
inline constexpr int64_t kAheadElementsPerPiece = 4096;

/// nn-cpu-parallel-rows: a linalg.generic on buffers whose first loop is
/// parallel and which has at least two tasks of kMinElementsPerTask
/// iterations (or an unknown row count) becomes a call of a row-range
/// function `kRowKernelPrefix`map_N(buffers..., begin, end).
std::unique_ptr<mlir::Pass> createParallelRowsPass();
inline constexpr int64_t kMinElementsPerTask = 32768;

/// nn-cpu-row-chains: consecutive calls of row kernels over the same rows,
/// each row of whose buffers one kernel writes and a later one reads
/// (row-wise both), become one row kernel `kRowKernelPrefix`chain_N that
/// runs them tile by tile of rows: a tile's intermediate rows stay in the
/// caches, and the runtime splits the chain once instead of each kernel.
/// Zero-and-constant fills of such buffers join the chains. A buffer
/// allocated for the chain alone, written whole by the first member that
/// uses it, becomes a scratch of one tile on the chain's stack; the members
/// then run on views of the tile (copies `..._tiles` of their kernels whose
/// row-wise parameters take any offset).
std::unique_ptr<mlir::Pass> createRowChainsPass();

/// nn-cpu-parallel-calls (on the LLVM dialect): every call of a row-range
/// kernel goes through the library's `nncc_parallel_for_hook`, which runs it
/// serially until the runtime installs its thread pool there. Calls inside
/// a row kernel (a chain's) are direct: the kernel already runs on a range.
std::unique_ptr<mlir::Pass> createParallelCallsPass();
inline constexpr llvm::StringLiteral kParallelForHook = abi::kParallelForHook;
inline constexpr llvm::StringLiteral kParallelAheadHook = abi::kParallelAheadHook;

/// nn-cpu-alloc-hooks (on the LLVM dialect): the kernels' allocations and
/// frees call through `nncc_alloc_hook` / `nncc_free_hook`, malloc and free
/// until the runtime installs its caching allocator there.
std::unique_ptr<mlir::Pass> createAllocHooksPass();
inline constexpr llvm::StringLiteral kAllocHook = abi::kAllocHook;
inline constexpr llvm::StringLiteral kFreeHook = abi::kFreeHook;
/// nn.check_numerics calls this function (i32 index) where a value holds a
/// NaN or an infinity; nn-cpu-alloc-hooks defines it to call through
/// kNumericFaultHook, which the runtime sets (a fallback ignores it).
inline constexpr llvm::StringLiteral kNumericFaultFunction = "__nncc_numeric_fault";
inline constexpr llvm::StringLiteral kNumericFaultHook = abi::kNumericFaultHook;
/// nn-cpu-loops calls this function (no arguments) where the work started
/// ahead must be done; nn-cpu-alloc-hooks defines it to call through
/// kWaitAheadHook, which the runtime sets (a fallback returns: the work ran
/// when it was started).
inline constexpr llvm::StringLiteral kWaitAheadFunction = "__nncc_wait_ahead";
inline constexpr llvm::StringLiteral kWaitAheadHook = abi::kWaitAheadHook;
/// nn.all_reduce packs its bucket into one buffer and calls this function
/// (kAllReduceFunction + "f32" or "f64": the buffer, as memref<?xT>, and the
/// reduction, i32); nn-cpu-alloc-hooks defines it to call through
/// kAllReduceHook, which the runtime sets (a fallback does nothing).
inline constexpr llvm::StringLiteral kAllReduceFunction = "__nncc_all_reduce_";
inline constexpr llvm::StringLiteral kAllReduceHook = abi::kAllReduceHook;

/// nn-cpu-approximate-math: polynomial approximations of f32 exp, log, tanh.
std::unique_ptr<mlir::Pass> createApproximateMathPass();

/// nn-cpu-fuse-elementwise: linalg's elementwise op fusion and reshape
/// folding, except into or out of linalg.matmul (and its transposed forms),
/// which stay 2-D products for the product kernels.
std::unique_ptr<mlir::Pass> createFuseElementwisePass();

/// nn-cpu-distinct-deallocs: a bufferization.dealloc of memref.alloc
/// results retaining memref.alloc results is decided without alias
/// analysis (distinct allocations alias only themselves).
std::unique_ptr<mlir::Pass> createDistinctDeallocsPass();

/// nn-cpu-outline-ops: the linalg ops left in a signature's function become
/// calls of `noinline` functions `kOpKernelPrefix`N, one per op.
std::unique_ptr<mlir::Pass> createOutlineOpsPass();

/// nn-cpu-share-kernels: row kernels (kRowKernelPrefix) and outlined ops
/// (kOpKernelPrefix) that print the same under one name are one function:
/// the calls of each copy go to the first. Those called from several
/// places are made `noinline`.
std::unique_ptr<mlir::Pass> createShareKernelsPass();

/// The LLVM function attributes a func.func passes through to LLVM IR.
inline constexpr llvm::StringLiteral kPassthroughAttr = "passthrough";
/// Keeps LLVM from inlining `func` (its `passthrough` gains "noinline").
void setNoInline(mlir::func::FuncOp func);

/// nn-cpu-untie-fills: a linalg.fill on tensors that initializes several
/// destinations (CSE merges identical ones) is cloned per use, so that
/// bufferization fills each buffer in place instead of copying one.
std::unique_ptr<mlir::Pass> createUntieFillsPass();

/// The vector register width of the host CPU: 512 with AVX-512, 256 with
/// AVX2 and FMA, otherwise 128 (TargetCpu::vectorBits of native).
int64_t hostVectorBits();

/// nn-to-linalg, canonicalization and fusion of elementwise linalg ops.
void buildLinalgPipeline(mlir::OpPassManager &pm);
/// linalg on tensors -> bufferized loops -> the LLVM dialect, with product
/// kernels for `vectorRegisters` (0: x86's count) `vectorBits`-bit vector
/// registers (the target CPU's).
void buildLLVMPipeline(mlir::OpPassManager &pm, int64_t vectorBits, int64_t vectorRegisters = 0);
/// The same for the host CPU.
void buildLLVMPipeline(mlir::OpPassManager &pm);
/// Both, as the nn-cpu-pipeline.
void buildCpuPipeline(mlir::OpPassManager &pm);

/// The dialects and external interface models the CPU pipeline needs.
void registerCpuDialects(mlir::DialectRegistry &registry);

/// Registers nn-to-linalg and the nn-cpu-pipeline with the pass registry.
void registerCpuPasses();

} // namespace nncc::cpu

#endif
