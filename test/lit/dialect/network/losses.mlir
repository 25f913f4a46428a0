// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// softmax_cross_entropy: the class axis is the last one; the result is the
// logits' shape without it. Labels are one-hot (the logits' type) or sparse
// integer class indices (the logits' shape without the class axis).

// CHECK-LABEL: func.func @one_hot_labels
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<8xf32>
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<?x10xf32>, tensor<8x10xf32>) -> tensor<8xf32>
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<10xf64>, tensor<10xf64>) -> tensor<f64>
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<2x3x10xf32>, tensor<2x?x10xf32>) -> tensor<2x3xf32>
func.func @one_hot_labels(%logits: tensor<8x10xf32>, %labels: tensor<8x10xf32>,
                          %dyn: tensor<?x10xf32>, %v: tensor<10xf64>,
                          %l3: tensor<2x3x10xf32>, %t3: tensor<2x?x10xf32>) {
  %0 = nn.softmax_cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<8xf32>
  %1 = nn.softmax_cross_entropy %dyn, %labels : (tensor<?x10xf32>, tensor<8x10xf32>) -> tensor<8xf32>
  %2 = nn.softmax_cross_entropy %v, %v : (tensor<10xf64>, tensor<10xf64>) -> tensor<f64>
  %3 = nn.softmax_cross_entropy %l3, %t3 : (tensor<2x3x10xf32>, tensor<2x?x10xf32>) -> tensor<2x3xf32>
  return
}

// CHECK-LABEL: func.func @sparse_labels
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<8xf32>
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<?x10xf32>, tensor<8xi64>) -> tensor<8xf32>
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<?xi64>) -> tensor<8xf32>
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<10xf32>, tensor<i32>) -> tensor<f32>
func.func @sparse_labels(%logits: tensor<8x10xf32>, %i: tensor<8xi32>, %dyn: tensor<?x10xf32>,
                         %l: tensor<8xi64>, %ld: tensor<?xi64>, %v: tensor<10xf32>,
                         %s: tensor<i32>) {
  %0 = nn.softmax_cross_entropy %logits, %i : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<8xf32>
  %1 = nn.softmax_cross_entropy %dyn, %l : (tensor<?x10xf32>, tensor<8xi64>) -> tensor<8xf32>
  %2 = nn.softmax_cross_entropy %logits, %ld : (tensor<8x10xf32>, tensor<?xi64>) -> tensor<8xf32>
  %3 = nn.softmax_cross_entropy %v, %s : (tensor<10xf32>, tensor<i32>) -> tensor<f32>
  return
}

// CHECK-LABEL: func.func @unranked
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<*xf32>, tensor<8xi32>) -> tensor<*xf32>
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<*xf32>) -> tensor<8xf32>
// CHECK: nn.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<?x10xf32>, tensor<*xi64>) -> tensor<?xf32>
func.func @unranked(%u: tensor<*xf32>, %i: tensor<8xi32>, %logits: tensor<8x10xf32>,
                    %dyn: tensor<?x10xf32>, %ui: tensor<*xi64>) {
  %0 = nn.softmax_cross_entropy %u, %i : (tensor<*xf32>, tensor<8xi32>) -> tensor<*xf32>
  %1 = nn.softmax_cross_entropy %logits, %u : (tensor<8x10xf32>, tensor<*xf32>) -> tensor<8xf32>
  %2 = nn.softmax_cross_entropy %dyn, %ui : (tensor<?x10xf32>, tensor<*xi64>) -> tensor<?xf32>
  return
}

// mean_squared_error: predictions and targets broadcast; the result is a
// scalar whatever their shapes.
// CHECK-LABEL: func.func @mean_squared_error
// CHECK: nn.mean_squared_error %{{.*}}, %{{.*}} : (tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<f32>
// CHECK: nn.mean_squared_error %{{.*}}, %{{.*}} : (tensor<8x3xf32>, tensor<3xf32>) -> tensor<f32>
// CHECK: nn.mean_squared_error %{{.*}}, %{{.*}} : (tensor<?x1xf32>, tensor<8x1xf32>) -> tensor<f32>
// CHECK: nn.mean_squared_error %{{.*}}, %{{.*}} : (tensor<*xf64>, tensor<4xf64>) -> tensor<f64>
func.func @mean_squared_error(%p: tensor<8x1xf32>, %m: tensor<8x3xf32>, %r: tensor<3xf32>,
                              %d: tensor<?x1xf32>, %u: tensor<*xf64>, %t: tensor<4xf64>) {
  %0 = nn.mean_squared_error %p, %p : (tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<f32>
  %1 = nn.mean_squared_error %m, %r : (tensor<8x3xf32>, tensor<3xf32>) -> tensor<f32>
  %2 = nn.mean_squared_error %d, %p : (tensor<?x1xf32>, tensor<8x1xf32>) -> tensor<f32>
  %3 = nn.mean_squared_error %u, %t : (tensor<*xf64>, tensor<4xf64>) -> tensor<f64>
  return
}
