// RUN: nncc-opt %s --nn-cpu-parallel-calls | FileCheck %s

// Only the arguments the kernel reads take a slot: here the aligned
// pointer of a descriptor ([1], read through the descriptor and passed to a
// function that reads it); the allocated pointer and the offset go into the
// descriptor but are never taken out, and the helper ignores the size. The
// task passes zeros for those.
// CHECK-LABEL: llvm.func @descriptor_caller
// CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i64)
// CHECK: %[[PACK:.*]] = llvm.alloca %[[ONE]] x i64
// CHECK-NOT: llvm.store
// CHECK: %[[B:.*]] = llvm.ptrtoint %arg1 : !llvm.ptr to i64
// CHECK-NEXT: %[[SLOT:.*]] = llvm.getelementptr %[[PACK]][0]
// CHECK-NEXT: llvm.store %[[B]], %[[SLOT]] : i64, !llvm.ptr
// CHECK-NOT: llvm.store
// CHECK: llvm.call
// CHECK: llvm.func internal @__nncc_rows_map_0_task(
// CHECK-DAG: %[[ZP:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-DAG: %[[W:.*]] = llvm.load
// CHECK-DAG: %[[P:.*]] = llvm.inttoptr %[[W]]
// CHECK-DAG: %[[ZI:.*]] = llvm.mlir.zero : i64
// CHECK: llvm.call @__nncc_rows_map_0(%[[ZP]], %[[P]], %[[ZI]], %[[ZI2:.*]],
llvm.func @descriptor_caller(%a: !llvm.ptr, %b: !llvm.ptr, %off: i64, %n: i64, %begin: i64, %end: i64) {
  llvm.call @__nncc_rows_map_0(%a, %b, %off, %n, %begin, %end) : (!llvm.ptr, !llvm.ptr, i64, i64, i64, i64) -> ()
  llvm.return
}
llvm.func @__nncc_rows_map_0(%a: !llvm.ptr, %b: !llvm.ptr, %off: i64, %n: i64, %begin: i64, %end: i64) {
  %0 = llvm.mlir.undef : !llvm.struct<(ptr, ptr, i64)>
  %1 = llvm.insertvalue %a, %0[0] : !llvm.struct<(ptr, ptr, i64)>
  %2 = llvm.insertvalue %b, %1[1] : !llvm.struct<(ptr, ptr, i64)>
  %3 = llvm.insertvalue %off, %2[2] : !llvm.struct<(ptr, ptr, i64)>
  %4 = llvm.extractvalue %3[1] : !llvm.struct<(ptr, ptr, i64)>
  llvm.call @helper(%4, %n) : (!llvm.ptr, i64) -> ()
  llvm.return
}
llvm.func @helper(%p: !llvm.ptr, %size: i64) {
  %0 = llvm.mlir.constant(0 : i64) : i64
  llvm.store %0, %p : i64, !llvm.ptr
  llvm.return
}
