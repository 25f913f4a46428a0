// RUN: nncc-opt %s --nn-cpu-alloc-hooks | FileCheck %s

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
