// RUN: nncc-opt %s --split-input-file --nn-cpu-row-chains | FileCheck %s

// A layer's product, its bias and activation, and the fill of the next
// reduction's initial values run over the same rows (the batch, traced
// through the allocations to %x's first dimension): one chain, tile by tile.
// The tiles are 48 rows, whose written rows (z, h: 200 bytes, m: 4) take
// about 24 KiB; the grain is the rows worth a thread in all three
// (1 / (1/27 + 1/656 + 1/32768) = 26); the fill goes on the tile's rows.
// CHECK-LABEL: func.func @forward
// CHECK-NOT: call @__nncc_rows_matmul_0
// CHECK-NOT: linalg.fill
// CHECK: %[[N:.*]] = memref.dim %arg0, %c0
// CHECK: %[[Z:.*]] = memref.alloc(%[[N]])
// CHECK: %[[H:.*]] = memref.alloc(%[[N]])
// CHECK: %[[M:.*]] = memref.alloc(%[[N]])
// CHECK: call @[[CHAIN:__nncc_rows_chain_0]](%arg0, %arg1, %[[Z]], %arg2, %[[H]], %[[M]], %{{.*}}, %[[N]])
// CHECK-NEXT: return %[[M]]
// CHECK: func.func private @[[CHAIN]]({{.*}}, %[[BEGIN:.*]]: index, %[[END:.*]]: index) attributes {nncc.row_args = array<i64: 3, 2, 7, 2, 5, 5>, nncc.row_grain = 26 : i64}
// CHECK: scf.for %[[T:.*]] = %[[BEGIN]] to %[[END]] step %c48
// CHECK: %[[TEND:.*]] = arith.minsi {{.*}}, %[[END]]
// CHECK: func.call @__nncc_rows_matmul_0({{.*}}, %[[T]], %[[TEND]])
// CHECK: func.call @__nncc_rows_map_0({{.*}}, %[[T]], %[[TEND]])
// CHECK: %[[ROWS:.*]] = memref.subview {{.*}}[%[[T]]]
// CHECK: linalg.fill ins({{.*}}) outs(%[[ROWS]]
func.func private @__nncc_rows_matmul_0(memref<?x784xf32>, memref<784x50xf32>, memref<?x50xf32>, index, index) attributes {nncc.row_args = array<i64: 3, 2, 5>, nncc.row_grain = 27 : i64}
func.func private @__nncc_rows_map_0(memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) attributes {nncc.row_args = array<i64: 3, 2, 5>, nncc.row_grain = 656 : i64}
func.func @forward(%x: memref<?x784xf32>, %w: memref<784x50xf32>, %b: memref<50xf32>) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  %ninf = arith.constant 0xFF800000 : f32
  %n = memref.dim %x, %c0 : memref<?x784xf32>
  %z = memref.alloc(%n) : memref<?x50xf32>
  %n1 = memref.dim %z, %c0 : memref<?x50xf32>
  call @__nncc_rows_matmul_0(%x, %w, %z, %c0, %n1) : (memref<?x784xf32>, memref<784x50xf32>, memref<?x50xf32>, index, index) -> ()
  %h = memref.alloc(%n) : memref<?x50xf32>
  %n2 = memref.dim %z, %c0 : memref<?x50xf32>
  call @__nncc_rows_map_0(%z, %b, %h, %c0, %n2) : (memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) -> ()
  %m = memref.alloc(%n) : memref<?xf32>
  linalg.fill ins(%ninf : f32) outs(%m : memref<?xf32>)
  return %m : memref<?xf32>
}

// -----

