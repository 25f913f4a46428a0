// RUN: nncc-opt %s -split-input-file -verify-diagnostics

// Every error of the elementwise ops' result-type inference. A failed
// inference is followed by MLIR's own "failed to infer returned types".

func.func @broadcast_mismatch(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.add' op cannot broadcast 'tensor<2x3xf32>' with 'tensor<4xf32>': dimension -1 is 3 vs 4 (sizes must be equal or one of them 1)}}
  %0 = nn.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

// The dimension is counted from the right, in the broadcast result.
func.func @broadcast_mismatch_leading(%a: tensor<2x1x3xf32>, %b: tensor<5x4x3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.equal' op cannot broadcast 'tensor<2x1x3xf32>' with 'tensor<5x4x3xf32>': dimension -3 is 2 vs 5 (sizes must be equal or one of them 1)}}
  %0 = nn.equal %a, %b : (tensor<2x1x3xf32>, tensor<5x4x3xf32>) -> tensor<5x4x3xi1>
  return
}

// -----

func.func @element_types_differ(%a: tensor<3xf32>, %b: tensor<3xf64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.mul' op operands have different element types: 'f32' and 'f64' (convert one with nn.cast)}}
  %0 = nn.mul %a, %b : (tensor<3xf32>, tensor<3xf64>) -> tensor<3xf32>
  return
}

// -----

// Arithmetic on i1 is refused (the result constraint alone would let it by).
func.func @boolean_arithmetic(%a: tensor<2xi1>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.sub' op expects numeric operands, got 'i1'}}
  %0 = nn.sub %a, %a : (tensor<2xi1>, tensor<2xi1>) -> tensor<2xf32>
  return
}

// -----

func.func @wrong_result_shape(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.div' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<3xf32>'}}
  %0 = nn.div %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @equal_wrong_result(%a: tensor<3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.equal' op inferred type(s) 'tensor<3xi1>' are incompatible with return type(s) of operation 'tensor<1xi1>'}}
  %0 = nn.equal %a, %a : (tensor<3xf32>, tensor<3xf32>) -> tensor<1xi1>
  return
}

// -----

func.func @unary_wrong_result(%a: tensor<3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.relu' op inferred type(s) 'tensor<3xf32>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  %0 = nn.relu %a : tensor<3xf32> -> tensor<4xf32>
  return
}

// -----

// Unranked operands still need the same element type.
func.func @unranked_element_types_differ(%a: tensor<*xi32>, %b: tensor<*xi64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.add' op operands have different element types: 'i32' and 'i64' (convert one with nn.cast)}}
  %0 = nn.add %a, %b : (tensor<*xi32>, tensor<*xi64>) -> tensor<*xi32>
  return
}
