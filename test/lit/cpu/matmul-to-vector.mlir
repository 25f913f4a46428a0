// RUN: nncc-opt %s --split-input-file --nn-cpu-matmul-to-vector --canonicalize | FileCheck %s
// RUN: nncc-opt %s --split-input-file --nn-cpu-matmul-to-vector=vector-bits=256 --canonicalize | FileCheck %s --check-prefix=AVX2
// RUN: nncc-opt %s --split-input-file --nn-cpu-matmul-to-vector="vector-bits=128 vector-registers=32" --canonicalize | FileCheck %s --check-prefix=NEON

// 50 columns on AVX-512: one panel of seven 8-wide vectors (56 lanes, where
// 16-wide ones would take 64), the last masked to its 2 columns, in blocks
// of 3 rows (21 accumulators); rows left over by the blocks one at a time.
// B (157 KB) fits in the L2 cache: the accumulators are loop-carried through
// all of k, not blocked. B's row is
// loaded once per k, in place (a narrow B is not packed), A's element
// broadcast per row. The kernel is a function of a row range [begin, end)
// that the runtime may split over threads, in tasks of at least 27 rows (1M
// multiply-adds). It reads A by rows (1|2), B whole (2), and reads and
// writes C by rows (1|2|4).
// CHECK-LABEL: func.func @layer
// CHECK-NOT: linalg.matmul
// CHECK: %[[M:.*]] = memref.dim %arg2, %c0
// CHECK: call @[[KERNEL:__nncc_rows_matmul_0]](%arg0, %arg1, %arg2, %c0, %[[M]])
// CHECK: func.func private @[[KERNEL]]({{.*}}, %[[BEGIN:.*]]: index, %[[END:.*]]: index) attributes {nncc.row_args = array<i64: 3, 2, 7>, nncc.row_grain = 27 : i64}
// CHECK-NOT: memref.alloca
// CHECK-NOT: step %c128
// CHECK: arith.subi %[[END]], %[[BEGIN]]
// CHECK: scf.for %[[I:.*]] = %[[BEGIN]] to %{{.*}} step %c3
// CHECK-COUNT-6: vector.load %arg2
// CHECK: vector.maskedload %arg2
// CHECK: scf.for {{.*}} iter_args(
// CHECK-COUNT-6: vector.load %arg1
// CHECK: %[[MASK:.*]] = vector.constant_mask [2] : vector<8xi1>
// CHECK: vector.maskedload %arg1[{{.*}}], %[[MASK]]
// CHECK: memref.load %arg0
// CHECK: vector.broadcast {{.*}} : f32 to vector<8xf32>
// CHECK-COUNT-7: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-6: vector.store
// CHECK: vector.maskedstore %arg2
// CHECK: scf.for {{.*}} to %[[END]] step %c1
// AArch64's NEON (nncc compile --triple=aarch64-...): 32 registers of 4
// floats, panels of 3 (12 columns) in blocks of 8 rows (24 accumulators).
// NEON-LABEL: func.func @layer
// NEON: func.func private @__nncc_rows_matmul_0
// NEON: scf.for {{.*}} step %c12
// NEON: scf.for {{.*}} step %c8
// NEON: vector.load %arg2{{.*}} vector<4xf32>
// AVX2-LABEL: func.func @layer
// AVX2: vector.broadcast {{.*}} : f32 to vector<8xf32>
// AVX2: vector.constant_mask [2] : vector<8xi1>
func.func @layer(%a: memref<?x784xf32>, %b: memref<784x50xf32>, %c: memref<?x50xf32>) {
  linalg.matmul ins(%a, %b : memref<?x784xf32>, memref<784x50xf32>) outs(%c : memref<?x50xf32>)
  return
}

// -----

