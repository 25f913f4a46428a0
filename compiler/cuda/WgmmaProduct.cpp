// sm_90a's product kernel (--cuda-arch=90a, --cuda-precision=tf32|bf16):
// the Hopper way of "How to write a fast matmul on Hopper" and CUTLASS 3's
// warp-specialized kernels. A block of 384 threads is a producer
// warpgroup, one thread of which copies slices of both operands into
// shared memory by TMA (cp.async.bulk.tensor, 128-byte swizzled rows), and
// two consumer warpgroups that multiply them by wgmma (m64n256 or m64n128,
// fp32 accumulators in registers), through a pipeline of stages of slices: a
// `full` mbarrier per stage that the copies complete (expect_tx), an
// `empty` one that the consumers' warps arrive at once they are done with
// it. Blocks are persistent: the grid is at most the device's
// multiprocessors, each block looping over 128x256 or 128x128 output tiles
// (the runtime takes the wider where they fill the device), and the
// epilogue runs on each thread's accumulators where wgmma leaves them.
//
// wgmma reads shared memory through descriptors: TF32 only K-major (it
// transposes 16-bit types alone), BF16 from bf16 data. Our operands are
// fp32 in memory, so each is read by its tensor map where TMA can take it
// as it is (TF32, K-major, rows of whole 16 bytes: the hardware then uses
// the top 19 bits of each float, truncating) and otherwise from a scratch
// buffer that a grid-stride pre-pass fills K-major, rounded to nearest
// (cvt.rna to TF32, or to BF16), rows padded to 16 bytes.
#include "compiler/cuda/KernelWriter.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace nncc::cuda {
namespace {

constexpr int kTileM = 128, kThreads = 384;
/// A slice of A in shared memory: 128 rows of 128 bytes.
constexpr int kSliceBytes = kTileM * 128;

/// A wgmma m64nN's device function: N / 2 accumulator registers, the
/// descriptors of A and B.
std::string wgmmaFunction(const std::string &name, const std::string &shape,
                          const std::string &immediates, int n) {
  const int count = n / 2;
  std::string regs, operands;
  for (int i = 0; i < count; ++i) {
    regs += (i ? ", %" : "%") + std::to_string(i);
    operands += std::string(i ? ", " : "") + (i % 8 == 0 && i ? "\n      " : "") + "\"+f\"(d[" +
                std::to_string(i) + "])";
  }
  auto at = [&](int k) { return "%" + std::to_string(count + k); };
  return "static __device__ __forceinline__ void " + name + "(float (&d)[" + std::to_string(count) +
         "], unsigned long long a, unsigned long long b) {\n"
         "  asm volatile(\"{\\n .reg .pred p;\\n setp.ne.b32 p, " +
         at(2) + ", 0;\\n wgmma.mma_async.sync.aligned." + shape + " {" + regs + "}, " + at(0) +
         ", " + at(1) + ", p, " + immediates + ";\\n}\\n\"\n    : " + operands +
         "\n    : \"l\"(a), \"l\"(b), \"n\"(1));\n}\n";
}

} // namespace

