// E3: ordinary least squares by gradient descent — ten full-batch steps at
// learning rate 0.01, the cost before each step, then the fitted line.
#include "examples/ExampleUtil.h"

using namespace nncc;

int main(int argc, char **argv) {
  rt::Session s =
      examples::openSession(examples::modelPath(argc, argv, "e3_linear_regression"));
  std::vector<float> x, y = {1.0f, 1.3f, 3.1f, 2.0f, 5.0f, 6.3f, 6.6f, 7.4f, 8.0f, 9.0f};
  for (int i = 0; i < 10; ++i)
    x.push_back(static_cast<float>(i));
  rt::Tensor X = rt::Tensor::of<float>({10, 1}, x), Y = rt::Tensor::of<float>({10}, y);
  for (int epoch = 1; epoch <= 10; ++epoch) {
    auto out = examples::run(s, "train", {{"X", X}, {"y", Y}});
    std::printf("epoch %2d: cost %.8g\n", epoch, out.at("mean_cost").toDoubles()[0]);
  }
  std::printf("weight %.8g, bias %.8g\n", s.variable("weight")->toDoubles()[0],
              s.variable("bias")->toDoubles()[0]);
  auto pred = examples::run(s, "predict", {{"X", X}});
  examples::print("predictions: ", pred.at("z_net"), "%.7g");
  return 0;
}