// A narrow B too big for the L2 cache (784 x 200: 627 KB) is read k block
// by k block (128 rows of B, 100 KB), the rows in tiles of 40 (32 KiB of C)
// that stay in the caches through the k blocks.
// CHECK-LABEL: func.func @big_b
// CHECK: func.func private @{{.*}}(%{{.*}}, %[[BEGIN:.*]]: index, %[[END:.*]]: index)
// CHECK-NOT: memref.alloca
// CHECK: scf.for %[[T:.*]] = %[[BEGIN]] to %[[END]] step %c40
// CHECK: %[[TEND:.*]] = arith.minsi %{{.*}}, %[[END]]
// CHECK: scf.for %{{.*}} = %c0 to %c784 step %c128
// CHECK: arith.subi %[[TEND]], %[[T]]
// CHECK: scf.for %{{.*}} = %[[T]] to %{{.*}} step %c
// CHECK: vector.fma
// CHECK: scf.for {{.*}} to %[[TEND]] step %c1
func.func @big_b(%a: memref<?x784xf32>, %b: memref<784x200xf32>, %c: memref<?x200xf32>) {
  linalg.matmul ins(%a, %b : memref<?x784xf32>, memref<784x200xf32>) outs(%c : memref<?x200xf32>)
  return
}

// -----

// f64 uses 8-wide vectors on AVX-512; a dynamic k is blocked the same way.
// CHECK-LABEL: func.func @dynamic_k
// CHECK: func.func private
// CHECK: %[[K:.*]] = memref.dim %arg0, %c1
// CHECK: scf.for {{.*}} to %[[K]] step %c128
// CHECK: vector.fma {{.*}} : vector<8xf64>
func.func @dynamic_k(%a: memref<?x?xf64>, %b: memref<?x8xf64>, %c: memref<?x8xf64>) {
  linalg.matmul ins(%a, %b : memref<?x?xf64>, memref<?x8xf64>) outs(%c : memref<?x8xf64>)
  return
}

// -----

// A wide B (1024 columns, 4 KiB rows) is packed per k block into a
// contiguous, zero-padded 128x48 block; the 21 full panels are a loop, the
// 16 columns left a panel of their own. B (4 MiB) is too big to read once
// per tile of a few rows: the kernel stays out of row chains.
// CHECK-LABEL: func.func @wide
// CHECK: func.func private @__nncc_rows_matmul_0({{.*}}) attributes {nncc.row_args = {{.*}}, nncc.row_grain = 8 : i64, nncc.row_unchained}
// CHECK: %[[PACK:.*]] = memref.alloca() : memref<128x48xf32>
// CHECK: scf.for {{.*}} = %c0 to %c1008 step %c48
// CHECK: vector.load %arg1
// CHECK: vector.store {{.*}}, %[[PACK]]
// CHECK: scf.for {{.*}} iter_args(
// CHECK: vector.load %[[PACK]]
// CHECK: vector.fma
func.func @wide(%a: memref<?x1024xf32>, %b: memref<1024x1024xf32>, %c: memref<?x1024xf32>) {
  linalg.matmul ins(%a, %b : memref<?x1024xf32>, memref<1024x1024xf32>) outs(%c : memref<?x1024xf32>)
  return
}

// -----

// A^T . B (linalg.matmul_transpose_a, the weight gradients X^T . dZ): the
// same kernel reading A^T's rows, k the rows of A. C's rows are A's
// columns: A is read whole (2), not by rows.
// CHECK-LABEL: func.func @transpose_a
// CHECK: call @[[KERNEL:.*]](%arg0, %arg1, %arg2
// CHECK: func.func private @[[KERNEL]]({{.*}}) attributes {nncc.row_args = array<i64: 2, 2, 7>
// CHECK: %[[K:.*]] = memref.dim %arg0, %c0
// CHECK: scf.for %[[K0:.*]] = %c0 to %[[K]] step %c128
// CHECK: scf.for %[[KK:.*]] = {{.*}} iter_args(
// CHECK: memref.load %arg0[%[[KK]], %{{.*}}] : memref<?x784xf32>
func.func @transpose_a(%a: memref<?x784xf32>, %b: memref<?x50xf32>, %c: memref<784x50xf32>) {
  linalg.matmul_transpose_a ins(%a, %b : memref<?x784xf32>, memref<?x50xf32>) outs(%c : memref<784x50xf32>)
  return
}

// -----

