// RUN: nncc-opt %s --split-input-file --nn-cpu-alloc-hooks | FileCheck %s

// The generic allocation functions get bodies that call through global
// hooks, malloc and free until the runtime installs its allocator; the free
// hook exists even though nothing here frees.
// CHECK: llvm.func internal @_mlir_memref_to_llvm_alloc(%[[N:.*]]: i64) -> !llvm.ptr
// CHECK: %[[A:.*]] = llvm.mlir.addressof @nncc_alloc_hook
// CHECK: %[[F:.*]] = llvm.load %[[A]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P:.*]] = llvm.call %[[F]](%[[N]]) : !llvm.ptr, (i64) -> !llvm.ptr
// CHECK: llvm.return %[[P]]
// CHECK-DAG: llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-DAG: llvm.func @free(!llvm.ptr)
// CHECK-DAG: llvm.mlir.global external @nncc_alloc_hook() {{.*}} {
// CHECK-DAG: llvm.mlir.addressof @malloc
// CHECK-DAG: llvm.mlir.global external @nncc_free_hook() {{.*}} {
// CHECK-DAG: llvm.func internal @_mlir_memref_to_llvm_free(%{{.*}}: !llvm.ptr)
llvm.func @_mlir_memref_to_llvm_alloc(i64) -> !llvm.ptr
llvm.func @kernel(%n: i64) -> !llvm.ptr {
  %p = llvm.call @_mlir_memref_to_llvm_alloc(%n) : (i64) -> !llvm.ptr
  llvm.return %p : !llvm.ptr
}

// -----

// Kernels with numeric checks: the fault function calls through its hook,
// which starts out at a function that ignores the report.
// RUN: nncc-opt %s --split-input-file --nn-cpu-alloc-hooks | FileCheck %s --check-prefix=FAULT
// FAULT: llvm.func internal @__nncc_numeric_fault(%[[I:.*]]: i32)
// FAULT-NEXT: %[[A:.*]] = llvm.mlir.addressof @nncc_numeric_fault_hook
// FAULT-NEXT: %[[H:.*]] = llvm.load %[[A]] : !llvm.ptr -> !llvm.ptr
// FAULT-NEXT: llvm.call %[[H]](%[[I]]) : !llvm.ptr, (i32) -> ()
// FAULT: llvm.func internal @__nncc_ignore_numeric_fault(%{{.*}}: i32)
// FAULT-NEXT: llvm.return
// FAULT: llvm.mlir.global external @nncc_numeric_fault_hook() {{.*}} {
// FAULT-NEXT: llvm.mlir.addressof @__nncc_ignore_numeric_fault
llvm.func @__nncc_numeric_fault(i32)
llvm.func @kernel(%i: i32) {
  llvm.call @__nncc_numeric_fault(%i) : (i32) -> ()
  llvm.return
}

// -----

// A compiled loop's end of step waits for the work started ahead through
// its hook, which starts out at a function that returns (the library runs
// such work at once when it starts it).
// RUN: nncc-opt %s --split-input-file --nn-cpu-alloc-hooks | FileCheck %s --check-prefix=AHEAD
// AHEAD: llvm.func internal @__nncc_wait_ahead()
// AHEAD-NEXT: %[[A:.*]] = llvm.mlir.addressof @nncc_wait_ahead_hook
// AHEAD-NEXT: %[[H:.*]] = llvm.load %[[A]] : !llvm.ptr -> !llvm.ptr
// AHEAD-NEXT: llvm.call %[[H]]() : !llvm.ptr, () -> ()
// AHEAD: llvm.func internal @__nncc_nothing_ahead()
// AHEAD-NEXT: llvm.return
// AHEAD: llvm.mlir.global external @nncc_wait_ahead_hook() {{.*}} {
// AHEAD-NEXT: llvm.mlir.addressof @__nncc_nothing_ahead
llvm.func @__nncc_wait_ahead()
llvm.func @step() {
  llvm.call @__nncc_wait_ahead() : () -> ()
  llvm.return
}
