// RUN: nncc-opt %s --nn-cpu-approximate-math | FileCheck %s

// f32 tanh, exp and log become polynomials in plain arithmetic whose FMAs are
// contractable multiply-adds (no libm call, vectorizable); f64 stays math.
// CHECK-LABEL: func.func @f32
// CHECK-NOT: math.tanh
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK-NOT: math.fma
// CHECK: arith.mulf {{.*}} fastmath<contract>
// CHECK: return
func.func @f32(%x: f32) -> (f32, f32, f32) {
  %0 = math.tanh %x : f32
  %1 = math.exp %x : f32
  %2 = math.log %x : f32
  return %0, %1, %2 : f32, f32, f32
}

// CHECK-LABEL: func.func @f64
// CHECK: math.tanh %{{.*}} : f64
// CHECK: math.exp %{{.*}} : f64
func.func @f64(%x: f64) -> (f64, f64) {
  %0 = math.tanh %x : f64
  %1 = math.exp %x : f64
  return %0, %1 : f64, f64
}
