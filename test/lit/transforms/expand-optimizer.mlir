// RUN: nncc-opt %s --split-input-file --nn-expand-optimizer | FileCheck %s

// Plain SGD, as the importer writes E3: the loss gets nn.gradients with
// respect to every trainable variable it reads, each variable w -= lr * g,
// and the signature's iteration counter (a frozen i64 variable) counts up.
// A signature without nn.loss is left alone.
// CHECK-LABEL: module @plain
// CHECK: func.func @train
// CHECK: %[[W:.*]] = nn.read_variable @weight : tensor<1xf32>
// CHECK: %[[B:.*]] = nn.read_variable @bias : tensor<1xf32>
// CHECK: %[[LOSS:.*]] = nn.reduce_mean
// CHECK: %[[G:.*]]:2 = nn.gradients %[[LOSS]] wrt %[[W]], %[[B]] : tensor<f32>, (tensor<1xf32>, tensor<1xf32>) -> (tensor<1xf32>, tensor<1xf32>)
// CHECK: %[[IT:.*]] = nn.read_variable @"train/iterations" : tensor<i64>
// CHECK: %[[LR:.*]] = nn.constant dense<0.00999999977> : tensor<f32>
// CHECK: %[[SW:.*]] = nn.mul %[[LR]], %[[G]]#0
// CHECK: %[[NW:.*]] = nn.sub %[[W]], %[[SW]]
// CHECK: nn.assign_variable @weight, %[[NW]] : tensor<1xf32>
// CHECK: %[[SB:.*]] = nn.mul %[[LR]], %[[G]]#1
// CHECK: %[[NB:.*]] = nn.sub %[[B]], %[[SB]]
// CHECK: nn.assign_variable @bias, %[[NB]] : tensor<1xf32>
// CHECK: %[[ONE:.*]] = nn.constant dense<1> : tensor<i64>
// CHECK: %[[NEXT:.*]] = nn.add %[[IT]], %[[ONE]]
// CHECK: nn.assign_variable @"train/iterations", %[[NEXT]] : tensor<i64>
// CHECK: return %[[LOSS]]
// CHECK: func.func @predict
// CHECK-NOT: nn.gradients
// CHECK-NOT: nn.assign_variable
// CHECK: nn.variable @"train/iterations" : tensor<i64> {frozen, initializer = "zeros"}
// CHECK-NOT: momentum
module @plain {
  nn.variable @weight : tensor<1xf32> {initializer = "zeros"}
  nn.variable @bias : tensor<1xf32> {initializer = "zeros"}
  func.func @train(%x: tensor<?x1xf32>, %t: tensor<?xf32>) -> tensor<f32> attributes {nn.feeds = ["X", "y"], nn.fetches = ["mean_cost"], nn.loss = "mean_cost", nn.optimizer = {decay = 0.0 : f32, kind = "sgd", learning_rate = 0.01 : f32, momentum = 0.0 : f32, nesterov = false}} {
    %w = nn.read_variable @weight : tensor<1xf32>
    %0 = nn.mul %w, %x : (tensor<1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32>
    %b = nn.read_variable @bias : tensor<1xf32>
    %1 = nn.add %0, %b : (tensor<?x1xf32>, tensor<1xf32>) -> tensor<?x1xf32>
    %2 = nn.squeeze %1 {axes = array<i64: 1>} : tensor<?x1xf32> -> tensor<?xf32>
    %3 = nn.sub %t, %2 : (tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>
    %4 = nn.square %3 : tensor<?xf32> -> tensor<?xf32>
    %5 = nn.reduce_mean %4 : tensor<?xf32> -> tensor<f32>
    return %5 : tensor<f32>
  }
  func.func @predict(%x: tensor<?x1xf32>) -> tensor<?x1xf32> attributes {nn.feeds = ["X"], nn.fetches = ["z"]} {
    %w = nn.read_variable @weight : tensor<1xf32>
    %0 = nn.mul %w, %x : (tensor<1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32>
    return %0 : tensor<?x1xf32>
  }
}

// -----

// Momentum: a zero-initialized frozen slot "<signature>/<var>/momentum",
// v = m * v - lr * g, w += v. The loss is found among several fetches, and
// frozen variables are read but not trained.
// CHECK-LABEL: module @momentum
// CHECK: %[[W:.*]] = nn.read_variable @weight : tensor<2xf32>
// CHECK: %[[LOSS:.*]] = nn.reduce_sum
// CHECK: %[[G:.*]] = nn.gradients %[[LOSS]] wrt %[[W]] : tensor<f32>, (tensor<2xf32>) -> tensor<2xf32>
// CHECK: %[[LR:.*]] = nn.constant dense<0.00999999977> : tensor<f32>
// CHECK: %[[STEP:.*]] = nn.mul %[[LR]], %[[G]]
// CHECK: %[[V:.*]] = nn.read_variable @"train/weight/momentum" : tensor<2xf32>
// CHECK: %[[M:.*]] = nn.constant dense<0.899999976> : tensor<f32>
// CHECK: %[[MV:.*]] = nn.mul %[[M]], %[[V]]
// CHECK: %[[V2:.*]] = nn.sub %[[MV]], %[[STEP]]
// CHECK: nn.assign_variable @"train/weight/momentum", %[[V2]] : tensor<2xf32>
// CHECK: %[[NW:.*]] = nn.add %[[W]], %[[V2]]
// CHECK: nn.assign_variable @weight, %[[NW]] : tensor<2xf32>
// CHECK-NOT: nn.assign_variable @scale
// CHECK: nn.assign_variable @"train/iterations"
// CHECK: nn.variable @"train/iterations" : tensor<i64> {frozen, initializer = "zeros"}
// CHECK: nn.variable @"train/weight/momentum" : tensor<2xf32> {frozen, initializer = "zeros"}
// CHECK-NOT: nn.variable
module @momentum {
  nn.variable @weight : tensor<2xf32> {initializer = "zeros"}
  nn.variable @scale : tensor<f32> {frozen, initializer = "ones"}
  func.func @train(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<f32>) attributes {nn.feeds = ["x"], nn.fetches = ["wx", "cost"], nn.loss = "cost", nn.optimizer = {decay = 0.0 : f32, kind = "sgd", learning_rate = 0.01 : f32, momentum = 0.9 : f32, nesterov = false}} {
    %w = nn.read_variable @weight : tensor<2xf32>
    %s = nn.read_variable @scale : tensor<f32>
    %0 = nn.mul %w, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %1 = nn.mul %0, %s : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
    %2 = nn.reduce_sum %1 : tensor<2xf32> -> tensor<f32>
    return %0, %2 : tensor<2xf32>, tensor<f32>
  }
}

// -----

// Nesterov with decay on an f64 variable: lr_t = lr / (1 + decay *
// iterations) in f32, cast to the variable's type; v as for momentum, then
// w += m * v - lr_t * g.
// CHECK-LABEL: module @nesterov_decay
// CHECK: %[[W:.*]] = nn.read_variable @w : tensor<3xf64>
// CHECK: %[[G:.*]] = nn.gradients %{{.*}} wrt %[[W]] : tensor<f64>, (tensor<3xf64>) -> tensor<3xf64>
// CHECK: %[[IT:.*]] = nn.read_variable @"fit/iterations" : tensor<i64>
// CHECK: %[[LR:.*]] = nn.constant dense<2.500000e-01> : tensor<f32>
// CHECK: %[[ITF:.*]] = nn.cast %[[IT]] {dtype = f32} : tensor<i64> -> tensor<f32>
// CHECK: %[[DECAY:.*]] = nn.constant dense<5.000000e-01> : tensor<f32>
// CHECK: %[[DI:.*]] = nn.mul %[[DECAY]], %[[ITF]]
// CHECK: %[[ONE:.*]] = nn.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[DEN:.*]] = nn.add %[[ONE]], %[[DI]]
// CHECK: %[[LRT:.*]] = nn.div %[[LR]], %[[DEN]]
// CHECK: %[[LR64:.*]] = nn.cast %[[LRT]] {dtype = f64} : tensor<f32> -> tensor<f64>
// CHECK: %[[STEP:.*]] = nn.mul %[[LR64]], %[[G]] : (tensor<f64>, tensor<3xf64>) -> tensor<3xf64>
// CHECK: %[[V:.*]] = nn.read_variable @"fit/w/momentum" : tensor<3xf64>
// CHECK: %[[M:.*]] = nn.constant dense<5.000000e-01> : tensor<f64>
// CHECK: %[[MV:.*]] = nn.mul %[[M]], %[[V]]
// CHECK: %[[V2:.*]] = nn.sub %[[MV]], %[[STEP]]
// CHECK: nn.assign_variable @"fit/w/momentum", %[[V2]] : tensor<3xf64>
// CHECK: %[[MV2:.*]] = nn.mul %[[M]], %[[V2]]
// CHECK: %[[DELTA:.*]] = nn.sub %[[MV2]], %[[STEP]]
// CHECK: %[[NW:.*]] = nn.add %[[W]], %[[DELTA]]
// CHECK: nn.assign_variable @w, %[[NW]] : tensor<3xf64>
// CHECK: %[[INC:.*]] = nn.constant dense<1> : tensor<i64>
// CHECK: %[[NEXT:.*]] = nn.add %[[IT]], %[[INC]]
// CHECK: nn.assign_variable @"fit/iterations", %[[NEXT]] : tensor<i64>
// CHECK: nn.variable @"fit/iterations" : tensor<i64> {frozen, initializer = "zeros"}
// CHECK: nn.variable @"fit/w/momentum" : tensor<3xf64> {frozen, initializer = "zeros"}
module @nesterov_decay {
  nn.variable @w : tensor<3xf64> {initializer = "ones"}
  func.func @fit(%x: tensor<3xf64>) -> tensor<f64> attributes {nn.feeds = ["x"], nn.fetches = ["loss"], nn.loss = "loss", nn.optimizer = {decay = 0.5 : f32, kind = "sgd", learning_rate = 0.25 : f32, momentum = 0.5 : f32, nesterov = true}} {
    %w = nn.read_variable @w : tensor<3xf64>
    %0 = nn.mul %w, %x : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
    %1 = nn.reduce_sum %0 : tensor<3xf64> -> tensor<f64>
    return %1 : tensor<f64>
  }
}

// -----

// Adam: the bias-corrected rate in f64 (beta^t as exp(t log beta), t the
// iteration count plus one), m and v moving averages of g and g * g, then
// w -= lr_t * m / (sqrt(v) + epsilon); the settings left out are Keras'.
// CHECK-LABEL: module @adam
// CHECK: %[[W:.*]] = nn.read_variable @w : tensor<3xf32>
// CHECK: %[[G:.*]] = nn.gradients %{{.*}} wrt %[[W]]
// CHECK: %[[IT:.*]] = nn.read_variable @"train/iterations" : tensor<i64>
// CHECK: %[[T0:.*]] = nn.cast %[[IT]] {dtype = f64} : tensor<i64> -> tensor<f64>
// CHECK: %[[T:.*]] = nn.add %[[T0]], %{{.*}} : (tensor<f64>, tensor<f64>) -> tensor<f64>
// CHECK: nn.constant dense<-0.10536{{[0-9]*}}> : tensor<f64>
// CHECK: nn.exp
// CHECK: nn.constant dense<-0.0010004{{[0-9]*}}> : tensor<f64>
// CHECK: nn.exp
// CHECK: %[[ROOT:.*]] = nn.sqrt %{{.*}} : tensor<f64> -> tensor<f64>
// CHECK: %[[CORR:.*]] = nn.div %[[ROOT]], %{{.*}} : (tensor<f64>, tensor<f64>) -> tensor<f64>
// CHECK: %[[LRT:.*]] = nn.mul %{{.*}}, %[[CORR]] : (tensor<f64>, tensor<f64>) -> tensor<f64>
// CHECK: %[[R:.*]] = nn.cast %[[LRT]] {dtype = f32} : tensor<f64> -> tensor<f32>
// CHECK: nn.read_variable @"train/w/m" : tensor<3xf32>
// CHECK: %[[M:.*]] = nn.add
// CHECK: nn.assign_variable @"train/w/m", %[[M]] : tensor<3xf32>
// CHECK: %[[GG:.*]] = nn.mul %[[G]], %[[G]]
// CHECK: nn.read_variable @"train/w/v" : tensor<3xf32>
// CHECK: %[[V:.*]] = nn.add
// CHECK: nn.assign_variable @"train/w/v", %[[V]] : tensor<3xf32>
// CHECK: %[[SV:.*]] = nn.sqrt %[[V]] : tensor<3xf32> -> tensor<3xf32>
// CHECK: %[[EPS:.*]] = nn.constant dense<1.000000e-07> : tensor<f32>
// CHECK: %[[DEN:.*]] = nn.add %[[SV]], %[[EPS]]
// CHECK: %[[Q:.*]] = nn.div %[[M]], %[[DEN]]
// CHECK: %[[STEP:.*]] = nn.mul %[[R]], %[[Q]]
// CHECK: %[[NW:.*]] = nn.sub %[[W]], %[[STEP]]
// CHECK: nn.assign_variable @w, %[[NW]] : tensor<3xf32>
// CHECK: nn.variable @"train/w/m" : tensor<3xf32> {frozen, initializer = "zeros"}
// CHECK: nn.variable @"train/w/v" : tensor<3xf32> {frozen, initializer = "zeros"}
module @adam {
  nn.variable @w : tensor<3xf32> {initializer = "ones"}
  func.func @train(%x: tensor<3xf32>) -> tensor<f32> attributes {nn.feeds = ["x"], nn.fetches = ["loss"], nn.loss = "loss", nn.optimizer = {kind = "adam", learning_rate = 0.01 : f32}} {
    %w = nn.read_variable @w : tensor<3xf32>
    %0 = nn.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %1 = nn.reduce_sum %0 : tensor<3xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
}

// -----

// RMSprop with momentum: a = rho * a + (1 - rho) * g * g, then TF's
// mom = momentum * mom + lr_t * g / sqrt(a + epsilon) and w -= mom.
// CHECK-LABEL: module @rmsprop
// CHECK: %[[W:.*]] = nn.read_variable @w : tensor<3xf32>
// CHECK: %[[G:.*]] = nn.gradients %{{.*}} wrt %[[W]]
// CHECK: %[[GG:.*]] = nn.mul %[[G]], %[[G]]
// CHECK: nn.read_variable @"train/w/rms" : tensor<3xf32>
// CHECK: %[[A:.*]] = nn.add
// CHECK: nn.assign_variable @"train/w/rms", %[[A]] : tensor<3xf32>
// CHECK: %[[MOM:.*]] = nn.read_variable @"train/w/momentum" : tensor<3xf32>
// CHECK: %[[AE:.*]] = nn.add %[[A]], %{{.*}}
// CHECK: %[[ROOT:.*]] = nn.sqrt %[[AE]]
// CHECK: %[[NMOM:.*]] = nn.add
// CHECK: nn.assign_variable @"train/w/momentum", %[[NMOM]] : tensor<3xf32>
// CHECK: %[[NW:.*]] = nn.sub %[[W]], %[[NMOM]]
// CHECK: nn.assign_variable @w, %[[NW]] : tensor<3xf32>
module @rmsprop {
  nn.variable @w : tensor<3xf32> {initializer = "ones"}
  func.func @train(%x: tensor<3xf32>) -> tensor<f32> attributes {nn.feeds = ["x"], nn.fetches = ["loss"], nn.loss = "loss", nn.optimizer = {kind = "rmsprop", learning_rate = 0.01 : f32, momentum = 0.5 : f32, rho = 0.8 : f32, epsilon = 1.0e-4 : f32}} {
    %w = nn.read_variable @w : tensor<3xf32>
    %0 = nn.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %1 = nn.reduce_sum %0 : tensor<3xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
}
