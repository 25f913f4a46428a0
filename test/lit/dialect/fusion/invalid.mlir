// RUN: nncc-opt %s -split-input-file -verify-diagnostics

// Every error of the nn.fusion verifier.

func.func @kind(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'nn.fusion' op kind must be elementwise, reduction or matmul, got 'loop'}}
  %0 = nn.fusion "loop"(%x) : (tensor<3xf32>) -> tensor<3xf32> {
  ^bb0(%a: tensor<3xf32>):
    nn.yield %a : tensor<3xf32>
  }
  return %0 : tensor<3xf32>
}

// -----

func.func @arguments(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'nn.fusion' op has 1 inputs but its body takes 2 arguments}}
  %0 = nn.fusion "elementwise"(%x) : (tensor<3xf32>) -> tensor<3xf32> {
  ^bb0(%a: tensor<3xf32>, %b: tensor<3xf32>):
    nn.yield %a : tensor<3xf32>
  }
  return %0 : tensor<3xf32>
}

// -----

func.func @argument_type(%x: tensor<3xf32>) -> tensor<3xf64> {
  // expected-error @+1 {{'nn.fusion' op input 0 is 'tensor<3xf32>' but the body's argument 0 is 'tensor<3xf64>'}}
  %0 = nn.fusion "elementwise"(%x) : (tensor<3xf32>) -> tensor<3xf64> {
  ^bb0(%a: tensor<3xf64>):
    nn.yield %a : tensor<3xf64>
  }
  return %0 : tensor<3xf64>
}

// -----

func.func @yield_count(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'nn.fusion' op yields 2 values for 1 results}}
  %0 = nn.fusion "elementwise"(%x) : (tensor<3xf32>) -> tensor<3xf32> {
  ^bb0(%a: tensor<3xf32>):
    nn.yield %a, %a : tensor<3xf32>, tensor<3xf32>
  }
  return %0 : tensor<3xf32>
}

// -----

func.func @yield_type(%x: tensor<3xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'nn.fusion' op result 0 is 'tensor<?xf32>' but the body yields 'tensor<3xf32>'}}
  %0 = nn.fusion "elementwise"(%x) : (tensor<3xf32>) -> tensor<?xf32> {
  ^bb0(%a: tensor<3xf32>):
    nn.yield %a : tensor<3xf32>
  }
  return %0 : tensor<?xf32>
}

// -----

func.func @no_product(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'nn.fusion' op of kind matmul must hold exactly one contraction (nn.matmul, nn.conv2d)}}
  %0 = nn.fusion "matmul"(%x) : (tensor<3xf32>) -> tensor<3xf32> {
  ^bb0(%a: tensor<3xf32>):
    nn.yield %a : tensor<3xf32>
  }
  return %0 : tensor<3xf32>
}

// -----

func.func @isolated(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = nn.fusion "elementwise"() : () -> tensor<3xf32> {
    // expected-error @+1 {{'nn.neg' op using value defined outside the region}}
    %1 = nn.neg %x : tensor<3xf32> -> tensor<3xf32>
    nn.yield %1 : tensor<3xf32>
  }
  return %0 : tensor<3xf32>
}
