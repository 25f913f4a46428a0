// RUN: nncc-opt %s --split-input-file --nn-to-linalg | FileCheck %s --check-prefix=PRODUCTS

// conv2d as a product of its windows: one generic over (n, oh, ow, f) with
// the window (kh, kw, c) as reductions that reads the images through an
// affine map only (SAME: the padding written out as zeros first), marked
// for the product kernels (nncc.window_product: form 0, strides,
// dilations).
// PRODUCTS-DAG: #[[FILTER:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d3)>
// PRODUCTS-DAG: #[[STRIDED:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 2 + d4, d2 + d5 * 2, d6)>
// PRODUCTS-DAG: #[[PLAIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d6)>
// PRODUCTS-LABEL: func.func @conv2d
// PRODUCTS: linalg.generic {indexing_maps = [#[[FILTER]], #[[STRIDED]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%arg1, %arg0 : tensor<3x3x2x4xf32>, tensor<?x9x9x2xf32>) outs(%{{.*}} : tensor<?x4x5x4xf32>) attrs = {nncc.window_product = array<i64: 0, 2, 1, 1, 2>}
// PRODUCTS: arith.mulf
// PRODUCTS: arith.addf
// PRODUCTS: %[[PADDED:.*]] = tensor.insert_slice %arg0 into %{{.*}}[0, 1, 1, 0] [%{{.*}}, 9, 9, 2] [1, 1, 1, 1] : tensor<?x9x9x2xf32> into tensor<?x11x11x2xf32>
// PRODUCTS: linalg.generic {indexing_maps = [#[[FILTER]], #[[PLAIN]], #{{.*}}]{{.*}} ins(%arg1, %[[PADDED]] : {{.*}}) outs(%{{.*}} : tensor<?x9x9x4xf32>) attrs = {nncc.window_product = array<i64: 0, 1, 1, 1, 1>}
// PRODUCTS-NOT: tensor.extract
func.func @conv2d(%x: tensor<?x9x9x2xf32>, %f: tensor<3x3x2x4xf32>) -> (tensor<?x4x5x4xf32>, tensor<?x9x9x4xf32>) {
  %0 = nn.conv2d %x, %f {strides = array<i64: 2, 1>, dilations = array<i64: 1, 2>} : (tensor<?x9x9x2xf32>, tensor<3x3x2x4xf32>) -> tensor<?x4x5x4xf32>
  %1 = nn.conv2d %x, %f {padding = "SAME"} : (tensor<?x9x9x2xf32>, tensor<3x3x2x4xf32>) -> tensor<?x9x9x4xf32>
  return %0, %1 : tensor<?x4x5x4xf32>, tensor<?x9x9x4xf32>
}

// -----