std::string hopperPrelude() {
  std::string s = R"(// sm_90a (WgmmaProduct.cpp): TMA copies, mbarriers and wgmma as device
// functions (the host emulator, which defines NNCC_HOST_EMULATOR, has its
// own, with the GPU's semantics).
#ifndef NNCC_HOST_EMULATOR
// A CUtensorMap, made by the runtime (cuTensorMapEncodeTiled).
struct __align__(64) nncc_tensor_map { unsigned long long opaque[16]; };
static __device__ __forceinline__ unsigned nncc_smem(const void *p) {
  return (unsigned)__cvta_generic_to_shared(p);
}
static __device__ __forceinline__ unsigned char *nncc_dynamic_shared() {
  extern __shared__ __align__(1024) unsigned char nncc_dynamic[];
  return nncc_dynamic;
}
static __device__ __forceinline__ void nncc_mbar_init(unsigned long long *bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(nncc_smem(bar)), "r"(count)
               : "memory");
}
static __device__ __forceinline__ void nncc_mbar_fence_init() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}
static __device__ __forceinline__ void nncc_mbar_arrive_expect_tx(unsigned long long *bar,
                                                                   unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(nncc_smem(bar)),
               "r"(bytes)
               : "memory");
}
static __device__ __forceinline__ void nncc_mbar_arrive(unsigned long long *bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(nncc_smem(bar)) : "memory");
}
// Returns once the phase of parity `parity` has completed.
static __device__ __forceinline__ void nncc_mbar_wait(unsigned long long *bar, unsigned parity) {
  unsigned done = 0;
  while (!done)
    asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                 " selp.u32 %0, 1, 0, p;\n}\n"
                 : "=r"(done)
                 : "r"(nncc_smem(bar)), "r"(parity)
                 : "memory");
}
// The box of `map` at (x, y) (innermost first) into shared memory at `to`,
// completing its bytes on `bar`.
static __device__ __forceinline__ void nncc_tma_load_2d(void *to, const nncc_tensor_map *map,
                                                        int x, int y, unsigned long long *bar) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes"
               " [%0], [%1, {%2, %3}], [%4];" ::"r"(nncc_smem(to)),
               "l"(map), "r"(x), "r"(y), "r"(nncc_smem(bar))
               : "memory");
}
static __device__ __forceinline__ void nncc_wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
}
static __device__ __forceinline__ void nncc_wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}
static __device__ __forceinline__ void nncc_wgmma_wait0() {
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
}
static __device__ __forceinline__ void nncc_wgmma_wait1() {
  asm volatile("wgmma.wait_group.sync.aligned 1;" ::: "memory");
}
// The producer warpgroup gives registers to the consumers.
static __device__ __forceinline__ void nncc_setmaxnreg_producer() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
}
static __device__ __forceinline__ void nncc_setmaxnreg_consumer() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
}
static __device__ __forceinline__ float nncc_round_tf32(float x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return __uint_as_float(r);
}
static __device__ __forceinline__ unsigned short nncc_round_bf16(float x) {
  unsigned short r;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(x));
  return r;
}
)";
  for (int n : {128, 256}) {
    std::string N = std::to_string(n);
    s += wgmmaFunction("nncc_wgmma_m64n" + N + "k8_tf32", "m64n" + N + "k8.f32.tf32.tf32", "1, 1",
                       n);
    s += wgmmaFunction("nncc_wgmma_m64n" + N + "k16_bf16", "m64n" + N + "k16.f32.bf16.bf16",
                       "1, 1, 0, 0", n);
  }
  s += R"(#endif
// The descriptor of a K-major operand in shared memory at `p`, in 128-byte
// swizzled rows (as TMA lands them), 8-row atoms 1024 bytes apart: start
// address, leading byte offset 16 (unused: a k-step lies within a row),
// stride byte offset 1024, swizzle mode 1 (128 bytes).
static __device__ __forceinline__ unsigned long long nncc_wgmma_desc(const void *p) {
  return (unsigned long long)((nncc_smem(p) & 0x3FFFF) >> 4) | (1ull << 16) |
         ((1024ull >> 4) << 32) | (1ull << 62);
}

)";
  return s;
}

