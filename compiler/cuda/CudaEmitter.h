// The CUDA target: a fused module (after nn-fuse) becomes a CUDA program,
// one kernel per value that a fusion group (or an op left alone) yields,
// with the buffers a run needs and each signature's launch sequence
// (proto/executable.proto: CudaProgram), and NVRTC compiles its source to
// PTX and CUBIN.
#ifndef NNCC_COMPILER_CUDA_CUDAEMITTER_H
#define NNCC_COMPILER_CUDA_CUDAEMITTER_H

#include "compiler/cuda/Precision.h"
#include "proto/executable.pb.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace nncc::cuda {

/// The program of `module`, its tiled products multiplying in `precision`,
/// for compute capability `arch` ("90a": with sm_90a's TMA and wgmma
/// kernels for the tensor-core precisions' big products).
/// Fails, with a diagnostic at the op, on an op the target does not compile
/// or an unknown dimension other than the batch.
mlir::FailureOr<exe::CudaProgram> emitCudaProgram(mlir::ModuleOp module,
                                                  Precision precision = Precision::FP32,
                                                  const std::string &arch = "");

/// Whether this nncc was built with NVRTC (the CUDA toolkit).
bool haveNvrtc();
/// NVRTC's version, "13.0", or why there is none.
std::string nvrtcVersion();
/// What NVRTC made of a program: PTX, and CUBIN when compiled for a real
/// GPU (sm_XX).
struct NvrtcImages {
  std::string ptx, cubin;
};
/// Compiles `source` with NVRTC once for `target`: PTX for compute_XX, PTX
/// and CUBIN for sm_XX. An error quotes NVRTC's log with the source lines
/// it points at.
llvm::Expected<NvrtcImages> nvrtcCompile(const std::string &source, const std::string &target);

} // namespace nncc::cuda

#endif
