// The tiled kernel of a product with an elementwise epilogue: one block of
// 256 threads per 64x64 output tile, 16-deep slices of both operands staged
// in shared memory, the epilogue applied before the store. The product
// itself is exact fp32 (or fp64) FMAs on 4x4 accumulators per thread, or,
// with --cuda-precision=tf32|bf16, the tensor cores through WMMA on
// operands rounded to TF32 or BF16 as they are staged, accumulating in fp32.
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
    if (any && (v.getType() != result.getType() ||
                !isa<nn::AddOp, nn::SubOp, nn::MulOp, nn::DivOp, nn::BiasAddOp,
                     nn::NegOp, nn::SquareOp, nn::ExpOp, nn::LogOp, nn::TanhOp,
                     nn::SigmoidOp, nn::ReluOp>(op)))
      ok = false;
    return any;
  };
  reaches(result);
  return ok ? product : nullptr;
}

std::string KernelWriter::tiledProductFma(const std::string &T,
                                          const std::string &A,
                                          const std::string &B, bool ta,
                                          bool tb) {
  std::string s;
  s += "  __shared__ " + T + " As[16][64];\n";
  s += "  __shared__ " + T + " Bs[16][64];\n";
  s += "  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;\n";
  s += "  const long long row0 = (long long)blockIdx.y * 64, col0 = (long "
       "long)blockIdx.x * 64;\n";
  s += "  " + T + " acc[4][4] = {};\n";
  s += "  for (long long k0 = 0; k0 < K; k0 += 16) {\n";
  s += stageSlices(A, B, ta, tb, "(" + T + ")0", "");
  s += "    __syncthreads();\n";
  s += "    for (int k = 0; k < 16; ++k) {\n";
  s += "      " + T + " x[4], y[4];\n";
  s += "      for (int i = 0; i < 4; ++i) {\n";
  s += "        x[i] = As[k][ty * 4 + i];\n";
  s += "        y[i] = Bs[k][tx * 4 + i];\n";
  s += "      }\n";
  s += "      for (int i = 0; i < 4; ++i)\n";
  s += "        for (int j = 0; j < 4; ++j)\n";
  s += "          acc[i][j] += x[i] * y[j];\n";
  s += "    }\n";
  s += "    __syncthreads();\n";
  s += "  }\n";
  s += "  for (int i = 0; i < 4; ++i)\n";
  s += "    for (int j = 0; j < 4; ++j) {\n";
  s += "      const long long row = row0 + ty * 4 + i, col = col0 + tx * 4 + "
       "j;\n";
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

FailureOr<std::string> KernelWriter::writeTiled(Value result,
                                                Operation *product) {
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
    return failedAt_->emitOpError("is not supported by the CUDA target yet"),
           failure();
  std::string rows = dim(result, 0), cols = dim(result, 1),
              depth = dim(lhs, ta ? 0 : 1);
  std::string A = input(lhs), B = input(rhs);
  std::string s = header(result);
  s += "  const long long M = " + rows + ", C = " + cols + ", K = " + depth +
       ";\n";
  s += wmma ? tiledProductWmma(A, B, ta, tb) : tiledProductFma(T, A, B, ta, tb);
  std::string pad(indent_, ' ');
  s += body_;
  s += pad + "out[lin] = " + elementName + ";\n";
  s += pad.substr(2) + "}\n" + pad.substr(4) + "}\n}\n";
  return s;
}

} // namespace nncc::cuda