std::string KernelWriter::wgmmaKernels(Value result, Operation *product, const std::string &sizes,
                                       const std::string &epilogue, int64_t knownRows,
                                       int64_t knownCols, LaunchShape &shape) {
  // Outputs of fewer than 64 rows or columns keep the smaller tiles.
  if ((knownRows >= 0 && knownRows < 64) || (knownCols >= 0 && knownCols < 64) ||
      cast<RankedTensorType>(result.getType()).getRank() != 2)
    return "";
  auto mm = cast<linalg::LinalgOp>(product);
  Value lhs = mm.getDpsInputOperand(0)->get(), rhs = mm.getDpsInputOperand(1)->get();
  bool ta = isa<linalg::MatmulTransposeAOp>(product), tb = isa<linalg::MatmulTransposeBOp>(product);
  WgmmaShape w;
  w.bf16 = precision_ == Precision::BF16;
  w.threads = kThreads;
  w.tileM = kTileM;
  w.depth = w.bf16 ? 64 : 32; // a slice's row: 128 bytes
  std::string prepasses;
  auto operand = [&](Value v, bool kMajor, const char *suffix, WgmmaShape::Operand &o) {
    o.input = static_cast<unsigned>(llvm::find(inputs_, v) - inputs_.begin());
    o.kMajor = kMajor;
    o.rowAlign = w.bf16 ? 8 : 4;
    auto dims = shapes_.of(v);
    int64_t k = succeeded(dims) ? (*dims)[kMajor ? 1 : 0] : 0;
    // TF32 straight from the input: K-major rows of whole 16 bytes (k < 0
    // is -k times N).
    if (!w.bf16 && kMajor && k != 0 && k % 4 == 0)
      return;
    o.prepass = name_ + suffix;
    std::string rows = dim(v, kMajor ? 0 : 1), depth = dim(v, kMajor ? 1 : 0);
    std::string T = w.bf16 ? "unsigned short" : "float";
    prepasses += "\nextern \"C\" __global__ void " + o.prepass + "(const " + abi::kKernelArgsName +
                 " a) {\n";
    prepasses += "  // The wgmma kernel's operand " + std::string(kMajor ? "" : "transposed ") +
                 "as " + (w.bf16 ? "BF16" : "TF32") +
                 " rows of its contraction (rounded to nearest), each padded to " +
                 std::to_string(o.rowAlign) + " elements.\n";
    prepasses += "  const long long N = a.n;\n  (void)N;\n";
    prepasses += "  const float *__restrict__ in = (const float *)a.p[0];\n";
    prepasses += "  " + T + " *__restrict__ out = (" + T + " *)a.p[1];\n";
    prepasses += "  const long long R = " + rows + ", K = " + depth + ", Kp = (K + " +
                 std::to_string(o.rowAlign - 1) + ") / " + std::to_string(o.rowAlign) + " * " +
                 std::to_string(o.rowAlign) + ";\n";
    std::string round = w.bf16 ? "nncc_round_bf16" : "nncc_round_tf32";
    if (kMajor) { // rows as they are: element by element
      prepasses += "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < R * "
                   "Kp;\n       e += (long long)blockDim.x * gridDim.x) {\n";
      prepasses += "    const long long r = e / Kp, k = e % Kp;\n";
      prepasses += "    out[e] = " + round + "(k < K ? in[r * K + k] : 0.0f);\n";
      prepasses += "  }\n}\n";
      return;
    }
    // Transposed through 32x32 tiles in shared memory: read along the
    // operand's rows, written along its contraction (both coalesced).
    prepasses += "  __shared__ float tile[32][33];\n";
    prepasses += "  const long long tilesR = (R + 31) / 32, tiles = tilesR * ((Kp + 31) / 32);\n";
    prepasses += "  for (long long t = blockIdx.x; t < tiles; t += gridDim.x) {\n";
    prepasses += "    const long long r0 = t % tilesR * 32, k0 = t / tilesR * 32;\n";
    prepasses += "    for (int i = threadIdx.x; i < 1024; i += blockDim.x) {\n";
    prepasses += "      const long long k = k0 + i / 32, r = r0 + i % 32;\n";
    prepasses += "      tile[i / 32][i % 32] = k < K && r < R ? in[k * R + r] : 0.0f;\n    }\n";
    prepasses += "    __syncthreads();\n";
    prepasses += "    for (int i = threadIdx.x; i < 1024; i += blockDim.x) {\n";
    prepasses += "      const long long r = r0 + i / 32, k = k0 + i % 32;\n";
    prepasses += "      if (r < R && k < Kp)\n";
    prepasses += "        out[r * Kp + k] = " + round + "(tile[i % 32][i / 32]);\n    }\n";
    prepasses += "    __syncthreads();\n  }\n}\n";
  };
  operand(lhs, !ta, "_pa", w.a);
  operand(rhs, tb, "_pb", w.b);

  auto str = [](int v) { return std::to_string(v); };
  std::string kernels;
  // 128x256 tiles (each consumer warpgroup m64n256: 128 accumulators a
  // thread) where the output has more than 128 columns, then 128x128.
  for (int bn : {256, 128}) {
    if (bn == 256 && knownCols >= 0 && knownCols <= 128)
      continue;
    WgmmaShape v = w;
    v.tileN = bn;
    v.kernel = name_ + "_wg" + str(bn);
    // The slices of both operands per stage, 1024 bytes to align them to
    // the swizzle's atoms, the barriers: as many stages as 227 KiB hold (4
    // of 48 KiB, 6 of 32 KiB).
    v.stages = bn == 256 ? 4 : 6;
    v.sharedBytes = v.stages * (kSliceBytes + bn * 128) + 1024 + 2 * 8 * v.stages;
    shape.wgmma.push_back(v);
    kernels += wgmmaKernel(result, v, sizes, epilogue);
  }
  return prepasses + kernels;
}

