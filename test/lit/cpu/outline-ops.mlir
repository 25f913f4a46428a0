// RUN: nncc-opt %s --nn-cpu-outline-ops | FileCheck %s
// RUN: nncc-opt %s --nn-cpu-outline-ops --nn-cpu-share-kernels | FileCheck %s --check-prefix=SHARED

// The linalg ops left in a signature's function become calls of noinline
// functions, one per op: what an op uses from outside (buffers, a scalar
// computed in the signature) becomes arguments, constants are cloned in.
// Kernels (row kernels) are left alone.
// CHECK-LABEL: func.func @train
// CHECK-SAME: (%[[W0:.*]]: memref<64x64xf32>, %[[G0:.*]]: memref<64x64xf32>, %[[W1:.*]]: memref<64x64xf32>, %[[G1:.*]]: memref<64x64xf32>, %[[B:.*]]: memref<64xf32>, %[[S:.*]]: f32)
// CHECK-NOT: linalg.
// CHECK: call @__nncc_op_0(%[[G0]], %[[W0]])
// CHECK: call @__nncc_op_1(%[[G1]], %[[W1]])
// CHECK: call @__nncc_op_2(%[[S]], %[[B]])
// CHECK: call @__nncc_rows_map_0(%[[B]])
// CHECK: func.func private @__nncc_rows_map_0(
// CHECK-NEXT: arith.constant
// CHECK-NEXT: linalg.fill
// CHECK: func.func private @__nncc_op_0(%{{.*}}: memref<64x64xf32>, %{{.*}}: memref<64x64xf32>) attributes {passthrough = ["noinline"]}
// CHECK: arith.constant 1.000000e-01 : f32
// CHECK: linalg.generic
// CHECK: func.func private @__nncc_op_1(
// CHECK: func.func private @__nncc_op_2(%{{.*}}: f32, %{{.*}}: memref<64xf32>) attributes {passthrough = ["noinline"]}
// CHECK-NEXT: linalg.fill

// Two layers' identical updates are one function once shared.
// SHARED-LABEL: func.func @train
// SHARED: call @__nncc_op_0(
// SHARED: call @__nncc_op_0(
// SHARED: call @__nncc_op_2(
// SHARED-NOT: func.func private @__nncc_op_1(
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @train(%w0: memref<64x64xf32>, %g0: memref<64x64xf32>, %w1: memref<64x64xf32>,
                 %g1: memref<64x64xf32>, %b: memref<64xf32>, %s: f32) {
  %lr = arith.constant 0.1 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g0 : memref<64x64xf32>) outs(%w0 : memref<64x64xf32>) {
  ^bb0(%g: f32, %w: f32):
    %d = arith.mulf %g, %lr : f32
    %n = arith.subf %w, %d : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g1 : memref<64x64xf32>) outs(%w1 : memref<64x64xf32>) {
  ^bb0(%g: f32, %w: f32):
    %d = arith.mulf %g, %lr : f32
    %n = arith.subf %w, %d : f32
    linalg.yield %n : f32
  }
  linalg.fill ins(%s : f32) outs(%b : memref<64xf32>)
  call @__nncc_rows_map_0(%b) : (memref<64xf32>) -> ()
  return
}
func.func private @__nncc_rows_map_0(%b: memref<64xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%b : memref<64xf32>)
  return
}
