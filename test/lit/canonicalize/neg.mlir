// RUN: nncc-opt %s -split-input-file -canonicalize | FileCheck %s

// -(-x) -> x
// CHECK-LABEL: func.func @neg_neg
// CHECK-SAME: (%[[X:.*]]: tensor<?x3xf32>, %[[I:.*]]: tensor<4xi32>)
// CHECK-NOT: nn.neg
// CHECK: return %[[X]], %[[I]]
func.func @neg_neg(%x: tensor<?x3xf32>, %i: tensor<4xi32>) -> (tensor<?x3xf32>, tensor<4xi32>) {
  %0 = nn.neg %x : tensor<?x3xf32> -> tensor<?x3xf32>
  %1 = nn.neg %0 : tensor<?x3xf32> -> tensor<?x3xf32>
  %2 = nn.neg %i : tensor<4xi32> -> tensor<4xi32>
  %3 = nn.neg %2 : tensor<4xi32> -> tensor<4xi32>
  return %1, %3 : tensor<?x3xf32>, tensor<4xi32>
}

// -----

// Three negations leave one.
// CHECK-LABEL: func.func @neg_neg_neg
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK: %[[N:.*]] = nn.neg %[[X]] : tensor<3xf32> -> tensor<3xf32>
// CHECK-NOT: nn.neg
// CHECK: return %[[N]]
func.func @neg_neg_neg(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = nn.neg %x : tensor<3xf32> -> tensor<3xf32>
  %1 = nn.neg %0 : tensor<3xf32> -> tensor<3xf32>
  %2 = nn.neg %1 : tensor<3xf32> -> tensor<3xf32>
  return %2 : tensor<3xf32>
}

// -----

// A declared result type that refines x's (tensor<3xf32> for tensor<?xf32>)
// keeps the negations: x could not stand for the result in the return.
// CHECK-LABEL: func.func @neg_neg_refined
// CHECK: nn.neg %{{.*}} : tensor<?xf32> -> tensor<3xf32>
// CHECK: nn.neg %{{.*}} : tensor<3xf32> -> tensor<3xf32>
func.func @neg_neg_refined(%x: tensor<?xf32>) -> tensor<3xf32> {
  %0 = nn.neg %x : tensor<?xf32> -> tensor<3xf32>
  %1 = nn.neg %0 : tensor<3xf32> -> tensor<3xf32>
  return %1 : tensor<3xf32>
}
