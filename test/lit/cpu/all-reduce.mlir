// RUN: nncc-opt %s --nn-to-linalg | FileCheck %s
// RUN: nncc-opt %s --nn-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// A bucket is packed into one flat buffer, reduced in place by one call
// (the buffer and the reduction: 1 is the mean) and unpacked.
// CHECK: func.func private @__nncc_all_reduce_f32(memref<?xf32>, i32)
// CHECK-LABEL: func.func @step
// CHECK: %[[E:.*]] = tensor.empty() : tensor<62xf32>
// CHECK: %[[F0:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<4x15xf32> into tensor<60xf32>
// CHECK: %[[P0:.*]] = tensor.insert_slice %[[F0]] into %[[E]][0] [60] [1]
// CHECK: %[[P1:.*]] = tensor.insert_slice %arg1 into %[[P0]][60] [1] [1]
// CHECK: %[[F2:.*]] = tensor.expand_shape %arg2 [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: %[[P2:.*]] = tensor.insert_slice %[[F2]] into %[[P1]][61] [1] [1]
// CHECK: %[[M:.*]] = bufferization.to_memref %[[P2]] : memref<62xf32>
// CHECK: %[[ANY:.*]] = memref.cast %[[M]] : memref<62xf32> to memref<?xf32>
// CHECK: %[[MEAN:.*]] = arith.constant 1 : i32
// CHECK: call @__nncc_all_reduce_f32(%[[ANY]], %[[MEAN]]) : (memref<?xf32>, i32) -> ()
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[M]] restrict writable : memref<62xf32>
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[T]][0] [60] [1]
// CHECK: tensor.expand_shape %[[S0]] {{\[\[}}0, 1]] output_shape [4, 15]
// CHECK: tensor.extract_slice %[[T]][60] [1] [1]
// CHECK: %[[S2:.*]] = tensor.extract_slice %[[T]][61] [1] [1]
// CHECK: tensor.collapse_shape %[[S2]] [] : tensor<1xf32> into tensor<f32>

// On the LLVM dialect the function calls the runtime's hook with the
// buffer's first element, its size, the dtype (0: f32) and the reduction;
// the hook starts out at a function that does nothing (one process).
// LLVM: llvm.func internal @__nncc_all_reduce_f32(%{{.*}}: !llvm.ptr, %[[ALIGNED:.*]]: !llvm.ptr, %[[OFFSET:.*]]: i64, %[[SIZE:.*]]: i64, %{{.*}}: i64, %[[KIND:.*]]: i32)
// LLVM-NEXT: %[[DATA:.*]] = llvm.getelementptr %[[ALIGNED]][%[[OFFSET]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// LLVM-NEXT: %[[F32:.*]] = llvm.mlir.constant(0 : i32) : i32
// LLVM-NEXT: %[[A:.*]] = llvm.mlir.addressof @nncc_all_reduce_hook
// LLVM-NEXT: %[[H:.*]] = llvm.load %[[A]] : !llvm.ptr -> !llvm.ptr
// LLVM-NEXT: llvm.call %[[H]](%[[DATA]], %[[SIZE]], %[[F32]], %[[KIND]])
// LLVM-DAG: llvm.func internal @__nncc_single_process_all_reduce(
// LLVM-DAG: llvm.mlir.global external @nncc_all_reduce_hook()
func.func @step(%w: tensor<4x15xf32>, %b: tensor<1xf32>, %s: tensor<f32>)
    -> (tensor<4x15xf32>, tensor<1xf32>, tensor<f32>) attributes {llvm.emit_c_interface} {
  %r:3 = nn.all_reduce "mean" %w, %b, %s : tensor<4x15xf32>, tensor<1xf32>, tensor<f32>
  return %r#0, %r#1, %r#2 : tensor<4x15xf32>, tensor<1xf32>, tensor<f32>
}