// A . B^T (linalg.matmul_transpose_b, the backward products dZ . W^T): B^T's
// rows (784 of 50) are read in place, always packed: per k block, 16x16
// tiles of B^T (16 masked loads along k, the mask the k left in the block)
// are transposed in registers by 4 stages of 8 shuffle pairs and stored as
// 16 rows of the pack; the kernel then reads the pack as for a packed B.
// CHECK-LABEL: func.func @transpose_b
// CHECK-NOT: linalg.transpose
// CHECK: call @[[KERNEL:.*]](%arg0, %arg1, %arg2
// CHECK: func.func private @[[KERNEL]]
// CHECK: %[[PACK:.*]] = memref.alloca() : memref<128x48xf32>
// CHECK: scf.for %[[J:.*]] = %c0 to %c768 step %c48
// CHECK: scf.for %[[KK:.*]] = %c0 to %c50 step %c16
// CHECK: %[[MASK:.*]] = vector.create_mask %{{.*}} : vector<16xi1>
// CHECK: vector.maskedload %arg1[%[[J]], %[[KK]]], %[[MASK]]
// CHECK-COUNT-15: vector.maskedload %arg1
// CHECK: vector.shuffle {{.*}} [0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30]
// CHECK-COUNT-63: vector.shuffle
// CHECK: vector.store {{.*}}, %[[PACK]][%[[KK]], %c0]
// CHECK: scf.for {{.*}} iter_args(
// CHECK: vector.load %[[PACK]]
// CHECK: vector.fma
func.func @transpose_b(%a: memref<?x50xf32>, %b: memref<784x50xf32>, %c: memref<?x784xf32>) {
  linalg.matmul_transpose_b ins(%a, %b : memref<?x50xf32>, memref<784x50xf32>) outs(%c : memref<?x784xf32>)
  return
}

// -----

// A product into a freshly allocated, zero-filled buffer: the fill goes,
// and the kernel starts its accumulators from zero in the first k block
// (C = A . B; C is read only from the second k block on).
// CHECK-LABEL: func.func @zero_init
// CHECK: %[[C:.*]] = memref.alloc
// CHECK-NOT: linalg.fill
// CHECK: call @[[KERNEL:.*]](%arg0, %arg1, %[[C]]
// CHECK: func.func private @[[KERNEL]]
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %{{.*}}, %c0
// CHECK: scf.if %[[FIRST]]
// CHECK: scf.yield %cst{{.*}}, %cst
// CHECK: } else {
// CHECK: vector.load %arg2
func.func @zero_init(%a: memref<?x?xf32>, %b: memref<?x16xf32>, %n: index) -> memref<?x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc(%n) : memref<?x16xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x16xf32>)
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x16xf32>) outs(%c : memref<?x16xf32>)
  return %c : memref<?x16xf32>
}

// -----

// Left alone: tensors (before bufferization), a dynamic column count,
// integers.
// CHECK-LABEL: func.func @untouched
// CHECK-COUNT-3: linalg.matmul
func.func @untouched(%t: tensor<4x4xf32>, %a: memref<?x?xf32>, %c: memref<?x?xf32>,
                     %i: memref<4x4xi32>) -> tensor<4x4xf32> {
  %0 = linalg.matmul ins(%t, %t : tensor<4x4xf32>, tensor<4x4xf32>) outs(%t : tensor<4x4xf32>) -> tensor<4x4xf32>
  linalg.matmul ins(%a, %a : memref<?x?xf32>, memref<?x?xf32>) outs(%c : memref<?x?xf32>)
  linalg.matmul ins(%i, %i : memref<4x4xi32>, memref<4x4xi32>) outs(%i : memref<4x4xi32>)
  return %0 : tensor<4x4xf32>
}

// -----

