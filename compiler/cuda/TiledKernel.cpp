// The tiled kernels of a product with an elementwise epilogue, the
// epilogue applied before the store. In exact fp32 (or fp64) there is one
// kernel per tile shape (kTilings), from 128x128 tiles of 8x8 outputs per
// thread for big products down to 8x8 tiles whose block splits the
// contraction four ways for small ones (64x50 . 784: 56 blocks, not one);
// the runtime launches the biggest tiles that still give every
// multiprocessor a block. Slices of both operands are staged in shared
// memory, the next slice loaded into registers while the current one is
// multiplied, and the products are fused multiply-adds, as on the CPU.
// With --cuda-precision=tf32|bf16 one kernel of 64x64 tiles runs the
// tensor cores through WMMA on operands rounded to TF32 or BF16 as they are
// staged, accumulating in fp32.
#include "compiler/cuda/KernelWriter.h"
#include "nn/IR/NNDialect.h"

#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace nncc::cuda {
namespace {

RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The statements staging slice k0 of A (As[k][r], 64 rows by 16) and B
/// (Bs[k][c], 16 by 64) in shared memory, each element through `stage`
/// (the rounding of a tensor-core path).
std::string stageSlices(const std::string &A, const std::string &B, bool ta,
                        bool tb, const std::string &zero,
                        const std::string &stage) {
  auto staged = [&](const std::string &x) {
    return stage.empty() ? x : stage + "(" + x + ")";
  };
  std::string s;
  s += "    for (int e = threadIdx.x; e < 1024; e += blockDim.x) {\n";
  s += "      const int r = e / 16, k = e % 16;\n";
  s += "      const long long gr = row0 + r, gk = k0 + k;\n";
  s += "      As[k][r] = " +
       staged("gr < M && gk < K ? " + A + "[" +
              (ta ? "gk * M + gr" : "gr * K + gk") + "] : " + zero) +
       ";\n";
  s += "    }\n";
  s += "    for (int e = threadIdx.x; e < 1024; e += blockDim.x) {\n";
  s += "      const int k = e / 64, c = e % 64;\n";
  s += "      const long long gk = k0 + k, gc = col0 + c;\n";
  s += "      Bs[k][c] = " +
       staged("gk < K && gc < C ? " + B + "[" +
              (tb ? "gc * K + gk" : "gk * C + gc") + "] : " + zero) +
       ";\n";
  s += "    }\n";
  return s;
}

} // namespace

Operation *KernelWriter::tiledProduct(Value result) {
  auto resultType = tensorOf(result);
  if (resultType.getRank() != 2 || !isa<FloatType>(resultType.getElementType()))
    return nullptr;
  auto isInput = [&](Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v))
      if (auto fusion = dyn_cast<nn::FusionOp>(arg.getOwner()->getParentOp()))
        v = fusion->getOperand(arg.getArgNumber());
    return llvm::is_contained(inputs_, v);
  };
  // Walk up from the result through elementwise ops of the result's shape;
  // exactly one product may be reached, and only through them.
  Operation *product = nullptr;
  bool ok = true;
  std::function<bool(Value)> reaches = [&](Value v) -> bool {
    if (llvm::is_contained(inputs_, v)) // read, not computed
      return false;
    Operation *op = v.getDefiningOp();
    if (!op || isa<nn::FusionOp>(op))
      return false;
    if (auto mm = dyn_cast<nn::MatMulOp>(op)) {
      if (v.getType() != result.getType() || !isInput(mm.getLhs()) ||
          !isInput(mm.getRhs()) || (product && product != op))
        ok = false;
      product = op;
      return true;
    }
    bool any = false;
    for (Value operand : op->getOperands())
      any |= reaches(operand);
    if (any && (v.getType() != result.getType() || !op->hasTrait<nn::Elementwise>()))
      ok = false;
    return any;
  };
  reaches(result);
  return ok ? product : nullptr;
}

const Tiling kTilings[] = {
    {128, 128, 8, 8, 8, 1},
    {64, 64, 16, 4, 4, 1},
    {16, 16, 16, 1, 1, 1},
    {8, 8, 16, 1, 1, 4},
};

