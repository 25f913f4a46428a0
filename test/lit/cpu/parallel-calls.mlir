// RUN: nncc-opt %s --split-input-file --nn-cpu-parallel-calls | FileCheck %s

// A row-range kernel's call goes through the library's thread hook: the
// arguments but the range are packed as i64 slots (pointers converted) into
// a stack array, and the hook runs the kernel's task wrapper over
// [begin, end) with the kernel's grain. The hook starts out serial; the
// runtime points it at its thread pool.
// CHECK-LABEL: llvm.func @caller
// CHECK: %[[N:.*]] = llvm.mlir.constant(2 : i64)
// CHECK: %[[PACK:.*]] = llvm.alloca %[[N]] x i64
// CHECK: %[[P:.*]] = llvm.ptrtoint %arg0 : !llvm.ptr to i64
// CHECK: llvm.store %[[P]], {{.*}} : i64, !llvm.ptr
// CHECK: llvm.store %arg1, {{.*}} : i64, !llvm.ptr
// CHECK: %[[HOOK:.*]] = llvm.load {{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[TASK:.*]] = llvm.mlir.addressof @__nncc_rows_matmul_0_task
// CHECK: %[[GRAIN:.*]] = llvm.mlir.constant(56 : i64)
// CHECK: llvm.call %[[HOOK]](%[[TASK]], %[[PACK]], %arg2, %arg3, %[[GRAIN]])
// CHECK-NOT: llvm.call @__nncc_rows_matmul_0(
// Only the task calls the kernel now: it becomes internal.
// CHECK: llvm.func internal @__nncc_rows_matmul_0(
// CHECK: llvm.func internal @__nncc_serial_for(
// CHECK: llvm.mlir.global external @nncc_parallel_for_hook()
// CHECK: llvm.mlir.addressof @__nncc_serial_for
// CHECK: llvm.func internal @__nncc_rows_matmul_0_task(%[[CTX:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: %[[W0:.*]] = llvm.load
// CHECK: %[[A0:.*]] = llvm.inttoptr %[[W0]]
// CHECK: %[[W1:.*]] = llvm.load
// CHECK: llvm.call @__nncc_rows_matmul_0(%[[A0]], %[[W1]], %[[B]], %[[E]])
llvm.func @caller(%p: !llvm.ptr, %n: i64, %begin: i64, %end: i64) {
  llvm.call @__nncc_rows_matmul_0(%p, %n, %begin, %end) : (!llvm.ptr, i64, i64, i64) -> ()
  llvm.return
}
llvm.func @__nncc_rows_matmul_0(%p: !llvm.ptr, %n: i64, %begin: i64, %end: i64) attributes {nncc.row_grain = 56 : i64} {
  llvm.store %n, %p : i64, !llvm.ptr
  llvm.return
}


// -----

// A kernel started ahead (nncc.row_ahead: a compiled loop's next batch)
// goes through its own hook, serial at first like the other; the runtime
// points it at work for the pool's idle threads. Each call packs into its
// own array, which the work reads until the loop waits for it.
// CHECK-LABEL: llvm.func @loop_step
// CHECK-DAG: %[[PACK0:.*]] = llvm.alloca %{{.*}} x i64
// CHECK-DAG: %[[PACK1:.*]] = llvm.alloca %{{.*}} x i64
// CHECK: %[[AHEAD:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[GATHER:.*]] = llvm.mlir.addressof @__nncc_rows_map_0_task
// CHECK: llvm.call %[[AHEAD]](%[[GATHER]], %{{.*}}, %arg2, %arg3, %{{.*}})
// CHECK: %[[FOR:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[PRODUCT:.*]] = llvm.mlir.addressof @__nncc_rows_matmul_0_task
// CHECK: llvm.call %[[FOR]](%[[PRODUCT]], %{{.*}}, %arg2, %arg3, %{{.*}})
// CHECK: llvm.mlir.global external @nncc_parallel_for_hook()
// CHECK-NEXT: llvm.mlir.addressof @__nncc_serial_for
// CHECK: llvm.mlir.global external @nncc_parallel_ahead_hook()
// CHECK-NEXT: llvm.mlir.addressof @__nncc_serial_for
llvm.func @loop_step(%p: !llvm.ptr, %n: i64, %begin: i64, %end: i64) {
  llvm.call @__nncc_rows_map_0(%p, %n, %begin, %end) : (!llvm.ptr, i64, i64, i64) -> ()
  llvm.call @__nncc_rows_matmul_0(%p, %n, %begin, %end) : (!llvm.ptr, i64, i64, i64) -> ()
  llvm.return
}
llvm.func @__nncc_rows_map_0(%p: !llvm.ptr, %n: i64, %begin: i64, %end: i64) attributes {nncc.row_grain = 6 : i64, nncc.row_ahead} {
  llvm.store %n, %p : i64, !llvm.ptr
  llvm.return
}
llvm.func @__nncc_rows_matmul_0(%p: !llvm.ptr, %n: i64, %begin: i64, %end: i64) attributes {nncc.row_grain = 56 : i64} {
  llvm.store %n, %p : i64, !llvm.ptr
  llvm.return
}