// x^T . dZ (a weight gradient): the contraction runs over the batch, whose
// size is unknown. The zero fill of the fresh C goes (the kernel's first k
// block starts from zeros), but a batch of none has no k block: then the
// kernel fills its rows of C itself, so that nothing stands between its
// call and the kernels reading C (a row chain takes them together). With
// K known and positive there is no such fill.
// CHECK-LABEL: func.func @over_the_batch
// CHECK: %[[DW:.*]] = memref.alloc
// CHECK-NOT: linalg.fill
// CHECK: call @[[KERNEL:.*]](%arg0, %arg1, %[[DW]]
// CHECK-NEXT: return
// CHECK-LABEL: func.func @known_k
// CHECK-NOT: scf.if
// CHECK: return
// CHECK: func.func private @[[KERNEL]](%arg0: memref<?x784xf32>, %arg1: memref<?x50xf32>, %arg2: memref<784x50xf32>, %arg3: index, %arg4: index)
// CHECK: %[[K:.*]] = memref.dim %arg0, %c0
// CHECK: %[[NONE:.*]] = arith.cmpi eq, %[[K]], %c0
// CHECK: scf.if %[[NONE]] {
// CHECK: %[[ROWS:.*]] = arith.subi %arg4, %arg3
// CHECK: %[[OWN:.*]] = memref.subview %arg2[%arg3, 0] [%[[ROWS]], 50] [1, 1]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[OWN]]
func.func @over_the_batch(%x: memref<?x784xf32>, %dz: memref<?x50xf32>) -> memref<784x50xf32> {
  %zero = arith.constant 0.0 : f32
  %dw = memref.alloc() : memref<784x50xf32>
  linalg.fill ins(%zero : f32) outs(%dw : memref<784x50xf32>)
  linalg.matmul_transpose_a ins(%x, %dz : memref<?x784xf32>, memref<?x50xf32>) outs(%dw : memref<784x50xf32>)
  return %dw : memref<784x50xf32>
}
func.func @known_k(%a: memref<?x784xf32>, %b: memref<784x50xf32>, %n: index) -> memref<?x50xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc(%n) : memref<?x50xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x50xf32>)
  linalg.matmul ins(%a, %b : memref<?x784xf32>, memref<784x50xf32>) outs(%c : memref<?x50xf32>)
  return %c : memref<?x50xf32>
}

// -----

