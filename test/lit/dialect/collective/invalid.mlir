// RUN: nncc-opt %s -split-input-file -verify-diagnostics

// Every error of nn.all_reduce's verifier.

func.func @f(%x: tensor<2xf32>) {
  // expected-error @+1 {{'nn.all_reduce' op unknown reduction 'max' (expected sum or mean)}}
  %r = nn.all_reduce "max" %x : tensor<2xf32>
  return
}

// -----

func.func @f(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{'nn.all_reduce' op value 0 has type 'tensor<?x3xf32>'; a bucket holds tensors of static shape}}
  %r = nn.all_reduce "mean" %x : tensor<?x3xf32>
  return
}

// -----

func.func @f(%x: tensor<2xf32>, %y: tensor<3xf64>) {
  // expected-error @+1 {{'nn.all_reduce' op value 1 has element type 'f64', value 0 'f32'; a bucket holds one element type}}
  %r:2 = nn.all_reduce "sum" %x, %y : tensor<2xf32>, tensor<3xf64>
  return
}

// -----

func.func @f(%x: tensor<2xi32>) {
  // expected-error @+1 {{'nn.all_reduce' op operand #0 must be variadic of tensor of 32-bit float or 64-bit float values, but got 'tensor<2xi32>'}}
  %r = nn.all_reduce "sum" %x : tensor<2xi32>
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{'nn.all_reduce' op needs at least one value to reduce}}
  "nn.all_reduce"() {reduction = "sum"} : () -> ()
  return
}