std::string KernelWriter::tiledProductFma(const Tiling &t, const std::string &T,
                                          const std::string &A, const std::string &B,
                                          bool ta, bool tb) {
  // 256 threads: (bm/tm) x (bn/tn) per split of the contraction.
  const int depth = t.bk * t.splits, perSplit = 256 / t.splits;
  const int loadsA = t.bm * depth / 256, loadsB = t.bn * depth / 256;
  const int rowStep = t.bm / t.tm, colStep = t.bn / t.tn;
  auto str = [](int v) { return std::to_string(v); };
  std::string fma = T == "double" ? "fma" : "fmaf";
  // Element e of a slice -> its row (or column) and depth, consecutive
  // threads reading consecutive addresses of the operand's layout.
  auto slotA = [&](const std::string &e) {
    return ta ? "const int kk = " + e + " / " + str(t.bm) + ", r = " + e + " % " + str(t.bm) + ";"
              : "const int r = " + e + " / " + str(depth) + ", kk = " + e + " % " + str(depth) + ";";
  };
  auto slotB = [&](const std::string &e) {
    return tb ? "const int c = " + e + " / " + str(depth) + ", kk = " + e + " % " + str(depth) + ";"
              : "const int kk = " + e + " / " + str(t.bn) + ", c = " + e + " % " + str(t.bn) + ";";
  };
  std::string s;
  s += "  // " + str(t.bm) + "x" + str(t.bn) + " tiles, " + str(t.tm) + "x" + str(t.tn) +
       " outputs per thread" +
       (t.splits > 1 ? ", the contraction split " + str(t.splits) + " ways in the block" : "") +
       ", slices " + str(depth) + " deep.\n";
  s += "  __shared__ " + T + " As[" + str(depth) + "][" + str(t.bm) + "];\n";
  s += "  __shared__ " + T + " Bs[" + str(depth) + "][" + str(t.bn) + "];\n";
  s += "  const int split = threadIdx.x / " + str(perSplit) + ", t = threadIdx.x % " +
       str(perSplit) + ";\n";
  s += "  const int tx = t % " + str(colStep) + ", ty = t / " + str(colStep) + ";\n";
  s += "  (void)split;\n";
  s += "  const long long row0 = (long long)blockIdx.y * " + str(t.bm) +
       ", col0 = (long long)blockIdx.x * " + str(t.bn) + ";\n";
  s += "  " + T + " ra[" + str(loadsA) + "], rb[" + str(loadsB) + "];\n";
  s += "  " + T + " acc[" + str(t.tm) + "][" + str(t.tn) + "];\n";
  s += "#pragma unroll\n  for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
  s += "#pragma unroll\n    for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
  s += "      acc[i][j] = (" + T + ")0;\n";
  auto load = [&](const std::string &k0) {
    std::string l;
    l += "#pragma unroll\n    for (int l = 0; l < " + str(loadsA) + "; ++l) {\n";
    l += "      " + slotA("(threadIdx.x + l * 256)") + "\n";
    l += "      const long long gr = row0 + r, gk = " + k0 + " + kk;\n";
    l += "      ra[l] = gr < M && gk < K ? " + A + "[" + (ta ? "gk * M + gr" : "gr * K + gk") +
         "] : (" + T + ")0;\n";
    l += "    }\n";
    l += "#pragma unroll\n    for (int l = 0; l < " + str(loadsB) + "; ++l) {\n";
    l += "      " + slotB("(threadIdx.x + l * 256)") + "\n";
    l += "      const long long gk = " + k0 + " + kk, gc = col0 + c;\n";
    l += "      rb[l] = gk < K && gc < C ? " + B + "[" + (tb ? "gc * K + gk" : "gk * C + gc") +
         "] : (" + T + ")0;\n";
    l += "    }\n";
    return l;
  };
  s += "  {\n" + load("0LL") + "  }\n";
  s += "  for (long long k0 = 0; k0 < K; k0 += " + str(depth) + ") {\n";
  s += "#pragma unroll\n    for (int l = 0; l < " + str(loadsA) + "; ++l) {\n";
  s += "      " + slotA("(threadIdx.x + l * 256)") + "\n";
  s += "      As[kk][r] = ra[l];\n    }\n";
  s += "#pragma unroll\n    for (int l = 0; l < " + str(loadsB) + "; ++l) {\n";
  s += "      " + slotB("(threadIdx.x + l * 256)") + "\n";
  s += "      Bs[kk][c] = rb[l];\n    }\n";
  s += "    __syncthreads();\n";
  s += "    if (k0 + " + str(depth) + " < K) { // the next slice, while this one multiplies\n";
  s += load("(k0 + " + str(depth) + ")");
  s += "    }\n";
  s += "#pragma unroll\n    for (int k = 0; k < " + str(t.bk) + "; ++k) {\n";
  s += "      const int kk = split * " + str(t.bk) + " + k;\n";
  s += "      " + T + " x[" + str(t.tm) + "], y[" + str(t.tn) + "];\n";
  s += "#pragma unroll\n      for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
  s += "        x[i] = As[kk][ty + i * " + str(rowStep) + "];\n";
  s += "#pragma unroll\n      for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
  s += "        y[j] = Bs[kk][tx + j * " + str(colStep) + "];\n";
  s += "#pragma unroll\n      for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
  s += "#pragma unroll\n        for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
  s += "          acc[i][j] = " + fma + "(x[i], y[j], acc[i][j]);\n";
  s += "    }\n";
  s += "    __syncthreads();\n";
  s += "  }\n";
  if (t.splits > 1) {
    // The splits' partial sums added in a fixed order: the same result
    // every run.
    s += "  __shared__ " + T + " partial[" + str(t.splits - 1) + "][" + str(t.bm * t.bn) + "];\n";
    s += "  if (split > 0)\n";
    s += "#pragma unroll\n    for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
    s += "#pragma unroll\n      for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
    s += "        partial[split - 1][(ty + i * " + str(rowStep) + ") * " + str(t.bn) +
         " + tx + j * " + str(colStep) + "] = acc[i][j];\n";
    s += "  __syncthreads();\n";
    s += "  if (split > 0)\n    return;\n";
    s += "  for (int p = 0; p < " + str(t.splits - 1) + "; ++p)\n";
    s += "#pragma unroll\n    for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
    s += "#pragma unroll\n      for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
    s += "        acc[i][j] += partial[p][(ty + i * " + str(rowStep) + ") * " + str(t.bn) +
         " + tx + j * " + str(colStep) + "];\n";
  }
  s += "#pragma unroll\n  for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
  s += "#pragma unroll\n    for (int j = 0; j < " + str(t.tn) + "; ++j) {\n";
  s += "      const long long row = row0 + ty + i * " + str(rowStep) + ", col = col0 + tx + j * " +
       str(colStep) + ";\n";
  s += "      if (row < M && col < C) {\n";
  s += "        const long long lin = row * C + col;\n";
  s += "        const " + T + " accv = acc[i][j];\n";
  return s;
}

