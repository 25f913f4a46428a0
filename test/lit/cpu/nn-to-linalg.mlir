// RUN: nncc-opt %s --split-input-file --nn-to-linalg | FileCheck %s

// Broadcasting add: one parallel generic; the size-1 operand is pinned to 0.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK: %[[DIM:.*]] = tensor.dim %arg0, %c0
// CHECK: tensor.empty(%[[DIM]]) : tensor<?x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.addf
func.func @add_broadcast(%a: tensor<?x3xf32>, %b: tensor<1x3xf32>) -> tensor<?x3xf32> {
  %0 = nn.add %a, %b : (tensor<?x3xf32>, tensor<1x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// CHECK-LABEL: func.func @unary
// CHECK: math.tanh
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.maximumf
// CHECK: math.sqrt
func.func @unary(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = nn.tanh %x : tensor<4xf32> -> tensor<4xf32>
  %1 = nn.sigmoid %x : tensor<4xf32> -> tensor<4xf32>
  %2 = nn.relu %x : tensor<4xf32> -> tensor<4xf32>
  %3 = nn.sqrt %x : tensor<4xf32> -> tensor<4xf32>
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Integer div never traps: the divisor is 1 where it is 0 or where MIN / -1
// would overflow (giving MIN, as NumPy), and x / 0 is 0.
// CHECK-LABEL: func.func @div_int
// CHECK: linalg.generic
// CHECK: ^bb0(%[[A:.*]]: i32, %[[D:.*]]: i32, %{{.*}}: i32):
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[D]], %c0_i32
// CHECK: %[[EDGE:.*]] = arith.ori %[[ZERO]]
// CHECK: %[[SAFE:.*]] = arith.select %[[EDGE]], %c1_i32, %[[D]]
// CHECK: %[[Q:.*]] = arith.divsi %[[A]], %[[SAFE]]
// CHECK: %[[R:.*]] = arith.select %[[ZERO]], %c0_i32, %[[Q]]
// CHECK: linalg.yield %[[R]]
func.func @div_int(%a: tensor<?xi32>, %b: tensor<?xi32>) -> tensor<?xi32> {
  %0 = nn.div %a, %b : (tensor<?xi32>, tensor<?xi32>) -> tensor<?xi32>
  return %0 : tensor<?xi32>
}

// -----

// A plain 2-D matmul becomes linalg.matmul on a zero-filled accumulator.
// CHECK-LABEL: func.func @matmul
// CHECK: linalg.fill
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<?x784xf32>, tensor<784x50xf32>)
func.func @matmul(%x: tensor<?x784xf32>, %w: tensor<784x50xf32>) -> tensor<?x50xf32> {
  %0 = nn.matmul %x, %w : (tensor<?x784xf32>, tensor<784x50xf32>) -> tensor<?x50xf32>
  return %0 : tensor<?x50xf32>
}

// -----

// 2-D products with a transposed operand: A^T . B is
// linalg.matmul_transpose_a, A . B^T linalg.matmul_transpose_b (the
// kernels read the transposed operand in place, nothing is copied).
// CHECK-LABEL: func.func @matmul_transposed
// CHECK-NOT: linalg.transpose
// CHECK: linalg.matmul_transpose_a ins(%arg0, %arg1 : tensor<?x784xf32>, tensor<?x50xf32>)
// CHECK: linalg.matmul_transpose_b ins(%arg1, %arg2 : tensor<?x50xf32>, tensor<784x50xf32>)
func.func @matmul_transposed(%x: tensor<?x784xf32>, %dz: tensor<?x50xf32>, %w: tensor<784x50xf32>)
    -> (tensor<784x50xf32>, tensor<?x784xf32>) {
  %0 = nn.matmul %x, %dz {transpose_a = true} : (tensor<?x784xf32>, tensor<?x50xf32>) -> tensor<784x50xf32>
  %1 = nn.matmul %dz, %w {transpose_b = true} : (tensor<?x50xf32>, tensor<784x50xf32>) -> tensor<?x784xf32>
  return %0, %1 : tensor<784x50xf32>, tensor<?x784xf32>
}

// -----

// Batched matmuls are contractions in a generic.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-LABEL: func.func @matmul_batched_transposed
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
func.func @matmul_batched_transposed(%a: tensor<2x5x4xf32>, %b: tensor<5x3xf32>) -> tensor<2x4x3xf32> {
  %0 = nn.matmul %a, %b {transpose_a = true} : (tensor<2x5x4xf32>, tensor<5x3xf32>) -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}

// -----

// reduce_mean: a sum over the reduced axis, then a division by its size.
// CHECK-LABEL: func.func @reduce_mean
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
// CHECK: arith.addf
// CHECK: arith.sitofp
// CHECK: arith.divf
func.func @reduce_mean(%x: tensor<?x6xf32>) -> tensor<6xf32> {
  %0 = nn.reduce_mean %x {axes = array<i64: 0>} : tensor<?x6xf32> -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// reshape with -1: the unknown size is what the known ones leave.
// CHECK-LABEL: func.func @reshape
// CHECK: %[[N:.*]] = arith.divui
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %[[N]], %c6
// CHECK: tensor.reshape %arg0(%[[SHAPE]])
func.func @reshape(%x: tensor<?x2x3xf32>) -> tensor<?x6xf32> {
  %0 = nn.reshape %x {shape = array<i64: -1, 6>} : tensor<?x2x3xf32> -> tensor<?x6xf32>
  return %0 : tensor<?x6xf32>
}

// -----

// softmax: max, exp of the shifted values, sum, log and exp again.
// CHECK-LABEL: func.func @softmax
// CHECK: arith.maximumf
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: math.log
// CHECK: math.exp
func.func @softmax(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %0 = nn.softmax %x : tensor<?x10xf32> -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// Sparse cross-entropy reads the label's logit with tensor.extract and
// gives NaN for a label out of range.
// CHECK-LABEL: func.func @sparse_xent
// CHECK-DAG: arith.cmpi sge
// CHECK-DAG: arith.cmpi slt
// CHECK: tensor.extract
// CHECK: arith.select
func.func @sparse_xent(%logits: tensor<?x10xf32>, %labels: tensor<?xi32>) -> tensor<?xf32> {
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// argmax: the row's max, then the smallest index holding it (an unsigned
// min from -1, what an empty row gives).
// CHECK-LABEL: func.func @argmax
// CHECK: arith.maximumf
// CHECK: linalg.fill ins(%c-1_i64
// CHECK: linalg.index 1
// CHECK: arith.cmpf oeq
// CHECK: arith.minui
func.func @argmax(%x: tensor<?x10xf32>) -> tensor<?xi64> {
  %0 = nn.argmax %x {axis = 1 : i64} : tensor<?x10xf32> -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

// CHECK-LABEL: func.func @one_hot
// CHECK: linalg.index 1
// CHECK: arith.cmpi eq
// CHECK: arith.select
func.func @one_hot(%y: tensor<?xi32>) -> tensor<?x10xf32> {
  %0 = nn.one_hot %y {depth = 10 : i64} : tensor<?xi32> -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// CHECK-LABEL: func.func @cast
// CHECK: arith.sitofp
// CHECK: arith.cmpf une
func.func @cast(%x: tensor<3xi32>, %f: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi1>) {
  %0 = nn.cast %x {dtype = f32} : tensor<3xi32> -> tensor<3xf32>
  %1 = nn.cast %f {dtype = i1} : tensor<3xf32> -> tensor<3xi1>
  return %0, %1 : tensor<3xf32>, tensor<3xi1>
}
