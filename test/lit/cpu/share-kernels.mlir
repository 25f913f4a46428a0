// RUN: nncc-opt %s --nn-cpu-share-kernels | FileCheck %s

// Two maps that are the same function (a repeated layer's tanh) become one;
// the chains calling them then are the same too and become one; a map
// that differs in a constant (another learning rate) stays apart, and so
// does a function that is not a row kernel.
// CHECK-LABEL: func.func @train
// CHECK: call @__nncc_rows_chain_0(%arg0, %c0, %[[N:.*]])
// CHECK: call @__nncc_rows_chain_0(%arg1, %c0, %[[N]])
// CHECK: call @__nncc_rows_map_2(%arg1, %c0, %[[N]])
// CHECK: call @helper_a
// CHECK: call @helper_b
// CHECK: func.func private @__nncc_rows_map_0(
// CHECK-NOT: func.func private @__nncc_rows_map_1(
// CHECK: func.func private @__nncc_rows_map_2(
// CHECK: arith.constant 2.500000e-01
// A kernel now called from two places is noinline: LLVM would copy it
// into each.
// CHECK: func.func private @__nncc_rows_chain_0({{.*}} attributes {passthrough = ["noinline"]}
// CHECK: call @__nncc_rows_map_0(
// CHECK-NOT: func.func private @__nncc_rows_chain_1(
// CHECK: func.func private @helper_a
// CHECK: func.func private @helper_b
func.func @train(%a: memref<?x64xf32>, %b: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x64xf32>
  call @__nncc_rows_chain_0(%a, %c0, %n) : (memref<?x64xf32>, index, index) -> ()
  call @__nncc_rows_chain_1(%b, %c0, %n) : (memref<?x64xf32>, index, index) -> ()
  call @__nncc_rows_map_2(%b, %c0, %n) : (memref<?x64xf32>, index, index) -> ()
  call @helper_a() : () -> ()
  call @helper_b() : () -> ()
  return
}
func.func private @__nncc_rows_map_0(%x: memref<?x64xf32>, %begin: index, %end: index) attributes {nncc.row_grain = 16 : i64} {
  %half = arith.constant 5.000000e-01 : f32
  %c0 = arith.constant 0 : index
  %v = memref.load %x[%begin, %c0] : memref<?x64xf32>
  %w = arith.mulf %v, %half : f32
  memref.store %w, %x[%begin, %c0] : memref<?x64xf32>
  return
}
func.func private @__nncc_rows_map_1(%y: memref<?x64xf32>, %from: index, %to: index) attributes {nncc.row_grain = 16 : i64} {
  %h = arith.constant 5.000000e-01 : f32
  %zero = arith.constant 0 : index
  %v = memref.load %y[%from, %zero] : memref<?x64xf32>
  %w = arith.mulf %v, %h : f32
  memref.store %w, %y[%from, %zero] : memref<?x64xf32>
  return
}
func.func private @__nncc_rows_map_2(%x: memref<?x64xf32>, %begin: index, %end: index) attributes {nncc.row_grain = 16 : i64} {
  %quarter = arith.constant 2.500000e-01 : f32
  %c0 = arith.constant 0 : index
  %v = memref.load %x[%begin, %c0] : memref<?x64xf32>
  %w = arith.mulf %v, %quarter : f32
  memref.store %w, %x[%begin, %c0] : memref<?x64xf32>
  return
}
func.func private @__nncc_rows_chain_0(%x: memref<?x64xf32>, %begin: index, %end: index) {
  call @__nncc_rows_map_0(%x, %begin, %end) : (memref<?x64xf32>, index, index) -> ()
  return
}
func.func private @__nncc_rows_chain_1(%x: memref<?x64xf32>, %begin: index, %end: index) {
  call @__nncc_rows_map_1(%x, %begin, %end) : (memref<?x64xf32>, index, index) -> ()
  return
}
func.func private @helper_a() {
  return
}
func.func private @helper_b() {
  return
}
