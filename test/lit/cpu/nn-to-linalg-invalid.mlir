// RUN: nncc-opt %s --nn-to-linalg --verify-diagnostics

// The CPU backend needs ranks; the message says how to give one.
func.func @unranked(%x: tensor<*xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.reduce_sum' op has a tensor of unknown rank; the CPU backend needs every rank known (give the placeholder a shape, with -1 for unknown sizes)}}
  %0 = nn.reduce_sum %x : tensor<*xf32> -> tensor<f32>
  return %0 : tensor<f32>
}