// What keeps kernels apart: a product reading a buffer whole (its B) that
// an earlier kernel writes (every row of it must be done first); an op with
// memory effects between two kernels (a copy); a different row count (%y's
// rows are not known to be %x's); a kernel marked unchained (its B is too
// big to read once per tile).
// The product starts a chain of its own with the map after it.
// CHECK-LABEL: func.func @apart
// CHECK: call @__nncc_rows_map_0(%arg0, %arg2, %[[G:.*]], %c0
// CHECK-NEXT: arith.constant
// CHECK-NEXT: call @__nncc_rows_chain_0(%arg0, %[[G]],
// CHECK-NEXT: memref.copy
// CHECK-NEXT: call @__nncc_rows_map_0(
// CHECK-NEXT: call @__nncc_rows_map_0(%arg1,
// CHECK-NEXT: call @__nncc_rows_big_0(
// CHECK-NEXT: call @__nncc_rows_map_0(
// CHECK-NEXT: return
// CHECK: func.func private @__nncc_rows_chain_0
// CHECK: func.call @__nncc_rows_matmul_0
// CHECK-NEXT: func.call @__nncc_rows_map_0
// CHECK-NEXT: }
// CHECK-NOT: __nncc_rows_chain_1
func.func private @__nncc_rows_matmul_0(memref<?x50xf32>, memref<?x50xf32>, memref<?x50xf32>, index, index) attributes {nncc.row_args = array<i64: 3, 2, 5>, nncc.row_grain = 27 : i64}
func.func private @__nncc_rows_map_0(memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) attributes {nncc.row_args = array<i64: 3, 2, 5>, nncc.row_grain = 656 : i64}
func.func private @__nncc_rows_big_0(memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) attributes {nncc.row_args = array<i64: 3, 2, 5>, nncc.row_grain = 8 : i64, nncc.row_unchained}
func.func @apart(%x: memref<?x50xf32>, %y: memref<?x50xf32>, %b: memref<50xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x50xf32>
  %ny = memref.dim %y, %c0 : memref<?x50xf32>
  %g = memref.alloc(%n) : memref<?x50xf32>
  %c = memref.alloc(%n) : memref<?x50xf32>
  %d = memref.alloc(%n) : memref<?x50xf32>
  %e = memref.alloc(%ny) : memref<?x50xf32>
  call @__nncc_rows_map_0(%x, %b, %g, %c0, %n) : (memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) -> ()
  call @__nncc_rows_matmul_0(%x, %g, %c, %c0, %n) : (memref<?x50xf32>, memref<?x50xf32>, memref<?x50xf32>, index, index) -> ()
  call @__nncc_rows_map_0(%c, %b, %d, %c0, %n) : (memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) -> ()
  memref.copy %d, %g : memref<?x50xf32> to memref<?x50xf32>
  call @__nncc_rows_map_0(%g, %b, %c, %c0, %n) : (memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) -> ()
  call @__nncc_rows_map_0(%y, %b, %e, %c0, %ny) : (memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) -> ()
  call @__nncc_rows_big_0(%e, %b, %d, %c0, %n) : (memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) -> ()
  call @__nncc_rows_map_0(%d, %b, %c, %c0, %n) : (memref<?x50xf32>, memref<50xf32>, memref<?x50xf32>, index, index) -> ()
  return
}

// -----

// A linalg.generic left inline (too small to split alone: the optimizer's
// update of a 784x50 weight after the product that computes its gradient)
// joins the chain, outlined as a row kernel first; a generic alone is left
// as it is.
// CHECK-LABEL: func.func @update
// CHECK-NOT: linalg.generic
// CHECK: call @[[CHAIN:__nncc_rows_chain_0]](%arg0, %arg1, %{{.*}}, %arg2, %{{.*}}, %{{.*}})
// CHECK-NEXT: linalg.generic
// CHECK-NEXT: ^bb0
// CHECK: func.func private @__nncc_rows_map_0(%{{.*}}: memref<784x50xf32>, %{{.*}}: memref<784x50xf32>, %{{.*}}: index, %{{.*}}: index) attributes {nncc.row_args = array<i64: 3, 7>
// CHECK: func.func private @[[CHAIN]]({{.*}}) attributes {nncc.row_args = array<i64: 2, 2, 7, 7>
// CHECK: func.call @__nncc_rows_matmul_0(
// CHECK-NEXT: func.call @__nncc_rows_map_0(
func.func private @__nncc_rows_matmul_0(memref<?x784xf32>, memref<?x50xf32>, memref<784x50xf32>, index, index) attributes {nncc.row_args = array<i64: 2, 2, 7>, nncc.row_grain = 27 : i64}
func.func @update(%x: memref<?x784xf32>, %d: memref<?x50xf32>, %w: memref<784x50xf32>, %v: memref<50xf32>) {
  %c0 = arith.constant 0 : index
  %c784 = arith.constant 784 : index
  %lr = arith.constant 0.1 : f32
  %g = memref.alloc() : memref<784x50xf32>
  call @__nncc_rows_matmul_0(%x, %d, %g, %c0, %c784) : (memref<?x784xf32>, memref<?x50xf32>, memref<784x50xf32>, index, index) -> ()
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%g : memref<784x50xf32>) outs(%w : memref<784x50xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.mulf %a, %lr : f32
    %r = arith.subf %o, %s : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>],
                  iterator_types = ["parallel"]}
      outs(%v : memref<50xf32>) {
  ^bb0(%o: f32):
    %r = arith.mulf %o, %lr : f32
    linalg.yield %r : f32
  }
  return
}
