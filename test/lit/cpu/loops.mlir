// RUN: nncc-opt %s --nn-cpu-loops | FileCheck %s

// A loop signature of 3 steps over @train: the dataset's feeds (all rows),
// order, first and batch, then the variables; the step's scalar fetch per
// step, the updates last. Each step gathers its rows (clamped into the
// table), a row slice each, and calls the step; its update replaces the
// variable it updates.
// CHECK-LABEL: func.func @epoch
// CHECK-SAME: (%[[X:.*]]: tensor<?x2xf32>, %[[ORDER:.*]]: tensor<?xi32>, %[[FIRST:.*]]: tensor<i32>, %[[BATCH:.*]]: tensor<i32>, %[[W:.*]]: tensor<2xf32>) -> (tensor<3xf32>, tensor<2xf32>)
// CHECK-SAME: nn.feeds = ["x", "order", "first", "batch"]
// CHECK-SAME: nn.fetches = ["loss"]
// CHECK: %[[ROWS:.*]] = tensor.dim %[[X]], %c0
// CHECK: arith.divui
// CHECK: %[[COUNT:.*]] = arith.minsi %{{.*}}, %c3
// CHECK: linalg.fill
// CHECK: %[[LOOP:.*]]:2 = scf.for %[[K:.*]] = %c0 to %[[COUNT]] step %c1 iter_args(%[[L:.*]] = %{{.*}}, %[[V:.*]] = %[[W]])
// CHECK:   %[[IDX:.*]] = tensor.extract_slice %[[ORDER]]
// CHECK:   tensor.empty
// CHECK:   %[[B:.*]] = scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<?x2xf32>)
// CHECK:     tensor.extract %[[IDX]][%[[I]]]
// CHECK:     arith.maxsi
// CHECK:     %[[ROW:.*]] = arith.minsi
// CHECK:     %[[SRC:.*]] = tensor.extract_slice %[[X]][%[[ROW]], 0] [1, 2] [1, 1] : tensor<?x2xf32> to tensor<2xf32>
// CHECK:     tensor.insert_slice %[[SRC]] into %[[ACC]][%[[I]], 0] [1, 2] [1, 1]
// CHECK:   %[[R:.*]]:2 = func.call @train(%[[B]], %[[V]])
// CHECK:   %[[S:.*]] = tensor.extract %[[R]]#0[]
// CHECK:   %[[L2:.*]] = tensor.insert %[[S]] into %[[L]][%[[K]]]
// CHECK:   scf.yield %[[L2]], %[[R]]#1
// CHECK: return %[[LOOP]]#0, %[[LOOP]]#1
// CHECK-NOT: nn.loops
module attributes {nn.loops = [{name = "epoch", step = "train", steps = 3 : i64}]} {
  func.func @train(%x: tensor<?x2xf32>, %w: tensor<2xf32>) -> (tensor<f32>, tensor<2xf32>)
      attributes {nn.feeds = ["x"], nn.fetches = ["loss"], nn.variables = ["w"],
                  nn.updates = ["w"]} {
    %0 = nn.reduce_sum %x : tensor<?x2xf32> -> tensor<f32>
    %1 = nn.add %w, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    return %0, %1 : tensor<f32>, tensor<2xf32>
  }
}

