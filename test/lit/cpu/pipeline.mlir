// RUN: nncc-opt %s --nn-cpu-pipeline | FileCheck %s
// RUN: nncc-opt %s --nn-cpu-pipeline | FileCheck %s --check-prefix=HOOKS
// RUN: nncc-opt %s --nn-cpu-pipeline | FileCheck %s --check-prefix=CHAIN
// RUN: nncc-opt %s --nn-cpu-pipeline | FileCheck %s --check-prefix=MATH

// The whole CPU pipeline ends in the LLVM dialect, with the C interface the
// runtime calls; f32 tanh is a polynomial (no libm call), f64 tanh is libm's;
// buffers come from the runtime's allocator hooks.
// CHECK-DAG: llvm.func @tanh(f64) -> f64
// CHECK-NOT: llvm.func @tanhf
// CHECK: llvm.func @predict
// CHECK: llvm.call @_mlir_memref_to_llvm_alloc
// CHECK: llvm.func @_mlir_ciface_predict
// HOOKS-DAG: llvm.func internal @_mlir_memref_to_llvm_alloc(
// HOOKS-DAG: llvm.mlir.global external @nncc_alloc_hook()
// HOOKS-DAG: llvm.mlir.global external @nncc_free_hook()
// CHECK-NOT: nn.
// CHECK-NOT: linalg.
// The product and its bias and tanh run as one chain of row kernels
// (nn-cpu-row-chains), which alone goes through the thread hook; it calls
// the two kernels directly.
// CHAIN: llvm.func @predict
// CHAIN-NOT: addressof @__nncc_rows_matmul_0_task
// CHAIN: llvm.mlir.addressof @__nncc_rows_chain_0_task
// CHAIN: llvm.func internal @__nncc_rows_chain_0(
// CHAIN: llvm.call @__nncc_rows_matmul_0(
// CHAIN: llvm.call @__nncc_rows_map_0(
// CHAIN-NOT: @__nncc_rows_matmul_0_task
// CHAIN-NOT: @__nncc_rows_map_0_task
// f32 exp is a polynomial whose range reduction rounds with LLVM's floor
// intrinsic (a vector instruction), not libm's floorf.
// MATH-NOT: llvm.func @floorf
// MATH-NOT: llvm.func @expf
// MATH: llvm.func @exponential
// MATH: llvm.intr.floor
func.func @predict(%x: tensor<?x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<?x3xf32> attributes {llvm.emit_c_interface} {
  %0 = nn.matmul %x, %w : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %1 = nn.bias_add %0, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %2 = nn.tanh %1 : tensor<?x3xf32> -> tensor<?x3xf32>
  return %2 : tensor<?x3xf32>
}

func.func @precise(%x: tensor<3xf64>) -> tensor<3xf64> attributes {llvm.emit_c_interface} {
  %0 = nn.tanh %x : tensor<3xf64> -> tensor<3xf64>
  return %0 : tensor<3xf64>
}

func.func @exponential(%x: tensor<?x10xf32>) -> tensor<?x10xf32> attributes {llvm.emit_c_interface} {
  %0 = nn.exp %x : tensor<?x10xf32> -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}
