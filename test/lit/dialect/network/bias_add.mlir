// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// bias_add adds a rank-1 bias along the last dimension of x.

// CHECK-LABEL: func.func @bias_add
// CHECK: nn.bias_add %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<10xf32>) -> tensor<8x10xf32>
// CHECK: nn.bias_add %{{.*}}, %{{.*}} : (tensor<2x4x4x3xf32>, tensor<3xf32>) -> tensor<2x4x4x3xf32>
// CHECK: nn.bias_add %{{.*}}, %{{.*}} : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
// CHECK: nn.bias_add %{{.*}}, %{{.*}} : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
func.func @bias_add(%x: tensor<8x10xf32>, %b: tensor<10xf32>, %img: tensor<2x4x4x3xf32>,
                    %c: tensor<3xf32>, %i: tensor<3xi32>) {
  %0 = nn.bias_add %x, %b : (tensor<8x10xf32>, tensor<10xf32>) -> tensor<8x10xf32>
  %1 = nn.bias_add %img, %c : (tensor<2x4x4x3xf32>, tensor<3xf32>) -> tensor<2x4x4x3xf32>
  %2 = nn.bias_add %b, %b : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
  %3 = nn.bias_add %i, %i : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return
}

// A known bias size fills in an unknown last dimension of x.
// CHECK-LABEL: func.func @unknown_dims
// CHECK: nn.bias_add %{{.*}}, %{{.*}} : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
// CHECK: nn.bias_add %{{.*}}, %{{.*}} : (tensor<8x?xf32>, tensor<10xf32>) -> tensor<8x10xf32>
// CHECK: nn.bias_add %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<?xf32>) -> tensor<8x10xf32>
func.func @unknown_dims(%x: tensor<?x10xf32>, %b: tensor<10xf32>, %y: tensor<8x?xf32>,
                        %z: tensor<8x10xf32>, %d: tensor<?xf32>) {
  %0 = nn.bias_add %x, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %1 = nn.bias_add %y, %b : (tensor<8x?xf32>, tensor<10xf32>) -> tensor<8x10xf32>
  %2 = nn.bias_add %z, %d : (tensor<8x10xf32>, tensor<?xf32>) -> tensor<8x10xf32>
  return
}

// CHECK-LABEL: func.func @unranked
// CHECK: nn.bias_add %{{.*}}, %{{.*}} : (tensor<*xf32>, tensor<10xf32>) -> tensor<*xf32>
// CHECK: nn.bias_add %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<*xf32>) -> tensor<8x10xf32>
func.func @unranked(%u: tensor<*xf32>, %b: tensor<10xf32>, %x: tensor<8x10xf32>, %ub: tensor<*xf32>) {
  %0 = nn.bias_add %u, %b : (tensor<*xf32>, tensor<10xf32>) -> tensor<*xf32>
  %1 = nn.bias_add %x, %ub : (tensor<8x10xf32>, tensor<*xf32>) -> tensor<8x10xf32>
  return
}
