// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// maximum, minimum, pow, less, logical_and/or/xor and select: broadcasting
// like nn.add; comparisons and logical ops give i1.

// CHECK-LABEL: func.func @numeric
// CHECK: nn.maximum %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
// CHECK: nn.minimum %{{.*}}, %{{.*}} : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>
// CHECK: nn.pow %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
// CHECK: nn.less %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<4x3xi1>
func.func @numeric(%a: tensor<?x3xf32>, %v: tensor<3xf32>, %i: tensor<4xi32>, %s: tensor<i32>,
                   %f: tensor<f32>, %c: tensor<4x1xf32>) {
  %0 = nn.maximum %a, %v : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %1 = nn.minimum %i, %s : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>
  %2 = nn.pow %a, %f : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %3 = nn.less %a, %c : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<4x3xi1>
  return
}

// CHECK-LABEL: func.func @logical
// CHECK: nn.logical_and %{{.*}}, %{{.*}} : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
// CHECK: nn.logical_or %{{.*}}, %{{.*}} : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
// CHECK: nn.logical_xor %{{.*}}, %{{.*}} : (tensor<*xi1>, tensor<3xi1>) -> tensor<*xi1>
func.func @logical(%a: tensor<2x3xi1>, %b: tensor<3xi1>, %u: tensor<*xi1>) {
  %0 = nn.logical_and %a, %b : (tensor<2x3xi1>, tensor<3xi1>) -> tensor<2x3xi1>
  %1 = nn.logical_or %a, %a : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  %2 = nn.logical_xor %u, %b : (tensor<*xi1>, tensor<3xi1>) -> tensor<*xi1>
  return
}

// The three operands of select broadcast together.
// CHECK-LABEL: func.func @select
// CHECK: nn.select %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x1xi1>, tensor<3xf32>, tensor<f32>) -> tensor<?x3xf32>
// CHECK: nn.select %{{.*}}, %{{.*}}, %{{.*}} : (tensor<i1>, tensor<2x1xi64>, tensor<1x4xi64>) -> tensor<2x4xi64>
func.func @select(%c: tensor<?x1xi1>, %v: tensor<3xf32>, %s: tensor<f32>, %b: tensor<i1>,
                  %l: tensor<2x1xi64>, %r: tensor<1x4xi64>) {
  %0 = nn.select %c, %v, %s : (tensor<?x1xi1>, tensor<3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %1 = nn.select %b, %l, %r : (tensor<i1>, tensor<2x1xi64>, tensor<1x4xi64>) -> tensor<2x4xi64>
  return
}
