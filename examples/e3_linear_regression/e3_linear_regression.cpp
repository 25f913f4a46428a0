// E3: ordinary least squares by gradient descent — ten full-batch steps at
// learning rate 0.01, the cost before each step, then the fitted line.
// With --plots DIR: the cost curve and the fitted line as pictures there.
//   e3_linear_regression [model.pbtxt] [--plots DIR]
#include "examples/ExampleUtil.h"

using namespace nncc;

int main(int argc, char **argv) {
  rt::Session s = examples::openSession(examples::modelPath(argc, argv, "e3_linear_regression"),
                                        examples::deviceOf(argc, argv));
  std::vector<float> x, y = {1.0f, 1.3f, 3.1f, 2.0f, 5.0f, 6.3f, 6.6f, 7.4f, 8.0f, 9.0f};
  for (int i = 0; i < 10; ++i)
    x.push_back(static_cast<float>(i));
  rt::Tensor X = rt::Tensor::of<float>({10, 1}, x), Y = rt::Tensor::of<float>({10}, y);
  std::vector<double> costs;
  for (int epoch = 1; epoch <= 10; ++epoch) {
    auto out = examples::run(s, "train", {{"X", X}, {"y", Y}});
    costs.push_back(out.at("mean_cost").toDoubles()[0]);
    std::printf("epoch %2d: cost %.8g\n", epoch, costs.back());
  }
  std::printf("weight %.8g, bias %.8g\n", s.variable("weight")->toDoubles()[0],
              s.variable("bias")->toDoubles()[0]);
  auto pred = examples::run(s, "predict", {{"X", X}});
  examples::print("predictions: ", pred.at("z_net"), "%.7g");

  std::string dir = examples::plotDir(argc, argv);
  plot::Chart cost{"E3: mean squared error per epoch", "epoch", "cost", {}};
  cost.series.push_back(plot::perEpoch("cost", costs));
  examples::writePicture(dir, "e3_cost.svg", cost);
  plot::Chart fit{"E3: least squares by gradient descent", "x", "y", {}};
  plot::Series data{"training data", {x.begin(), x.end()}, {y.begin(), y.end()}, true};
  fit.series.push_back(data);
  fit.series.push_back({"fitted line", data.x, pred.at("z_net").toDoubles()});
  examples::writePicture(dir, "e3_fit.svg", fit);
  return 0;
}
