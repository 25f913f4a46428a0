// RUN: nncc-opt %s --nn-cpu-pipeline | FileCheck %s
// RUN: nncc-opt %s --nn-cpu-pipeline | FileCheck %s --check-prefix=HOOKS

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
