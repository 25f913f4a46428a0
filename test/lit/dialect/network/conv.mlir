// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// conv2d's result size by TensorFlow's rules: VALID (in - span) / stride + 1,
// SAME ceil(in / stride); the gradients give back the images' and the
// filter's shapes.

// CHECK-LABEL: func.func @shapes
// CHECK: nn.conv2d %{{.*}}, %{{.*}} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x24x24x32xf32>
// CHECK: nn.conv2d %{{.*}}, %{{.*}} {padding = "SAME"} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x28x28x32xf32>
// CHECK: nn.conv2d %{{.*}}, %{{.*}} {padding = "SAME", strides = array<i64: 2, 3>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x14x10x32xf32>
// CHECK: nn.conv2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x20x20x32xf32>
// CHECK: nn.conv2d_backprop_input %{{.*}}, %{{.*}} {input_size = array<i64: 28, 28>, padding = "SAME", strides = array<i64: 2, 3>} : (tensor<?x14x10x32xf32>, tensor<5x5x1x32xf32>) -> tensor<?x28x28x1xf32>
// CHECK: nn.conv2d_backprop_filter %{{.*}}, %{{.*}} {filter_size = array<i64: 5, 5>, padding = "SAME", strides = array<i64: 2, 3>} : (tensor<?x28x28x1xf32>, tensor<?x14x10x32xf32>) -> tensor<5x5x1x32xf32>
func.func @shapes(%x: tensor<?x28x28x1xf32>, %f: tensor<5x5x1x32xf32>) {
  %0 = nn.conv2d %x, %f : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x24x24x32xf32>
  %1 = nn.conv2d %x, %f {padding = "SAME"} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x28x28x32xf32>
  %2 = nn.conv2d %x, %f {padding = "SAME", strides = array<i64: 2, 3>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x14x10x32xf32>
  %3 = nn.conv2d %x, %f {dilations = array<i64: 2, 2>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x20x20x32xf32>
  %4 = nn.conv2d_backprop_input %2, %f {input_size = array<i64: 28, 28>, padding = "SAME", strides = array<i64: 2, 3>} : (tensor<?x14x10x32xf32>, tensor<5x5x1x32xf32>) -> tensor<?x28x28x1xf32>
  %5 = nn.conv2d_backprop_filter %x, %2 {filter_size = array<i64: 5, 5>, padding = "SAME", strides = array<i64: 2, 3>} : (tensor<?x28x28x1xf32>, tensor<?x14x10x32xf32>) -> tensor<5x5x1x32xf32>
  return
}

// Pools keep the channels; SAME never counts the padding (avg) nor picks it
// (max); the gradients give back x's shape.
// CHECK-LABEL: func.func @pools
// CHECK: nn.max_pool %{{.*}} {ksize = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
// CHECK: nn.avg_pool %{{.*}} {ksize = array<i64: 3, 3>, padding = "SAME", strides = array<i64: 2, 2>} : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
// CHECK: nn.max_pool_grad
// CHECK: nn.avg_pool_grad {{.*}} -> tensor<?x28x28x32xf32>
func.func @pools(%x: tensor<?x28x28x32xf32>) {
  %0 = nn.max_pool %x {ksize = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
  %1 = nn.avg_pool %x {ksize = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = "SAME"} : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
  %2 = nn.max_pool_grad %x, %0, %0 {ksize = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x28x28x32xf32>, tensor<?x14x14x32xf32>, tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32>
  %3 = nn.avg_pool_grad %1 {ksize = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = "SAME", input_size = array<i64: 28, 28>} : (tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32>
  return
}
