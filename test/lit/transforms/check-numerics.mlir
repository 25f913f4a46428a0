// RUN: nncc-opt %s --nn-check-numerics | FileCheck %s

// Every floating-point op gets a check after it, numbered in order; the
// module lists what each check is about. Constants, variable reads and
// integer ops are not checked.
// CHECK: module attributes {nn.numeric_checks = ["node 'scaled' (nn.mul)", "node 'logs' (nn.log)", "the gradient of node 'logs' (nn.div)", "the SGD update of variable 'w' (nn.sub)"]}
// CHECK: %[[W:.*]] = nn.read_variable @w
// CHECK-NOT: nn.check_numerics %[[W]]
// CHECK: %[[S:.*]] = nn.mul
// CHECK-NEXT: nn.check_numerics %[[S]] {index = 0 : i32, what = "node 'scaled' (nn.mul)"} : tensor<2xf32>
// CHECK: %[[L:.*]] = nn.log %[[S]]
// CHECK-NEXT: nn.check_numerics %[[L]] {index = 1 : i32, what = "node 'logs' (nn.log)"}
// CHECK: %[[G:.*]] = nn.div
// CHECK-NEXT: nn.check_numerics %[[G]] {index = 2 : i32
// CHECK: %[[K:.*]] = nn.mul %{{.*}}, %{{.*}} : (tensor<2xi32>
// CHECK-NOT: nn.check_numerics %[[K]]
// CHECK: %[[U:.*]] = nn.sub
// CHECK-NEXT: nn.check_numerics %[[U]] {index = 3 : i32
nn.variable @w : tensor<2xf32> {initializer = "ones"}
func.func @f(%x: tensor<2xf32>, %g: tensor<2xf32>, %k: tensor<2xi32>) -> (tensor<2xf32>, tensor<2xi32>) {
  %c = nn.constant dense<2.0> : tensor<2xf32>
  %w = nn.read_variable @w : tensor<2xf32>
  %s = nn.mul %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc(#scaled)
  %l = nn.log %s : tensor<2xf32> -> tensor<2xf32> loc(#logs)
  %d = nn.div %g, %s : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc(#grad)
  %k2 = nn.mul %k, %k : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %u = nn.sub %w, %d : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc(#update)
  return %u, %k2 : tensor<2xf32>, tensor<2xi32>
}
#file = loc("model.pbtxt":4:1)
#scaled = loc("scaled"(#file))
#logs = loc("logs"(#file))
#grad = loc(fused<"gradient">[#logs])
#update = loc(fused<"the SGD update of variable 'w'">[#file])
