// RUN: nncc-opt %s | nncc-opt | FileCheck %s

// Round trip of the broadcasting binary ops: the printed form keeps the
// operand and result types, and the verifier re-derives the result type.

// CHECK-LABEL: func.func @same_shape
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: nn.sub %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: nn.mul %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: nn.div %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: nn.equal %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
func.func @same_shape(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) {
  %0 = nn.add %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = nn.sub %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = nn.mul %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = nn.div %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = nn.equal %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  return
}

// Shapes align from the right; a dimension of 1 or a missing one stretches.
// CHECK-LABEL: func.func @broadcast
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK: nn.sub %{{.*}}, %{{.*}} : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: nn.mul %{{.*}}, %{{.*}} : (tensor<4x1x3xf32>, tensor<5x1xf32>) -> tensor<4x5x3xf32>
// CHECK: nn.div %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<1x1xf32>) -> tensor<2x3xf32>
// CHECK: nn.equal %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<2x1xf32>) -> tensor<2x3xi1>
func.func @broadcast(%m: tensor<2x3xf32>, %v: tensor<3xf32>, %s: tensor<f32>,
                     %t: tensor<4x1x3xf32>, %c: tensor<5x1xf32>, %o: tensor<1x1xf32>,
                     %r: tensor<2x1xf32>) {
  %0 = nn.add %m, %v : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = nn.sub %s, %m : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = nn.mul %t, %c : (tensor<4x1x3xf32>, tensor<5x1xf32>) -> tensor<4x5x3xf32>
  %3 = nn.div %m, %o : (tensor<2x3xf32>, tensor<1x1xf32>) -> tensor<2x3xf32>
  %4 = nn.equal %v, %r : (tensor<3xf32>, tensor<2x1xf32>) -> tensor<2x3xi1>
  return
}

// An unknown size `?` takes the other side's size unless that is 1.
// CHECK-LABEL: func.func @unknown_dims
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
// CHECK: nn.sub %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
// CHECK: nn.mul %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
// CHECK: nn.div %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<1x?xf32>) -> tensor<?x3xf32>
// CHECK: nn.equal %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<4x3xi1>
func.func @unknown_dims(%a: tensor<?x3xf32>, %b: tensor<3xf32>, %c: tensor<4x1xf32>,
                        %d: tensor<1x?xf32>) {
  %0 = nn.add %a, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %1 = nn.sub %a, %c : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
  %2 = nn.mul %a, %a : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  %3 = nn.div %a, %d : (tensor<?x3xf32>, tensor<1x?xf32>) -> tensor<?x3xf32>
  %4 = nn.equal %a, %c : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<4x3xi1>
  return
}

// An unranked operand makes the result unranked.
// CHECK-LABEL: func.func @unranked
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<*xf32>, tensor<3xf32>) -> tensor<*xf32>
// CHECK: nn.sub %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<*xf32>) -> tensor<*xf32>
// CHECK: nn.mul %{{.*}}, %{{.*}} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
// CHECK: nn.div %{{.*}}, %{{.*}} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
// CHECK: nn.equal %{{.*}}, %{{.*}} : (tensor<*xf32>, tensor<3xf32>) -> tensor<*xi1>
func.func @unranked(%u: tensor<*xf32>, %v: tensor<3xf32>) {
  %0 = nn.add %u, %v : (tensor<*xf32>, tensor<3xf32>) -> tensor<*xf32>
  %1 = nn.sub %v, %u : (tensor<3xf32>, tensor<*xf32>) -> tensor<*xf32>
  %2 = nn.mul %u, %u : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %3 = nn.div %u, %u : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %4 = nn.equal %u, %v : (tensor<*xf32>, tensor<3xf32>) -> tensor<*xi1>
  return
}

// Integer and f64 element types; equal also compares i1.
// CHECK-LABEL: func.func @element_types
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
// CHECK: nn.div %{{.*}}, %{{.*}} : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
// CHECK: nn.mul %{{.*}}, %{{.*}} : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
// CHECK: nn.equal %{{.*}}, %{{.*}} : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
// CHECK: nn.equal %{{.*}}, %{{.*}} : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
func.func @element_types(%i: tensor<4xi32>, %l: tensor<4xi64>, %ls: tensor<i64>,
                         %d: tensor<2x2xf64>, %b: tensor<4xi1>) {
  %0 = nn.add %i, %i : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %1 = nn.div %l, %ls : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  %2 = nn.mul %d, %d : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
  %3 = nn.equal %b, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %4 = nn.equal %l, %ls : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
  return
}

// A declared result type only has to be compatible with the inferred one:
// `?` may stand for a known size and a known size may refine a `?`.
// CHECK-LABEL: func.func @compatible_result
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
// CHECK: nn.add %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<8x3xf32>
func.func @compatible_result(%m: tensor<2x3xf32>, %v: tensor<3xf32>, %a: tensor<?x3xf32>) {
  %0 = nn.add %m, %v : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %1 = nn.add %a, %v : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<8x3xf32>
  return
}
