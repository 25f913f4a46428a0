// RUN: nncc-opt %s --nn-to-linalg | FileCheck %s
// RUN: nncc-opt %s --nn-to-linalg | nncc-opt --canonicalize | FileCheck %s --check-prefix=KEPT

// A check is a reduction telling whether any element is NaN or infinite
// (x - x is NaN exactly then), and where one is, a call reporting the
// check's index.
// CHECK: func.func private @__nncc_numeric_fault(i32)
// CHECK: %[[F:.*]] = linalg.fill ins(%false : i1) outs(%{{.*}} : tensor<i1>)
// CHECK: %[[ANY:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["reduction", "reduction"]} ins(%arg0 : tensor<?x3xf32>) outs(%[[F]] : tensor<i1>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[OUT:.*]]: i1):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[IN]], %[[IN]] : f32
// CHECK-NEXT: %[[BAD:.*]] = arith.cmpf uno, %[[D]], %[[D]] : f32
// CHECK-NEXT: %[[OR:.*]] = arith.ori %[[OUT]], %[[BAD]] : i1
// CHECK-NEXT: linalg.yield %[[OR]] : i1
// CHECK: %[[FLAG:.*]] = tensor.extract %[[ANY]][] : tensor<i1>
// CHECK: scf.if %[[FLAG]] {
// CHECK-NEXT: %[[I:.*]] = arith.constant 7 : i32
// CHECK-NEXT: func.call @__nncc_numeric_fault(%[[I]]) : (i32) -> ()

// Canonicalization keeps the check (the call has effects) and x - x.
// KEPT: arith.subf
// KEPT: func.call @__nncc_numeric_fault
func.func @f(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  nn.check_numerics %x {index = 7 : i32, what = "node 'x' (nn.mul)"} : tensor<?x3xf32>
  return %x : tensor<?x3xf32>
}
