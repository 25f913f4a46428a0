// RUN: nncc-opt %s -split-input-file -verify-diagnostics

// Errors of maximum, minimum, pow, less, the logical ops, select and the
// new unary ops.

func.func @maximum_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.maximum' op cannot broadcast 'tensor<2x3xf32>' with 'tensor<4xf32>': dimension -1 is 3 vs 4}}
  %0 = nn.maximum %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @minimum_bool(%a: tensor<3xi1>) {
  // The operand and result constraints are checked before the inference
  // (which, for the graph importer, says "expects numeric operands").
  // expected-error @+1 {{'nn.minimum' op result #0 must be tensor of 32-bit float or 64-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<3xi1>'}}
  %0 = nn.minimum %a, %a : (tensor<3xi1>, tensor<3xi1>) -> tensor<3xi1>
  return
}

// -----

func.func @pow_integers(%a: tensor<3xi32>) {
  // expected-error @+1 {{'nn.pow' op result #0 must be tensor of 32-bit float or 64-bit float values, but got 'tensor<3xi32>'}}
  %0 = nn.pow %a, %a : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return
}

// -----

func.func @less_mixed(%a: tensor<3xf32>, %b: tensor<3xi32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.less' op operands have different element types: 'f32' and 'i32' (convert one with nn.cast)}}
  %0 = nn.less %a, %b : (tensor<3xf32>, tensor<3xi32>) -> tensor<3xi1>
  return
}

// -----

func.func @logical_and_floats(%a: tensor<3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.logical_and' op expects i1 operands, got 'f32'}}
  %0 = nn.logical_and %a, %a : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  return
}

// -----

func.func @select_cond_not_i1(%c: tensor<3xf32>, %a: tensor<3xf32>) {
  // expected-error @+1 {{'nn.select' op operand #0 must be tensor of 1-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = nn.select %c, %a, %a : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @select_mixed(%c: tensor<3xi1>, %a: tensor<3xf32>, %b: tensor<3xf64>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.select' op a and b have different element types: 'f32' and 'f64' (convert one with nn.cast)}}
  %0 = nn.select %c, %a, %b : (tensor<3xi1>, tensor<3xf32>, tensor<3xf64>) -> tensor<3xf32>
  return
}

// -----

func.func @select_broadcast(%c: tensor<4xi1>, %a: tensor<3xf32>) {
  // expected-error @+2 {{failed to infer returned types}}
  // expected-error @+1 {{'nn.select' op cannot broadcast 'tensor<4xi1>' with 'tensor<3xf32>': dimension -1 is 4 vs 3}}
  %0 = nn.select %c, %a, %a : (tensor<4xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @sin_integers(%a: tensor<3xi32>) {
  // expected-error @+1 {{'nn.sin' op operand #0 must be tensor of 32-bit float or 64-bit float values}}
  %0 = nn.sin %a : tensor<3xi32> -> tensor<3xi32>
  return
}

// -----

func.func @logical_not_floats(%a: tensor<3xf32>) {
  // expected-error @+1 {{'nn.logical_not' op operand #0 must be tensor of 1-bit signless integer values}}
  %0 = nn.logical_not %a : tensor<3xf32> -> tensor<3xf32>
  return
}