// The gradients, 7x8 images, a 2x4 filter, strides 2x3, SAME (rows padded
// 0 before and 1 after, columns 1 and 1). The images' gradient: dy spread
// by the strides into zeros, placed at (KH - 1 - top, KW - 1 - left) =
// (1, 2), and its window product of stride 1 with the filter turned by 180
// degrees, [KH, KW, F, C]. The filter's gradient: the window product of
// form 1 (loops kh, kw, c, f | n, oh, ow) of the padded x with dy.
// PRODUCTS-DAG: #[[TURN:.*]] = affine_map<(d0, d1, d2, d3) -> (-d0 + 1, -d1 + 3, d3, d2)>
// PRODUCTS-DAG: #[[CELLS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5 * 2 + d0, d6 * 3 + d1, d2)>
// PRODUCTS-LABEL: func.func @gradients
// PRODUCTS: %[[SPREAD:.*]] = tensor.insert_slice %arg1 into %{{.*}}[0, 1, 2, 0] [%{{.*}}, 4, 3, 4] [1, 2, 3, 1] : tensor<?x4x3x4xf32> into tensor<?x8x11x4xf32>
// PRODUCTS: %[[TURNED:.*]] = linalg.generic {indexing_maps = [#[[TURN]], #{{.*}}]{{.*}} ins(%arg2 : tensor<2x4x2x4xf32>) outs(%{{.*}} : tensor<2x4x4x2xf32>)
// PRODUCTS: linalg.generic {{.*}} ins(%[[TURNED]], %[[SPREAD]] : tensor<2x4x4x2xf32>, tensor<?x8x11x4xf32>) outs(%{{.*}} : tensor<?x7x8x2xf32>) attrs = {nncc.window_product = array<i64: 0, 1, 1, 1, 1>}
// PRODUCTS: %[[PADDED:.*]] = tensor.insert_slice %arg0 into %{{.*}}[0, 0, 1, 0] [%{{.*}}, 7, 8, 2] [1, 1, 1, 1] : tensor<?x7x8x2xf32> into tensor<?x8x10x2xf32>
// PRODUCTS: linalg.generic {indexing_maps = [#{{.*}}, #[[CELLS]], #{{.*}}]{{.*}} ins(%arg1, %[[PADDED]] : tensor<?x4x3x4xf32>, tensor<?x8x10x2xf32>) outs(%{{.*}} : tensor<2x4x2x4xf32>) attrs = {nncc.window_product = array<i64: 1, 2, 3, 1, 1>}
func.func @gradients(%x: tensor<?x7x8x2xf32>, %dy: tensor<?x4x3x4xf32>, %f: tensor<2x4x2x4xf32>) -> (tensor<?x7x8x2xf32>, tensor<2x4x2x4xf32>) {
  %dx = nn.conv2d_backprop_input %dy, %f {input_size = array<i64: 7, 8>, strides = array<i64: 2, 3>, padding = "SAME"} : (tensor<?x4x3x4xf32>, tensor<2x4x2x4xf32>) -> tensor<?x7x8x2xf32>
  %df = nn.conv2d_backprop_filter %x, %dy {filter_size = array<i64: 2, 4>, strides = array<i64: 2, 3>, padding = "SAME"} : (tensor<?x7x8x2xf32>, tensor<?x4x3x4xf32>) -> tensor<2x4x2x4xf32>
  return %dx, %df : tensor<?x7x8x2xf32>, tensor<2x4x2x4xf32>
}

// -----

// max_pool_grad where 2x2 windows of stride 2 tile 4x6 images: x viewed as
// [N, OH, KH, OW, KW, C], each window's first max by a reduction over (kh,
// kw) with C innermost, dy written where the window chose and zeros around
// it, all affine (no tensor.extract); the view collapsed back.
// PRODUCTS-LABEL: func.func @max_pool_grad
// PRODUCTS: tensor.expand_shape %arg0 {{\[}}[0], [1, 2], [3, 4], [5]] output_shape [%{{.*}}, 2, 2, 3, 2, 3] : tensor<?x4x6x3xf32> into tensor<?x2x2x3x2x3xf32>
// PRODUCTS: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%{{.*}}, %arg1 : tensor<?x2x2x3x2x3xf32>, tensor<?x2x3x3xf32>) outs(%{{.*}} : tensor<?x2x3x3xi64>)
// PRODUCTS: arith.minsi
// PRODUCTS-NOT: tensor.extract
// PRODUCTS: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%{{.*}}, %arg2 : tensor<?x2x3x3xi64>, tensor<?x2x3x3xf32>) outs(%{{.*}} : tensor<?x2x2x3x2x3xf32>)
// PRODUCTS: arith.select
// PRODUCTS: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2], [3, 4], [5]] : tensor<?x2x2x3x2x3xf32> into tensor<?x4x6x3xf32>
// Windows that overlap or leave a row over take the general form.
// PRODUCTS: linalg.generic
// PRODUCTS: tensor.extract
func.func @max_pool_grad(%x: tensor<?x4x6x3xf32>, %y: tensor<?x2x3x3xf32>, %dy: tensor<?x2x3x3xf32>, %y2: tensor<?x3x5x3xf32>) -> (tensor<?x4x6x3xf32>, tensor<?x4x6x3xf32>) {
  %0 = nn.max_pool_grad %x, %y, %dy {ksize = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x6x3xf32>, tensor<?x2x3x3xf32>, tensor<?x2x3x3xf32>) -> tensor<?x4x6x3xf32>
  %1 = nn.max_pool_grad %x, %y2, %y2 {ksize = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<?x4x6x3xf32>, tensor<?x3x5x3xf32>, tensor<?x3x5x3xf32>) -> tensor<?x4x6x3xf32>
  return %0, %1 : tensor<?x4x6x3xf32>, tensor<?x4x6x3xf32>
}
