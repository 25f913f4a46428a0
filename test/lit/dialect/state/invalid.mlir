// RUN: nncc-opt %s -split-input-file -verify-diagnostics

// Every error of the variable verifier and of the symbol uses.

// expected-error @+1 {{'nn.variable' op unknown initializer 'he_normal' (expected zeros, ones, constant, glorot_uniform, random_normal or random_uniform)}}
nn.variable @w : tensor<2xf32> {initializer = "he_normal"}

// -----

// expected-error @+1 {{'nn.variable' op initializer 'glorot_uniform' needs a float variable, got 'tensor<4x4xi32>'}}
nn.variable @w : tensor<4x4xi32> {initializer = "glorot_uniform"}

// -----

// expected-error @+1 {{'nn.variable' op initializer 'random_uniform' needs a float variable, got 'tensor<4xi64>'}}
nn.variable @w : tensor<4xi64> {initializer = "random_uniform"}

// -----

// expected-error @+1 {{'nn.variable' op initializer 'constant' needs a 'value'}}
nn.variable @w : tensor<2xf32> {initializer = "constant"}

// -----

// expected-error @+1 {{'nn.variable' op value element type 'f64' differs from the variable's 'f32'}}
nn.variable @w : tensor<2xf32> {initializer = "constant", value = dense<1.0> : tensor<2xf64>}

// -----

// expected-error @+1 {{'nn.variable' op value of type 'tensor<3xf32>' does not fit the variable's type 'tensor<2xf32>' (give every element or a single one)}}
nn.variable @w : tensor<2xf32> {initializer = "constant", value = dense<1.0> : tensor<3xf32>}

// -----

// The same elements in another shape do not fit either.
// expected-error @+1 {{'nn.variable' op value of type 'tensor<3x2xf32>' does not fit the variable's type 'tensor<2x3xf32>' (give every element or a single one)}}
nn.variable @w : tensor<2x3xf32> {initializer = "constant", value = dense<1.0> : tensor<3x2xf32>}

// -----

// expected-error @+1 {{'nn.variable' op 'value' is only used by the 'constant' initializer, not 'zeros'}}
nn.variable @w : tensor<2xf32> {initializer = "zeros", value = dense<1.0> : tensor<2xf32>}

// -----

// expected-error @+1 {{'nn.variable' op glorot_uniform needs a variable of rank >= 1, got 'tensor<f32>'}}
nn.variable @w : tensor<f32> {initializer = "glorot_uniform"}

// -----

// expected-error @+1 {{'nn.variable' op random_normal needs stddev > 0}}
nn.variable @w : tensor<2xf32> {initializer = "random_normal", stddev = 0.0 : f32}

// -----

// expected-error @+1 {{'nn.variable' op random_uniform needs minval < maxval}}
nn.variable @w : tensor<2xf32> {initializer = "random_uniform", minval = 1.0 : f32, maxval = 1.0 : f32}

// -----

func.func @read_unknown() {
  // expected-error @+1 {{'nn.read_variable' op reads unknown variable @missing}}
  %0 = nn.read_variable @missing : tensor<2xf32>
  return
}

// -----

// A symbol that is not a variable is not found either.
func.func @read_function() {
  // expected-error @+1 {{'nn.read_variable' op reads unknown variable @read_function}}
  %0 = nn.read_variable @read_function : tensor<2xf32>
  return
}

// -----

nn.variable @w : tensor<2x3xf32> {initializer = "zeros"}
func.func @read_wrong_type() {
  // expected-error @+1 {{'nn.read_variable' op reads variable @w of type 'tensor<2x3xf32>' as 'tensor<3x2xf32>'}}
  %0 = nn.read_variable @w : tensor<3x2xf32>
  return
}

// -----

func.func @assign_unknown(%v: tensor<2xf32>) {
  // expected-error @+1 {{'nn.assign_variable' op assigns unknown variable @missing}}
  nn.assign_variable @missing, %v : tensor<2xf32>
  return
}

// -----

// The assigned value must have the variable's exact type: no `?`.
nn.variable @w : tensor<2xf32> {initializer = "zeros"}
func.func @assign_wrong_type(%v: tensor<?xf32>) {
  // expected-error @+1 {{'nn.assign_variable' op assigns variable @w of type 'tensor<2xf32>' as 'tensor<?xf32>'}}
  nn.assign_variable @w, %v : tensor<?xf32>
  return
}
