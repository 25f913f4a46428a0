// RUN: nncc-opt %s --split-input-file --nn-cpu-fuse-elementwise | FileCheck %s

// The reshapes around a product stay: the product keeps its named 2-D form
// (linalg's own pass would fold the collapse into an 8-loop generic).
// CHECK-LABEL: func.func @product_keeps_its_reshapes
// CHECK: tensor.collapse_shape
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x18xf32>, tensor<18x4xf32>)
// CHECK: tensor.expand_shape
// The elementwise consumer of the expanded product still fuses with the
// elementwise op before it.
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
// CHECK: return
#id6 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#bias = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @product_keeps_its_reshapes(%x: tensor<?x4x5x3x3x2xf32>, %f: tensor<18x4xf32>, %b: tensor<4xf32>, %n: index) -> tensor<?x4x5x4xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty(%n) : tensor<?x4x5x3x3x2xf32>
  %w = linalg.generic {indexing_maps = [#id6, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<?x4x5x3x3x2xf32>) outs(%e : tensor<?x4x5x3x3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<?x4x5x3x3x2xf32>
  %c = tensor.collapse_shape %w [[0, 1, 2], [3, 4, 5]] : tensor<?x4x5x3x3x2xf32> into tensor<?x18xf32>
  %m = arith.muli %n, %n : index
  %e2 = tensor.empty(%m) : tensor<?x4xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e2 : tensor<?x4xf32>) -> tensor<?x4xf32>
  %p = linalg.matmul ins(%c, %f : tensor<?x18xf32>, tensor<18x4xf32>) outs(%z : tensor<?x4xf32>) -> tensor<?x4xf32>
  %y = tensor.expand_shape %p [[0, 1, 2], [3]] output_shape [%n, 4, 5, 4] : tensor<?x4xf32> into tensor<?x4x5x4xf32>
  %e3 = tensor.empty(%n) : tensor<?x4x5x4xf32>
  %s = linalg.generic {indexing_maps = [#id4, #bias, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y, %b : tensor<?x4x5x4xf32>, tensor<4xf32>) outs(%e3 : tensor<?x4x5x4xf32>) {
  ^bb0(%in: f32, %bb: f32, %out: f32):
    %a = arith.addf %in, %bb : f32
    linalg.yield %a : f32
  } -> tensor<?x4x5x4xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<?x4x5x4xf32>) outs(%e3 : tensor<?x4x5x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m2 = arith.maximumf %in, %cst : f32
    linalg.yield %m2 : f32
  } -> tensor<?x4x5x4xf32>
  return %r : tensor<?x4x5x4xf32>
}

// -----

// A window product (nncc.window_product) keeps its operands: the turned
// filter feeding it is not fused in.
// CHECK-LABEL: func.func @window_product_keeps_its_operands
// CHECK: %[[TURNED:.*]] = linalg.generic
// CHECK: linalg.generic {{.*}} ins(%[[TURNED]], %arg1 : {{.*}}) {{.*}} attrs = {nncc.window_product
#turn = affine_map<(d0, d1, d2, d3) -> (-d0 + 2, -d1 + 2, d3, d2)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#f7 = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d3)>
#x7 = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d6)>
#y7 = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @window_product_keeps_its_operands(%f: tensor<3x3x2x4xf32>, %x: tensor<1x6x6x4xf32>) -> tensor<1x4x4x2xf32> {
  %e = tensor.empty() : tensor<3x3x4x2xf32>
  %t = linalg.generic {indexing_maps = [#turn, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%f : tensor<3x3x2x4xf32>) outs(%e : tensor<3x3x4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<3x3x4x2xf32>
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<1x4x4x2xf32>
  %init = linalg.fill ins(%z : f32) outs(%e2 : tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  %y = linalg.generic {indexing_maps = [#f7, #x7, #y7], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%t, %x : tensor<3x3x4x2xf32>, tensor<1x6x6x4xf32>) outs(%init : tensor<1x4x4x2xf32>) attrs = {nncc.window_product = array<i64: 0, 1, 1, 1, 1>} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %b, %a : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

// -----

// A fused body stays within max-body-ops: a chain of four tanh (two ops a
// body with its yield) fuses in pairs at 4, and whole at the default.
// RUN: nncc-opt %s --split-input-file --nn-cpu-fuse-elementwise=max-body-ops=4 | FileCheck %s --check-prefix=BOUNDED
// BOUNDED-LABEL: func.func @tanh_chain
// BOUNDED: linalg.generic
// BOUNDED-COUNT-2: math.tanh
// BOUNDED: linalg.yield
// BOUNDED: linalg.generic
// BOUNDED-COUNT-2: math.tanh
// BOUNDED: linalg.yield
// BOUNDED-NOT: math.tanh
// CHECK-LABEL: func.func @tanh_chain
// CHECK: linalg.generic
// CHECK-COUNT-4: math.tanh
// CHECK-NOT: linalg.generic
#v = affine_map<(d0) -> (d0)>
func.func @tanh_chain(%x: tensor<64xf32>) -> tensor<64xf32> {
  %e = tensor.empty() : tensor<64xf32>
  %a = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%x : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<64xf32>
  %b = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%a : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<64xf32>
  %c = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%b : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<64xf32>
  %d = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%c : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<64xf32>
  return %d : tensor<64xf32>
}
