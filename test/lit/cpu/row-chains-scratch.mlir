// RUN: nncc-opt %s --split-input-file --nn-cpu-matmul-to-vector --nn-cpu-parallel-rows --nn-cpu-row-chains --canonicalize | FileCheck %s

// z = x . W (a fresh buffer, written whole by the product) is read by the
// bias add and then freed: it lives in a tile's scratch on the chain's
// stack (48 rows x 50), not in a 10000-row allocation. The members run on
// views of the tile's rows, from row 0 (their row-wise parameters take any
// offset: kernels "_tiles"); x and out are viewed from the tile's first
// row. The kernels that only the chain called are gone.
#row = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @infer
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
// CHECK: call @[[CHAIN:__nncc_rows_chain_0]](%arg0, %arg1, %arg2, %arg3, %c0, %{{.*}})
// CHECK-NEXT: return
// CHECK-NOT: func.func private @__nncc_rows_matmul_0(
// CHECK-NOT: func.func private @__nncc_rows_map_0(
// CHECK: func.func private @[[MATMUL:__nncc_rows_matmul_0_tiles]](%{{.*}}: memref<?x784xf32, strided<[784, 1], offset: ?>>, %{{.*}}: memref<784x50xf32>, %{{.*}}: memref<?x50xf32, strided<[50, 1], offset: ?>>, %{{.*}}: index, %{{.*}}: index)
// CHECK: func.func private @[[MAP:__nncc_rows_map_0_tiles]](%{{.*}}: memref<?x50xf32, strided<[50, 1], offset: ?>>, %{{.*}}: memref<50xf32>, %{{.*}}: memref<?x50xf32, strided<[50, 1], offset: ?>>
// CHECK: func.func private @[[CHAIN]](%{{.*}}: memref<?x784xf32>, %{{.*}}: memref<784x50xf32>, %{{.*}}: memref<50xf32>, %{{.*}}: memref<?x50xf32>, %[[BEGIN:.*]]: index, %[[END:.*]]: index) attributes {nncc.row_args = array<i64: 3, 2, 2, 5>
// CHECK: %[[SCRATCH:.*]] = memref.alloca() {alignment = 64 : i64} : memref<48x50xf32>
// CHECK: scf.for %[[T:.*]] = %[[BEGIN]] to %[[END]] step %c48
// CHECK: %[[ROWS:.*]] = arith.subi
// CHECK: %[[X:.*]] = memref.subview %arg0[%[[T]], 0] [%[[ROWS]], 784]
// CHECK: %[[Z:.*]] = memref.subview %[[SCRATCH]][0, 0] [%[[ROWS]], 50]
// CHECK: %[[ZV:.*]] = memref.cast %[[Z]]
// CHECK: call @[[MATMUL]](%[[X]], %arg1, %[[ZV]], %c0, %[[ROWS]])
// CHECK: %[[OUT:.*]] = memref.subview %arg3[%[[T]], 0] [%[[ROWS]], 50]
// CHECK: call @[[MAP]](%[[ZV]], %arg2, %[[OUT]], %c0, %[[ROWS]])
func.func @infer(%x: memref<?x784xf32>, %w: memref<784x50xf32>, %b: memref<50xf32>, %out: memref<?x50xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?x784xf32>
  %z = memref.alloc(%n) : memref<?x50xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<?x50xf32>)
  linalg.matmul ins(%x, %w : memref<?x784xf32>, memref<784x50xf32>) outs(%z : memref<?x50xf32>)
  linalg.generic {indexing_maps = [#row, #col, #row], iterator_types = ["parallel", "parallel"]}
      ins(%z, %b : memref<?x50xf32>, memref<50xf32>) outs(%out : memref<?x50xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  }
  memref.dealloc %z : memref<?x50xf32>
  return
}

// -----

// What keeps a buffer whole: a use after the chain (z returned: the
// forward pass's activations that the backward pass reads), and a first
// member that reads it before writing (an accumulation into out).
#row = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @kept
// CHECK: %[[Z:.*]] = memref.alloc
// CHECK: call @__nncc_rows_chain_0(%arg0, %arg1, %[[Z]], %arg2, %[[OUT:.*]], %c0
// CHECK-NOT: memref.alloca
// CHECK: func.func private @__nncc_rows_chain_0
// CHECK-NOT: memref.alloca
// CHECK: call @__nncc_rows_matmul_0(
// CHECK: call @__nncc_rows_map_0(
func.func @kept(%x: memref<?x784xf32>, %w: memref<784x50xf32>, %b: memref<50xf32>) -> (memref<?x50xf32>, memref<?x50xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?x784xf32>
  %z = memref.alloc(%n) : memref<?x50xf32>
  %out = memref.alloc(%n) : memref<?x50xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<?x50xf32>)
  linalg.matmul ins(%x, %w : memref<?x784xf32>, memref<784x50xf32>) outs(%z : memref<?x50xf32>)
  linalg.generic {indexing_maps = [#row, #col, #row], iterator_types = ["parallel", "parallel"]}
      ins(%z, %b : memref<?x50xf32>, memref<50xf32>) outs(%out : memref<?x50xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    %t = arith.addf %s, %o : f32
    linalg.yield %t : f32
  }
  return %z, %out : memref<?x50xf32>, memref<?x50xf32>
}

// -----

// Kernels that only a chain called go, but only at the pass's end: a
// kernel outlined later (the update, inline until it joins the second
// chain) takes a new name, not a gone kernel's, and gets its own copy.
#row = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @first
// CHECK: call @__nncc_rows_chain_0(
// CHECK-LABEL: func.func @second
// CHECK: call @__nncc_rows_chain_1(
// CHECK-NOT: func.func private @__nncc_rows_map_0(
// CHECK: func.func private @__nncc_rows_map_0_tiles(%{{.*}}: memref<?x50xf32, strided<[50, 1], offset: ?>>, %{{.*}}: memref<50xf32>,
// CHECK: func.func private @__nncc_rows_chain_0(
// CHECK: call @__nncc_rows_map_0_tiles(
// CHECK: func.func private @[[UPDATE:__nncc_rows_map_[1-9]_tiles]](%{{.*}}: memref<?x50xf32, strided<[50, 1], offset: ?>>, %{{.*}}: memref<?x50xf32, strided<[50, 1], offset: ?>>,
// CHECK: func.func private @__nncc_rows_chain_1(
// CHECK: call @[[UPDATE]](
func.func @first(%x: memref<?x784xf32>, %w: memref<784x50xf32>, %b: memref<50xf32>, %out: memref<?x50xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?x784xf32>
  %z = memref.alloc(%n) : memref<?x50xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<?x50xf32>)
  linalg.matmul ins(%x, %w : memref<?x784xf32>, memref<784x50xf32>) outs(%z : memref<?x50xf32>)
  linalg.generic {indexing_maps = [#row, #col, #row], iterator_types = ["parallel", "parallel"]}
      ins(%z, %b : memref<?x50xf32>, memref<50xf32>) outs(%out : memref<?x50xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  }
  memref.dealloc %z : memref<?x50xf32>
  return
}
func.func @second(%x: memref<784x30xf32>, %v: memref<30x50xf32>, %w: memref<784x50xf32>) {
  %zero = arith.constant 0.0 : f32
  %lr = arith.constant 0.1 : f32
  %g = memref.alloc() : memref<784x50xf32>
  linalg.fill ins(%zero : f32) outs(%g : memref<784x50xf32>)
  linalg.matmul ins(%x, %v : memref<784x30xf32>, memref<30x50xf32>) outs(%g : memref<784x50xf32>)
  linalg.generic {indexing_maps = [#row, #row], iterator_types = ["parallel", "parallel"]}
      ins(%g : memref<784x50xf32>) outs(%w : memref<784x50xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.mulf %a, %lr : f32
    %r = arith.subf %o, %s : f32
    linalg.yield %r : f32
  }
  memref.dealloc %g : memref<784x50xf32>
  return
}
