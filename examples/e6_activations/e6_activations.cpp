// E6: activation functions — logistic regression output, a layer's net
// input with logistic, argmax and softmax, and the tanh / logistic curves.
// With --plots DIR: the logistic, tanh and ReLU curves as a picture there.
//   e6_activations [model.pbtxt] [--plots DIR]
#include "examples/ExampleUtil.h"

using namespace nncc;

int main(int argc, char **argv) {
  rt::Session s = examples::openSession(examples::modelPath(argc, argv, "e6_activations"),
                                        examples::deviceOf(argc, argv));
  auto logistic = examples::run(s, "logistic",
                                {{"X", rt::Tensor::of<double>({1, 3}, {1, 1.4, 2.5})},
                                 {"w", rt::Tensor::of<double>({3, 1}, {0.4, 0.3, 0.5})}});
  examples::print("P(y=1|x) = ", logistic.at("p_y1"), "%.3f");

  auto layer = examples::run(s, "layer",
                             {{"W", rt::Tensor::of<double>({3, 4}, {1.1, 1.2, 0.8, 0.4, 0.2, 0.4,
                                                                    1.0, 0.2, 0.6, 1.5, 1.2, 0.7})},
                              {"A", rt::Tensor::of<double>({4, 1}, {1, 0.1, 0.4, 0.6})}});
  examples::print("Z = W.A      = ", layer.at("Z"), "%.2f");
  examples::print("logistic(Z)  = ", layer.at("logistic_Z"), "%.8f");
  examples::print("argmax(Z)    = ", layer.at("argmax_Z"));
  examples::print("softmax(Z)   = ", layer.at("softmax_Z"), "%.8f");
  examples::print("sum          = ", layer.at("softmax_sum"), "%.6f");

  std::vector<double> z;
  for (int i = 0; i < 2000; ++i) // np.arange(-5, 5, 0.005)
    z.push_back(-5.0 + 0.005 * i);
  auto curves = examples::run(s, "curves", {{"z", rt::Tensor::of<double>({2000}, z)}});
  for (const char *name : {"tanh_z", "logistic_z"}) {
    auto v = curves.at(name).toDoubles();
    std::printf("%-10s starts", name);
    for (int i : {0, 1, 2, 1997, 1998, 1999})
      std::printf("%s %s", i == 1997 ? ", ends" : "", examples::numpyFloat(v[i]).c_str());
    std::printf("\n");
  }
  auto relu = curves.at("relu_z").toDoubles();
  std::printf("relu_z     at z = -1, 0, 1: %g %g %g\n", relu[800], relu[1000], relu[1200]);

  plot::Chart chart{"E6: activation functions", "net input z", "activation", {}};
  chart.series.push_back({"logistic(z)", z, curves.at("logistic_z").toDoubles()});
  chart.series.push_back({"tanh(z)", z, curves.at("tanh_z").toDoubles()});
  std::vector<double> zr, r; // ReLU up to 1 so the other two stay readable
  for (size_t i = 0; i < z.size(); ++i)
    if (z[i] <= 1) {
      zr.push_back(z[i]);
      r.push_back(relu[i]);
    }
  chart.series.push_back({"ReLU(z)", zr, r});
  examples::writePicture(examples::plotDir(argc, argv), "e6_activations.svg", chart);
  return 0;
}