std::string KernelWriter::tiledProductWmma(const std::string &A,
                                           const std::string &B, bool ta,
                                           bool tb) {
  bool bf16 = precision_ == Precision::BF16;
  // TF32 fragments are 16x16x8 on float storage (rounded with
  // __float_to_tf32, as the tensor cores expect), BF16 ones 16x16x16.
  std::string S = bf16 ? "__nv_bfloat16" : "float";
  std::string depth = bf16 ? "16" : "8";
  std::string operand = bf16 ? "__nv_bfloat16" : "wmma::precision::tf32";
  std::string s;
  s += "  // Tensor cores (" + std::string(precisionName(precision_)) +
       "): each of the 8 warps computes a 16x32 strip of the 64x64\n"
       "  // tile as two 16x16 fragments accumulating in fp32.\n";
  s += "  __shared__ __align__(32) " + S + " As[16][64];\n";
  s += "  __shared__ __align__(32) " + S + " Bs[16][64];\n";
  s += "  __shared__ __align__(32) float Cs[64][64];\n";
  s += "  const int warp = threadIdx.x / 32;\n";
  s += "  const int fr = (warp / 2) * 16, fc = (warp % 2) * 32;\n";
  s += "  const long long row0 = (long long)blockIdx.y * 64, col0 = (long "
       "long)blockIdx.x * 64;\n";
  s += "  wmma::fragment<wmma::accumulator, 16, 16, " + depth +
       ", float> acc[2];\n";
  s += "  wmma::fill_fragment(acc[0], 0.0f);\n";
  s += "  wmma::fill_fragment(acc[1], 0.0f);\n";
  s += "  for (long long k0 = 0; k0 < K; k0 += 16) {\n";
  s += stageSlices(A, B, ta, tb, "0.0f",
                   bf16 ? "__float2bfloat16" : "wmma::__float_to_tf32");
  s += "    __syncthreads();\n";
  s += "    for (int k = 0; k < 16; k += " + depth + ") {\n";
  s += "      wmma::fragment<wmma::matrix_a, 16, 16, " + depth + ", " +
       operand + ", wmma::col_major> fa;\n";
  s += "      wmma::load_matrix_sync(fa, &As[k][fr], 64);\n";
  s += "      for (int f = 0; f < 2; ++f) {\n";
  s += "        wmma::fragment<wmma::matrix_b, 16, 16, " + depth + ", " +
       operand + ", wmma::row_major> fb;\n";
  s += "        wmma::load_matrix_sync(fb, &Bs[k][fc + f * 16], 64);\n";
  s += "        wmma::mma_sync(acc[f], fa, fb, acc[f]);\n";
  s += "      }\n";
  s += "    }\n";
  s += "    __syncthreads();\n";
  s += "  }\n";
  // The fragments' layout is opaque: the epilogue reads the tile back
  // from shared memory.
  s += "  for (int f = 0; f < 2; ++f)\n";
  s += "    wmma::store_matrix_sync(&Cs[fr][fc + f * 16], acc[f], 64, "
       "wmma::mem_row_major);\n";
  s += "  __syncthreads();\n";
  s += "  for (int e = threadIdx.x; e < 64 * 64; e += blockDim.x) {\n";
  s += "    const long long row = row0 + e / 64, col = col0 + e % 64;\n";
  s += "    if (row < M && col < C) {\n";
  s += "      const long long lin = row * C + col;\n";
  s += "      const float accv = Cs[e / 64][e % 64];\n";
  return s;
}

