// RUN: nncc-opt %s --nn-cpu-distinct-deallocs | FileCheck %s

// A dealloc of distinct allocations: the retained buffer keeps its
// condition as its updated ownership, a retained value not in the list gets
// false, and each other buffer is freed by a dealloc of its own (a copy's
// conditions or'ed).
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[C:.*]]: i1)
// CHECK-DAG: %[[A:.*]] = memref.alloc() : memref<4xf32>
// CHECK-DAG: %[[B:.*]] = memref.alloc() : memref<4xf32>
// CHECK-DAG: %[[R:.*]] = memref.alloc() : memref<4xf32>
// CHECK-DAG: %[[S:.*]] = memref.alloc() : memref<4xf32>
// CHECK: %[[OR:.*]] = arith.ori %[[C]], %{{.*}}
// CHECK-DAG: %[[FALSE:.*]] = arith.constant false
// CHECK-DAG: bufferization.dealloc (%[[A]] : memref<4xf32>) if (%[[OR]])
// CHECK-DAG: bufferization.dealloc (%[[B]] : memref<4xf32>) if (%{{.*}})
// CHECK-NOT: bufferization.dealloc
// CHECK: return %[[R]], %[[S]], %[[C]], %[[FALSE]]
func.func @step(%c: i1) -> (memref<4xf32>, memref<4xf32>, i1, i1) {
  %true = arith.constant true
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  %r = memref.alloc() : memref<4xf32>
  %s = memref.alloc() : memref<4xf32>
  %o:2 = bufferization.dealloc (%a, %b, %r, %a : memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>) if (%c, %true, %c, %true) retain (%r, %s : memref<4xf32>, memref<4xf32>)
  return %r, %s, %o#0, %o#1 : memref<4xf32>, memref<4xf32>, i1, i1
}

// A view among the buffers: left to the simplification pass's alias analysis.
// CHECK-LABEL: func.func @view
// CHECK: bufferization.dealloc (%{{.*}}, %{{.*}} : memref<4xf32>, memref<2xf32, strided<[1]>>) if (%{{.*}}, %{{.*}}) retain
func.func @view(%c: i1) -> (memref<4xf32>, i1) {
  %a = memref.alloc() : memref<4xf32>
  %v = memref.subview %a[0] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1]>>
  %r = memref.alloc() : memref<4xf32>
  %o = bufferization.dealloc (%a, %v : memref<4xf32>, memref<2xf32, strided<[1]>>) if (%c, %c) retain (%r : memref<4xf32>)
  return %r, %o : memref<4xf32>, i1
}
