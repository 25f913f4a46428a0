// RUN: nncc-opt %s --split-input-file --nn-flatten-unranked | FileCheck %s

// Elementwise code over an unranked feed, with scalars, runs flattened.
// CHECK-LABEL: func.func @net_input
// CHECK-SAME: (%{{.*}}: tensor<?xf32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>) -> tensor<?xf32>
// CHECK-SAME: nn.flat_feeds = array<i64: 0>, nn.flat_fetches = array<i64: 0>
// CHECK: nn.mul {{.*}} : (tensor<f32>, tensor<?xf32>) -> tensor<?xf32>
// CHECK: nn.add {{.*}} : (tensor<?xf32>, tensor<f32>) -> tensor<?xf32>
func.func @net_input(%x: tensor<*xf32>, %w: tensor<f32>, %b: tensor<f32>) -> tensor<*xf32> {
  %0 = nn.mul %w, %x : (tensor<f32>, tensor<*xf32>) -> tensor<*xf32>
  %1 = nn.add %0, %b : (tensor<*xf32>, tensor<f32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}

// -----

// A reduction over an unranked value cannot be flattened: left alone.
// CHECK-LABEL: func.func @reduce
// CHECK-SAME: (%{{.*}}: tensor<*xf32>)
// CHECK-NOT: nn.flat_feeds
func.func @reduce(%x: tensor<*xf32>) -> tensor<f32> {
  %0 = nn.reduce_sum %x : tensor<*xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Broadcasting against a non-scalar would change meaning when flattened.
// CHECK-LABEL: func.func @broadcast
// CHECK-NOT: nn.flat_feeds
func.func @broadcast(%x: tensor<*xf32>, %v: tensor<3xf32>) -> tensor<*xf32> {
  %0 = nn.add %x, %v : (tensor<*xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