FailureOr<std::string> KernelWriter::writeTiled(Value result, Operation *product,
                                                LaunchShape &shape) {
  auto mm = cast<nn::MatMulOp>(product);
  Value lhs = mm.getLhs(), rhs = mm.getRhs();
  auto input = [&](Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v))
      if (auto fusion = dyn_cast<nn::FusionOp>(arg.getOwner()->getParentOp()))
        v = fusion->getOperand(arg.getArgNumber());
    return "in" + std::to_string(llvm::find(inputs_, v) - inputs_.begin());
  };
  bool ta = mm.getTransposeA(), tb = mm.getTransposeB();
  Type elt = tensorOf(result).getElementType();
  std::string T = cType(elt);
  // Tensor cores for float products only: fp64 stays on FMAs.
  bool wmma = precision_ != Precision::FP32 && elt.isF32();
  body_.clear();
  scopes_.assign(1, {});
  indent_ = wmma ? 6 : 8;
  overrides_[mm.getResult().getAsOpaquePointer()] = "accv";
  std::string elementName = element(result, "lin");
  if (failedAt_)
    return failedAt_->emitOpError("is not supported by the CUDA target yet"), failure();
  std::string rows = dim(result, 0), cols = dim(result, 1), depth = dim(lhs, ta ? 0 : 1);
  std::string A = input(lhs), B = input(rhs);
  std::string pad(indent_, ' ');
  // The epilogue, the same in every tiling.
  std::string tail = body_ + pad + "out[lin] = " + elementName + ";\n" + pad.substr(2) + "}\n" +
                     pad.substr(4) + "}\n}\n";
  std::string sizes =
      "  const long long M = " + rows + ", C = " + cols + ", K = " + depth + ";\n";
  shape = {};
  shape.threads = 256;
  if (wmma) {
    shape.tile = 64;
    return header(result, name_) + sizes + tiledProductWmma(A, B, ta, tb) + tail;
  }
  // Where a dimension of the output is known, tilings that leave half a
  // tile's rows or columns idle are left out (a smaller tiling has as many
  // blocks or more, and every kernel costs NVRTC time); the smallest
  // always stays.
  auto known = symbolicShape(result, shapes_);
  auto halfIdle = [&](int64_t size, int tile) { return size >= 0 && 2 * size <= tile; };
  std::string s;
  for (const Tiling &t : kTilings) {
    bool last = &t == &kTilings[std::size(kTilings) - 1];
    if (!last && succeeded(known) &&
        (halfIdle((*known)[0], t.bm) || halfIdle((*known)[1], t.bn)))
      continue;
    std::string kernel = name_ + "_t" + std::to_string(t.bm);
    s += header(result, kernel) + sizes + tiledProductFma(t, T, A, B, ta, tb) + tail;
    if (&t != &kTilings[std::size(kTilings) - 1])
      s += "\n";
    shape.tilings.push_back({kernel, static_cast<unsigned>(t.bm), static_cast<unsigned>(t.bn)});
  }
  return s;
}

} // namespace nncc::cuda
