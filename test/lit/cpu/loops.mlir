// RUN: nncc-opt %s --nn-cpu-loops | FileCheck %s

// A loop signature of 3 steps over @train: the dataset's feeds (all rows),
// order, first and batch, then the variables; the step's scalar fetch per
// step, the updates last. The first step's rows are gathered before the
// loop (clamped into the table, a linalg.generic over the batch's rows);
// each step gathers the next step's rows ahead (kRowAheadAttr: on the
// pool's idle threads while the step runs), calls the step on its own,
// waits for the gathering (__nncc_wait_ahead) and carries the next batch
// to the next step; its update replaces the variable it updates.
// CHECK: func.func private @__nncc_wait_ahead()
// CHECK-LABEL: func.func @epoch
// CHECK-SAME: (%[[X:.*]]: tensor<?x2xf32>, %[[ORDER:.*]]: tensor<?xi32>, %[[FIRST:.*]]: tensor<i32>, %[[BATCH:.*]]: tensor<i32>, %[[W:.*]]: tensor<2xf32>) -> (tensor<3xf32>, tensor<2xf32>)
// CHECK-SAME: nn.feeds = ["x", "order", "first", "batch"]
// CHECK-SAME: nn.fetches = ["loss"]
// CHECK: %[[ROWS:.*]] = tensor.dim %[[X]], %c0
// CHECK: arith.divui
// CHECK: %[[COUNT:.*]] = arith.minsi %{{.*}}, %c3
// CHECK: linalg.fill
// CHECK: %[[IDX0:.*]] = tensor.extract_slice %[[ORDER]]
// CHECK: %[[B0:.*]] = linalg.generic {{.*}} ins(%[[IDX0]] : tensor<?xi32>) outs(%{{.*}} : tensor<?x2xf32>) {
// CHECK:   arith.maxsi
// CHECK:   %[[ROW0:.*]] = arith.minsi
// CHECK:   %[[COL0:.*]] = linalg.index 1
// CHECK:   tensor.extract %[[X]][%[[ROW0]], %[[COL0]]]
// CHECK: %[[LOOP:.*]]:3 = scf.for %[[K:.*]] = %c0 to %[[COUNT]] step %c1 iter_args(%[[L:.*]] = %{{.*}}, %[[V:.*]] = %[[W]], %[[B:.*]] = %[[B0]])
// CHECK:   %[[NEXTK:.*]] = arith.addi %[[K]], %c1
// CHECK:   %[[IDX:.*]] = tensor.extract_slice %[[ORDER]]
// CHECK:   %[[NEXT:.*]] = linalg.generic {{.*}} ins(%[[IDX]] : tensor<?xi32>) outs(%{{.*}} : tensor<?x2xf32>) attrs =  {nncc.row_ahead}
// CHECK:     tensor.extract %[[X]]
// CHECK:   %[[R:.*]]:2 = func.call @train(%[[B]], %[[V]])
// CHECK:   %[[S:.*]] = tensor.extract %[[R]]#0[]
// CHECK:   %[[L2:.*]] = tensor.insert %[[S]] into %[[L]][%[[K]]]
// CHECK:   func.call @__nncc_wait_ahead()
// CHECK:   scf.yield %[[L2]], %[[R]]#1, %[[NEXT]]
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

