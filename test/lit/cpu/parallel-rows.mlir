// RUN: nncc-opt %s --split-input-file --nn-cpu-parallel-rows | FileCheck %s
// RUN: nncc-opt %s --split-input-file --nn-cpu-parallel-rows=min-elements=1000000 | FileCheck %s --check-prefix=LARGE

// A large elementwise map with a broadcast row (a bias add over a batch of
// unknown size) becomes a row-range function: the buffers indexed by the
// first loop are cut to rows [begin, end) by subviews, the bias is passed
// whole, the captured constant is cloned in; the grain is the rows worth
// 32768 iterations (32768 / 512 = 64). The call covers all the rows. The
// function says how it uses each buffer (nn-cpu-row-chains reads it): x
// read row-wise (1|2), the bias read whole (2), y written row-wise (1|4).
#row = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @bias_add
// CHECK-NOT: linalg.generic
// CHECK: %[[N:.*]] = memref.dim %arg0, %c0
// CHECK: call @[[F:__nncc_rows_map_0]](%arg0, %arg1, %arg2, %c0{{.*}}, %[[N]])
// CHECK: func.func private @[[F]](%[[X:.*]]: memref<?x512xf32>, %[[B:.*]]: memref<512xf32>, %[[Y:.*]]: memref<?x512xf32>, %[[BEGIN:.*]]: index, %[[END:.*]]: index) attributes {nncc.row_args = array<i64: 3, 2, 5>, nncc.row_grain = 64 : i64}
// CHECK: %[[ROWS:.*]] = arith.subi %[[END]], %[[BEGIN]]
// CHECK: %[[XS:.*]] = memref.subview %[[X]][%[[BEGIN]], 0] [%[[ROWS]], 512] [1, 1]
// CHECK: %[[YS:.*]] = memref.subview %[[Y]][%[[BEGIN]], 0] [%[[ROWS]], 512] [1, 1]
// CHECK: arith.constant 2.0
// CHECK: linalg.generic {{.*}} ins(%[[XS]], %[[B]] : {{.*}}) outs(%[[YS]] : {{.*}})
func.func @bias_add(%x: memref<?x512xf32>, %b: memref<512xf32>, %y: memref<?x512xf32>) {
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#row, #col, #row], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : memref<?x512xf32>, memref<512xf32>) outs(%y : memref<?x512xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %s = arith.addf %a, %c : f32
    %t = arith.mulf %s, %two : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// A row reduction (softmax's row sums) splits by its rows too: each task
// owns its rows' sums. Its rows of 16 are too short for LLVM's loop
// vectorizer: each row is one vector load and an (in-order) vector.reduction
// onto the row's sum. The optimizer's update of a 1024x1024 weight splits
// (32 rows a task); one of 50x50 (2500 iterations) stays inline, and so
// does the 1024x1024 one where a task must be worth 1M iterations.
#row = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @row_sums
// CHECK: call @__nncc_rows_map_
// CHECK-LABEL: func.func @small_update
// CHECK: linalg.generic
// CHECK-LABEL: func.func @update
// LARGE-LABEL: func.func @update
// LARGE-NEXT: linalg.generic
// LARGE-NOT: call @__nncc_rows_map
// CHECK: call @__nncc_rows_map_
// CHECK: func.func private @__nncc_rows_map_{{.*}}(%{{.*}}: memref<?x16xf32>, %{{.*}}: memref<?xf32>, {{.*}}) attributes {nncc.row_args = array<i64: 3, 7>, nncc.row_grain = 2048 : i64}
// CHECK: scf.for %[[ROW:.*]] = %arg2 to %arg3 step %c1
// CHECK: %[[X:.*]] = memref.subview %arg0[%[[ROW]], 0] [1, 16] [1, 1]
// CHECK: %[[S:.*]] = memref.subview %arg1[%[[ROW]]] [1] [1]
// CHECK: %[[V:.*]] = vector.load %[[X]]{{.*}} vector<16xf32>
// CHECK: %[[ACC:.*]] = memref.load %[[S]]
// CHECK: %[[SUM:.*]] = vector.reduction <add>, %[[V]], %[[ACC]] : vector<16xf32> into f32
// CHECK-NOT: linalg.generic
// CHECK: memref.store {{.*}}, %[[S]]
// CHECK: func.func private @__nncc_rows_map_{{.*}}(%{{.*}}: memref<1024x1024xf32>, %{{.*}}: memref<1024x1024xf32>, {{.*}}) attributes {nncc.row_args = array<i64: 3, 7>, nncc.row_grain = 32 : i64}
func.func @row_sums(%x: memref<?x16xf32>, %s: memref<?xf32>) {
  linalg.generic {indexing_maps = [#row, #red], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x16xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %a, %acc : f32
    linalg.yield %t : f32
  }
  return
}
func.func @small_update(%w: memref<50x50xf32>, %g: memref<50x50xf32>) {
  linalg.generic {indexing_maps = [#row, #row], iterator_types = ["parallel", "parallel"]}
      ins(%g : memref<50x50xf32>) outs(%w : memref<50x50xf32>) {
  ^bb0(%a: f32, %out: f32):
    %t = arith.subf %out, %a : f32
    linalg.yield %t : f32
  }
  return
}
func.func @update(%w: memref<1024x1024xf32>, %g: memref<1024x1024xf32>) {
  linalg.generic {indexing_maps = [#row, #row], iterator_types = ["parallel", "parallel"]}
      ins(%g : memref<1024x1024xf32>) outs(%w : memref<1024x1024xf32>) {
  ^bb0(%a: f32, %out: f32):
    %t = arith.subf %out, %a : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// Not split: a map whose body asks for its row index, one that reads a
// transposed operand (row d0 in its second dimension), and one whose loop
// over rows is a reduction (a column sum over the batch).
#row = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @not_split
// CHECK-NOT: call @__nncc_rows_map_
// CHECK-COUNT-3: linalg.generic
func.func @not_split(%x: memref<512x512xf32>, %y: memref<512x512xf32>, %c: memref<512xf32>) {
  linalg.generic {indexing_maps = [#row], iterator_types = ["parallel", "parallel"]}
      outs(%y : memref<512x512xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = arith.index_cast %i : index to i32
    %f = arith.sitofp %j : i32 to f32
    linalg.yield %f : f32
  }
  linalg.generic {indexing_maps = [#tr, #row], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<512x512xf32>) outs(%y : memref<512x512xf32>) {
  ^bb0(%a: f32, %out: f32):
    linalg.yield %a : f32
  }
  linalg.generic {indexing_maps = [#row, #col], iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<512x512xf32>) outs(%c : memref<512xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %a, %acc : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// Rows of booleans are left to LLVM, row by row in scalars: a vector of i1
// would be stored as packed bits where the buffer has a byte per element.
#row = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @to_bool
// LARGE-LABEL: func.func @to_bool
// CHECK: call @__nncc_rows_map_
// CHECK: func.func private @__nncc_rows_map_{{.*}}(%{{.*}}: memref<?x16xf32>, %{{.*}}: memref<?x16xi1>
// CHECK-NOT: vector.
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @to_bool(%x: memref<?x16xf32>, %y: memref<?x16xi1>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#row, #row], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x16xf32>) outs(%y : memref<?x16xi1>) {
  ^bb0(%a: f32, %out: i1):
    %b = arith.cmpf une, %a, %zero : f32
    linalg.yield %b : i1
  }
  return
}

// -----

// A gather started ahead (nn-cpu-loops: the next step's batch): the table it
// reads and the row count it clamps to, captured by its body, become
// arguments read whole after the op's own; its pieces are a few thousand
// elements (784 per row: 6 rows); it stays out of chains. The same gather
// without the mark is left alone (captured values are not cloned in).
#rows = affine_map<(d0, d1) -> (d0)>
#row = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @gather_ahead
// CHECK: %[[LAST:.*]] = memref.dim %arg0, %c0
// CHECK: %[[N:.*]] = memref.dim %arg1, %c{{.*}}
// CHECK: call @[[K:__nncc_rows_map_[0-9]+]](%arg1, %arg2, %[[LAST]], %arg0, %c0{{.*}}, %[[N]])
// CHECK: linalg.generic
// CHECK: func.func private @[[K]](%{{.*}}: memref<?xi32>, %{{.*}}: memref<?x784xf32>, %[[LAST:.*]]: index, %[[TABLE:.*]]: memref<?x784xf32>, %{{.*}}: index, %{{.*}}: index)
// CHECK-SAME: nncc.row_ahead
// CHECK-SAME: nncc.row_args = array<i64: 3, 5, 2, 2>
// CHECK-SAME: nncc.row_grain = 6 : i64
// CHECK-SAME: nncc.row_unchained
// CHECK: arith.minsi %{{.*}}, %[[LAST]]
// CHECK: memref.load %[[TABLE]]
func.func @gather_ahead(%table: memref<?x784xf32>, %idx: memref<?xi32>, %out: memref<?x784xf32>,
                        %out2: memref<?x784xf32>) {
  %c0 = arith.constant 0 : index
  %last = memref.dim %table, %c0 : memref<?x784xf32>
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "parallel"]}
      ins(%idx : memref<?xi32>) outs(%out : memref<?x784xf32>) attrs = {nncc.row_ahead} {
  ^bb0(%i: i32, %o: f32):
    %r = arith.index_cast %i : i32 to index
    %c = arith.minsi %r, %last : index
    %j = linalg.index 1 : index
    %v = memref.load %table[%c, %j] : memref<?x784xf32>
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "parallel"]}
      ins(%idx : memref<?xi32>) outs(%out2 : memref<?x784xf32>) {
  ^bb0(%i: i32, %o: f32):
    %r = arith.index_cast %i : i32 to index
    %c = arith.minsi %r, %last : index
    %j = linalg.index 1 : index
    %v = memref.load %table[%c, %j] : memref<?x784xf32>
    linalg.yield %v : f32
  }
  return
}
