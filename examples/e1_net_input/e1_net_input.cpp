// E1: the net input z = weight * x + bias of a scalar model, fed one value at
// a time and then a whole vector, through the same compiled graph.
#include "examples/ExampleUtil.h"

using namespace nncc;

int main(int argc, char **argv) {
  rt::Session s = examples::openSession(examples::modelPath(argc, argv, "e1_net_input"),
                                        examples::deviceOf(argc, argv));
  for (float x : {1.0f, 0.6f, -1.8f}) {
    auto out = examples::run(s, "predict", {{"x", rt::Tensor::of<float>({}, {x})}});
    std::printf("x = %g -> ", x);
    examples::print("z = ", out.at("z"));
  }
  auto out = examples::run(s, "predict", {{"x", rt::Tensor::of<float>({3}, {1, 2, 3})}});
  examples::print("x = [1 2 3] -> z = ", out.at("z"));
  return 0;
}
