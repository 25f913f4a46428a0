// E4: the textbook's multilayer perceptron built with the layers API and
// trained by plain gradient descent on Fashion-MNIST (784-50-50-10, tanh,
// softmax cross-entropy, lr 0.001, batches of 64 reshuffled every epoch).
// Prints the average training loss per epoch, then the test accuracy.
//   e4_mlp_layers [--epochs 50] [--data /usr/share/datasets/fashion-mnist]
//   [--write-model m.pbtxt] [--plots DIR]
#include "compiler/driver/Jit.h"
#include "examples/ExampleUtil.h"
#include "examples/e4_mlp_layers/MlpModel.h"
#include "runtime/Session.h"
#include "runtime/data/Idx.h"
#include "runtime/plot/Svg.h"

#include <CLI/CLI.hpp>

#include <google/protobuf/text_format.h>

#include <chrono>
#include <cstdio>
#include <fstream>

using namespace nncc;

int main(int argc, char **argv) {
  CLI::App app{"E4: an MLP with the layers API, trained on Fashion-MNIST"};
  int epochs = 50;
  int64_t batch = 64;
  uint64_t seed = 123;
  std::string dir = "/usr/share/datasets/fashion-mnist";
  app.add_option("--epochs", epochs, "training epochs");
  app.add_option("--data", dir, "directory of the idx files (.gz or plain)");
  app.add_option("--seed", seed, "seed of the initializers and the shuffling");
  std::string modelOut, plots, device = "cpu";
  app.add_option("--device", device, "cpu, cuda or best (cuda where there is a GPU)");
  app.add_option("--plots", plots, "write the loss curve (e4_loss.svg) into this directory");
  app.add_option("--write-model", modelOut, "write the model as protobuf text (.pbtxt) and stop");
  CLI11_PARSE(app, argc, argv);
  if (!modelOut.empty()) {
    std::string text;
    google::protobuf::TextFormat::PrintToString(examples::buildLayersMlp(seed).proto(), &text);
    std::ofstream(modelOut) << text;
    return 0;
  }

  auto data = rt::data::readMnistDir(dir);
  if (!data) {
    std::fprintf(stderr, "error: %s\n", data.error().c_str());
    return 1;
  }
  rt::data::standardize(data->trainImages, data->testImages);
  std::printf("Rows: %lld, columns: %lld\n", (long long)data->trainImages.shape()[0],
              (long long)data->trainImages.shape()[1]);

  fe::Graph g = examples::buildLayersMlp(seed);

  auto start = std::chrono::steady_clock::now();
  rt::Device on = examples::deviceOf(device);
  auto exe = compileAndLoad(fromProto(g.proto(), "e4_mlp_layers"), onDevice(on));
  if (!exe) {
    std::fprintf(stderr, "%s\n", llvm::toString(exe.takeError()).c_str());
    return 1;
  }
  double compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("Compiled in %.2f s\n", compileSeconds);
  rt::Session session(*exe, on);
  if (auto s = session.initialize(); !s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }

  rt::data::BatchIterator batches(data->trainImages, data->trainLabels, batch, seed);
  rt::Tensor xb, yb;
  double totalSeconds = 0;
  std::vector<double> losses;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    batches.startEpoch();
    double lossSum = 0;
    int64_t steps = 0;
    while (batches.next(xb, yb)) {
      auto out = session.run("train", {{"tf_x", xb}, {"tf_y", yb}}, {"cost"});
      if (!out) {
        std::fprintf(stderr, "error: %s\n", out.error().c_str());
        return 1;
      }
      lossSum += out->at("cost").data<float>()[0];
      ++steps;
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    totalSeconds += seconds;
    losses.push_back(lossSum / steps);
    std::printf(" -- Epoch %2d  Avg. Training Loss: %.4f  (%.0f ms)\n", epoch, lossSum / steps,
                seconds * 1000);
    std::fflush(stdout);
  }
  auto pred = session.run("predict", {{"tf_x", data->testImages}}, {"predicted_classes"});
  if (!pred) {
    std::fprintf(stderr, "error: %s\n", pred.error().c_str());
    return 1;
  }
  const int64_t *classesOut = pred->at("predicted_classes").data<int64_t>();
  const int32_t *labels = data->testLabels.data<int32_t>();
  int64_t correct = 0, n = data->testLabels.size();
  for (int64_t i = 0; i < n; ++i)
    correct += classesOut[i] == labels[i];
  std::printf("Test Accuracy: %.2f%%\n", 100.0 * correct / n);
  if (!plots.empty()) {
    plot::Chart chart{"E4: average training loss per epoch", "epoch", "loss", {}};
    chart.series.push_back(plot::perEpoch("training loss", losses));
    std::string path = plots + "/e4_loss.svg";
    if (auto s = plot::writeSvg(chart, path); !s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.message().c_str());
      return 1;
    }
    std::printf("wrote %s\n", path.c_str());
  }
  if (epochs > 0)
    std::printf("Time per epoch: %.0f ms (%.1f us per sample)\n", totalSeconds / epochs * 1000,
                totalSeconds / epochs / data->trainImages.shape()[0] * 1e6);
  return 0;
}
