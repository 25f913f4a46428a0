// RUN: not nncc-opt %s --split-input-file --nn-cpu-loops 2>&1 | FileCheck %s

// A loop whose step fetches more than a scalar, a malformed description.
// CHECK: error: loop signature 'epoch': the step's fetch 'rows' is not a scalar
module attributes {nn.loops = [{name = "epoch", step = "predict", steps = 3 : i64}]} {
  func.func @predict(%x: tensor<?x2xf32>) -> tensor<?x2xf32>
      attributes {nn.feeds = ["x"], nn.fetches = ["rows"], nn.variables = [], nn.updates = []} {
    return %x : tensor<?x2xf32>
  }
}

// -----

// CHECK: error: nn.loops holds {name = "epoch", steps = 0 : i64}, not a {name, step, steps >= 1} dictionary
module attributes {nn.loops = [{name = "epoch", steps = 0 : i64}]} {
}