std::string KernelWriter::wgmmaKernel(Value result, const WgmmaShape &w, const std::string &sizes,
                                      const std::string &epilogue) {
  auto str = [](int v) { return std::to_string(v); };
  const int bn = w.tileN, sliceB = bn * 128, regs = bn / 2;
  const int kStages = static_cast<int>(w.stages);
  std::string stages = str(kStages), slice = str(kSliceBytes), depth = str(w.depth);
  std::string N = str(bn), B0 = str(kStages * kSliceBytes);
  std::string head = header(result, w.kernel);
  std::string plain = "(const " + std::string(abi::kKernelArgsName) + " a)";
  head.replace(head.find(plain), plain.size(),
               "(const " + std::string(abi::kKernelArgsName) +
                   " a, const __grid_constant__ nncc_tensor_map mapA,\n"
                   "    const __grid_constant__ nncc_tensor_map mapB)");
  head.replace(head.find("void "), 5, "void __launch_bounds__(" + str(kThreads) + ", 1) ");
  std::string s = "\n" + head + sizes;
  s += "  // 128x" + N + " tiles, persistent blocks; " + stages + " stages of " + depth + "-deep " +
       (w.bf16 ? "BF16" : "TF32") +
       " slices of both operands (K-major, 128-byte swizzled rows) between a TMA\n"
       "  // producer thread and two consumer warpgroups (wgmma m64n" +
       N + "); " + str(w.sharedBytes) + " bytes of dynamic\n  // shared memory.\n";
  s += "  unsigned char *smem = nncc_dynamic_shared();\n";
  s += "  smem += (1024u - (nncc_smem(smem) & 1023u)) & 1023u; // the swizzle's 1024-byte atoms\n";
  s += "  unsigned long long *full = (unsigned long long *)(smem + " +
       str(kStages * (kSliceBytes + sliceB)) + "), *empty = full + " + stages + ";\n";
  s += "  const long long tilesM = (M + " + str(kTileM - 1) + ") / " + str(kTileM) +
       ", tilesN = (C + " + str(bn - 1) + ") / " + N + ", tiles = tilesM * tilesN;\n";
  // Tiles in bands of 8 rows of tiles, column after column within a band:
  // the blocks at work at once share a band's rows of A and a few columns
  // of B in L2.
  s += "  // Tile t's place: bands of 8 rows of tiles, column by column in a band.\n";
  s += "  auto place = [&](long long t, long long &row0, long long &col0) {\n";
  s += "    const long long band = t / (8 * tilesN), first = band * 8,\n";
  s += "                    rows = tilesM - first < 8 ? tilesM - first : 8, at = t - band * 8 * "
       "tilesN;\n";
  s += "    row0 = (first + at % rows) * " + str(kTileM) + ";\n";
  s += "    col0 = at / rows * " + N + ";\n  };\n";
  s += "  const int slices = (int)((K + " + str(w.depth - 1) + ") / " + depth + ");\n";
  s += "  if (threadIdx.x == 0) {\n";
  s += "    for (int s = 0; s < " + stages + "; ++s) {\n";
  s += "      nncc_mbar_init(&full[s], 1);\n";
  s += "      nncc_mbar_init(&empty[s], 8); // the consumers' warps\n";
  s += "    }\n    nncc_mbar_fence_init();\n  }\n  __syncthreads();\n";
  s += "  if (threadIdx.x < 128) {\n";
  s += "    nncc_setmaxnreg_producer();\n";
  s += "    if (threadIdx.x == 0) { // the producer: a slice of A and one of B per stage\n";
  s += "      int s = 0;\n      unsigned phase = 0;\n";
  s += "      for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {\n";
  s += "        long long row0, col0;\n        place(tile, row0, col0);\n";
  s += "        for (int kb = 0; kb < slices; ++kb) {\n";
  s += "          nncc_mbar_wait(&empty[s], phase ^ 1);\n";
  s += "          nncc_mbar_arrive_expect_tx(&full[s], " + str(kSliceBytes + sliceB) + ");\n";
  s += "          nncc_tma_load_2d(smem + s * " + slice + ", &mapA, kb * " + depth +
       ", (int)row0, &full[s]);\n";
  s += "          nncc_tma_load_2d(smem + " + B0 + " + s * " + str(sliceB) + ", &mapB, kb * " +
       depth + ", (int)col0, &full[s]);\n";
  s += "          if (++s == " + stages +
       ") {\n            s = 0;\n            phase ^= 1;\n"
       "          }\n";
  s += "        }\n      }\n    }\n    return;\n  }\n";
  s += "  nncc_setmaxnreg_consumer();\n";
  s += "  // Consumer warpgroup `group` multiplies rows group * 64 + [0, 64) of each tile;\n"
       "  // its thread's accumulators lie as wgmma's m64nNk layout has them: register\n"
       "  // j * 4 + h * 2 + e at row warp * 16 + lane / 4 + h * 8, column j * 8 +\n"
       "  // (lane % 4) * 2 + e.\n";
  s += "  const int t = threadIdx.x - 128, group = t / 128, warp = t % 128 / 32, lane = t % 32;\n";
  s += "  int s = 0, last = 0;\n  unsigned phase = 0;\n  float acc[" + str(regs) + "];\n";
  s += "  for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {\n";
  s += "    long long row0, col0;\n    place(tile, row0, col0);\n";
  s += "#pragma unroll\n    for (int i = 0; i < " + str(regs) + "; ++i)\n      acc[i] = 0.0f;\n";
  s += "    for (int kb = 0; kb < slices; ++kb) {\n";
  s += "      nncc_mbar_wait(&full[s], phase);\n";
  s += "      const unsigned char *As = smem + s * " + slice + " + group * " +
       str(kSliceBytes / 2) + ", *Bs = smem + " + B0 + " + s * " + str(sliceB) + ";\n";
  s += "      nncc_wgmma_fence();\n";
  s += "#pragma unroll\n      for (int k = 0; k < 4; ++k) // 32 bytes of each row a step\n";
  s += std::string("        ") + "nncc_wgmma_m64n" + N + (w.bf16 ? "k16_bf16" : "k8_tf32") +
       "(acc, nncc_wgmma_desc(As + k * 32), nncc_wgmma_desc(Bs + k * 32));\n";
  // One slice's products in flight while the next one's are issued; a
  // slice's stage is free once its products are done (the warp's lanes
  // all past the wait).
  s += "      nncc_wgmma_commit();\n";
  s += "      nncc_wgmma_wait1(); // the previous slice's products done\n";
  s += "      if (kb > 0) {\n        __syncwarp();\n        if (lane == 0)\n"
       "          nncc_mbar_arrive(&empty[last]);\n      }\n";
  s += "      last = s;\n";
  s += "      if (++s == " + stages + ") {\n        s = 0;\n        phase ^= 1;\n      }\n";
  s += "    }\n";
  s += "    nncc_wgmma_wait0();\n";
  s += "    if (slices > 0) {\n      __syncwarp();\n      if (lane == 0)\n"
       "        nncc_mbar_arrive(&empty[last]);\n    }\n";
  s += "#pragma unroll\n    for (int j = 0; j < " + str(bn / 8) + "; ++j)\n";
  s += "#pragma unroll\n      for (int h = 0; h < 2; ++h)\n";
  s += "#pragma unroll\n        for (int e = 0; e < 2; ++e) {\n";
  s += storeElement(10, "row0 + group * 64 + warp * 16 + lane / 4 + h * 8",
                    "col0 + j * 8 + (lane % 4) * 2 + e", "float", "acc[j * 4 + h * 2 + e]",
                    epilogue);
  s += "        }\n  }\n}\n";
  return s;
}

} // namespace nncc::cuda