// A convolution's window product (nn-to-linalg marks it: form 0, strides
// 2x1, dilations 1x2) is a product of the windows' matrix [N*4*5, 3*3*2]
// with the filter as [18, 4] into the output as [N*4*5, 4], the windows
// read in place (implicit GEMM): the images as one dimension, a table of
// the 18 window columns' offsets in them (kh * 18 + kw * 4 + c), each row's
// start (n * 162 + oh * 36 + ow * 2) once per block of rows. The images are
// read whole (2), and the kernel stays out of row chains.
// CHECK-LABEL: func.func @windows
// CHECK-NOT: linalg.generic
// CHECK: %[[B:.*]] = memref.collapse_shape %arg1 {{\[}}[0, 1, 2], [3]] : memref<3x3x2x4xf32> into memref<18x4xf32>
// CHECK: %[[C:.*]] = memref.collapse_shape %arg2 {{\[}}[0, 1, 2], [3]] : memref<?x4x5x4xf32> into memref<?x4xf32>
// CHECK: %[[M:.*]] = memref.dim %[[C]], %c0
// CHECK: call @[[KERNEL:.*]](%arg0, %[[B]], %[[C]], %c0, %[[M]])
// CHECK: func.func private @[[KERNEL]](%arg0: memref<?x9x9x2xf32>, %arg1: memref<18x4xf32>, %arg2: memref<?x4xf32>, {{.*}}) attributes {nncc.row_args = array<i64: 2, 2, 7>, {{.*}}nncc.row_unchained}
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %arg0 {{\[}}[0, 1, 2, 3]] : memref<?x9x9x2xf32> into memref<?xf32>
// CHECK: %[[TABLE:.*]] = memref.alloca() : memref<18xindex>
// CHECK: arith.muli %{{.*}}, %c18
// CHECK: memref.store %{{.*}}, %[[TABLE]]
// CHECK: arith.remui %{{.*}}, %c5
// CHECK: arith.muli %{{.*}}, %c162
// CHECK: arith.muli %{{.*}}, %c36
// CHECK: scf.for {{.*}} iter_args(
// CHECK: %[[OFF:.*]] = memref.load %[[TABLE]]
// CHECK: %[[AT:.*]] = arith.addi %{{.*}}, %[[OFF]]
// CHECK: memref.load %[[FLAT]][%[[AT]]]
// CHECK: vector.fma
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d3)>
#image = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 2 + d4, d2 + d5 * 2, d6)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @windows(%p: memref<?x9x9x2xf32>, %f: memref<3x3x2x4xf32>, %y: memref<?x4x5x4xf32>) {
  linalg.generic {indexing_maps = [#filter, #image, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%f, %p : memref<3x3x2x4xf32>, memref<?x9x9x2xf32>) outs(%y : memref<?x4x5x4xf32>) attrs = {nncc.window_product = array<i64: 0, 2, 1, 1, 2>} {
  ^bb0(%a: f32, %x: f32, %acc: f32):
    %m = arith.mulf %x, %a : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The filter's gradient (form 1): windows^T [18, N*4*5] . dy as [N*4*5, 4]
// into a zero-filled [18, 4] (the fill goes: the first k block starts from
// zeros); the rows of C are window columns, so each row's offset comes
// from the table once, and each step of the sum (a window row) finds its
// start. Over no images (N = 0) the result is the fill's zeros.
// CHECK-LABEL: func.func @filter_gradient
// CHECK: %[[DY:.*]] = memref.collapse_shape %arg1 {{\[}}[0, 1, 2], [3]] : memref<?x4x5x4xf32> into memref<?x4xf32>
// CHECK: %[[DW:.*]] = memref.collapse_shape %[[OUT:.*]] {{\[}}[0, 1, 2], [3]] : memref<3x3x2x4xf32> into memref<18x4xf32>
// CHECK-NOT: linalg.fill
// CHECK: call @[[KERNEL:.*]](%arg0, %[[DY]], %[[DW]], %c0, %c18)
// CHECK-NOT: scf.if
// CHECK: func.func private @[[KERNEL]](%arg0: memref<?x9x9x2xf32>, %arg1: memref<?x4xf32>, %arg2: memref<18x4xf32>, {{.*}}) attributes {nncc.row_args = array<i64: 2, 2, 5>
// CHECK: %[[N:.*]] = memref.dim %arg0, %c0
// CHECK: %[[NONE:.*]] = arith.cmpi eq, %[[N]], %c0
// CHECK: scf.if %[[NONE]] {
// CHECK: linalg.fill {{.*}} outs(%{{.*}} : memref<?x4xf32, strided<[4, 1], offset: ?>>)
// CHECK: memref.alloca() : memref<18xindex>
// CHECK: memref.load %{{.*}} : memref<18xindex>
// CHECK: scf.for {{.*}} iter_args(
// CHECK: arith.remui %{{.*}}, %c5
// CHECK: memref.load %{{.*}} : memref<?xf32>
// CHECK: vector.fma
#dy = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d3)>
#windows = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5 * 2 + d0, d6 + d1 * 2, d2)>
#cells = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @filter_gradient(%p: memref<?x9x9x2xf32>, %dy: memref<?x4x5x4xf32>) -> memref<3x3x2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %dw = memref.alloc() : memref<3x3x2x4xf32>
  linalg.fill ins(%zero : f32) outs(%dw : memref<3x3x2x4xf32>)
  linalg.generic {indexing_maps = [#dy, #windows, #cells], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%dy, %p : memref<?x4x5x4xf32>, memref<?x9x9x2xf32>) outs(%dw : memref<3x3x2x4xf32>) attrs = {nncc.window_product = array<i64: 1, 2, 1, 1, 2>} {
  ^bb0(%a: f32, %x: f32, %acc: f32):
    %m = arith.mulf %x, %a : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return %dw : memref<3x3x2x4xf32>
}

// -----

// A marked op whose maps are not those of its form stays as it is.
// CHECK-LABEL: func.func @not_a_window_product
// CHECK: linalg.generic
// CHECK-NOT: call
#filter = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d3)>
#wrong = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d6)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @not_a_window_product(%p: memref<?x9x9x2xf32>, %f: memref<3x3x2x4xf32>, %y: memref<?x4x5x4xf32>) {
  linalg.generic {indexing_maps = [#filter, #wrong, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%f, %p : memref<3x3x2x4xf32>, memref<?x9x9x2xf32>) outs(%y : memref<?x4x5x4xf32>) attrs = {nncc.window_product = array<i64: 0, 2, 1, 1, 2>} {
  ^bb0(%a: f32, %x: f32, %acc: f32):
    %m = arith.mulf %x, %a : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
