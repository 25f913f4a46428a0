// E7: the CNN chapter's convolutional network built with the layers API and
// trained with Adam (lr 1e-4, batches of 64 reshuffled every epoch) on
// Fashion-MNIST: conv 5x5x32 SAME + ReLU, max-pool 2x2, conv 5x5x64 SAME +
// ReLU, max-pool 2x2, dense 1024 ReLU, dropout 0.5, dense 10, softmax
// cross-entropy. Prints the average training loss per epoch, then the test
// accuracy.
//   e7_cnn [--epochs 20] [--data /usr/share/datasets/fashion-mnist]
//   [--train-images N] [--test-images N] [--write-model m.pbtxt] [--plots DIR]
#include "compiler/driver/Jit.h"
#include "examples/ExampleUtil.h"
#include "examples/e7_cnn/CnnModel.h"
#include "runtime/Session.h"
#include "runtime/data/Idx.h"
#include "runtime/plot/Svg.h"

#include <CLI/CLI.hpp>

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

using namespace nncc;

namespace {

/// The first `rows` images of [N, 784] as [rows, 28, 28, 1] (no copy).
rt::Tensor asImages(const rt::Tensor &flat, int64_t rows) {
  return rt::Tensor::borrow(rt::DType::F32, {rows, 28, 28, 1},
                            const_cast<float *>(flat.data<float>()));
}

int fail(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"E7: a convolutional network with the layers API, trained on Fashion-MNIST"};
  int epochs = 20;
  int64_t batch = 64, trainImages = 60000, testImages = 10000;
  uint64_t seed = 123;
  std::string dir = "/usr/share/datasets/fashion-mnist";
  app.add_option("--epochs", epochs, "training epochs");
  app.add_option("--data", dir, "directory of the idx files (.gz or plain)");
  app.add_option("--seed", seed, "seed of the initializers, the dropout and the shuffling");
  app.add_option("--train-images", trainImages, "train on the first N training images");
  app.add_option("--test-images", testImages, "test on the first N test images");
  std::string modelOut, plots, device = "cpu";
  app.add_option("--device", device, "cpu, cuda or best (cuda where there is a GPU)");
  app.add_option("--plots", plots, "write the loss curve (e7_loss.svg) into this directory");
  app.add_option("--write-model", modelOut, "write the model as protobuf text (.pbtxt) and stop");
  CLI11_PARSE(app, argc, argv);
  if (!modelOut.empty()) {
    std::string text;
    google::protobuf::TextFormat::PrintToString(examples::buildLayersCnn(seed).proto(), &text);
    std::ofstream(modelOut) << text;
    return 0;
  }

  auto data = rt::data::readMnistDir(dir);
  if (!data)
    return fail(data.error());
  rt::data::standardize(data->trainImages, data->testImages);
  trainImages = std::clamp<int64_t>(trainImages, 1, data->trainImages.shape()[0]);
  testImages = std::clamp<int64_t>(testImages, 1, data->testImages.shape()[0]);
  rt::Tensor x = asImages(data->trainImages, trainImages);
  rt::Tensor y = rt::Tensor::borrow(rt::DType::I32, {trainImages},
                                    const_cast<int32_t *>(data->trainLabels.data<int32_t>()));

  auto start = std::chrono::steady_clock::now();
  rt::Device on = examples::deviceOf(device);
  auto exe =
      compileAndLoad(fromProto(examples::buildLayersCnn(seed).proto(), "e7_cnn"), onDevice(on));
  if (!exe)
    return fail(llvm::toString(exe.takeError()));
  std::printf("Compiled in %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  rt::Session session(*exe, on);
  if (auto s = session.initialize(); !s.ok())
    return fail(s.message());

  rt::data::BatchIterator batches(x, y, batch, seed);
  rt::Tensor xb, yb;
  double totalSeconds = 0;
  std::vector<double> losses;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    batches.startEpoch();
    double lossSum = 0;
    int64_t steps = 0;
    while (batches.next(xb, yb)) {
      auto out = session.run("train", {{"x", xb}, {"y", yb}}, {"loss"});
      if (!out)
        return fail(out.error());
      lossSum += out->at("loss").data<float>()[0];
      ++steps;
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    totalSeconds += seconds;
    losses.push_back(lossSum / steps);
    std::printf(" -- Epoch %2d  Avg. Training Loss: %.4f  (%.1f s)\n", epoch, lossSum / steps,
                seconds);
    std::fflush(stdout);
  }
  // The test images in batches of 1000 (their activations stay in cache).
  int64_t correct = 0;
  for (int64_t first = 0; first < testImages; first += 1000) {
    int64_t rows = std::min<int64_t>(1000, testImages - first);
    rt::Tensor xt =
        rt::Tensor::borrow(rt::DType::F32, {rows, 28, 28, 1},
                           const_cast<float *>(data->testImages.data<float>()) + first * 784);
    auto pred = session.run("predict", {{"x", xt}}, {"classes"});
    if (!pred)
      return fail(pred.error());
    const int64_t *classes = pred->at("classes").data<int64_t>();
    for (int64_t i = 0; i < rows; ++i)
      correct += classes[i] == data->testLabels.data<int32_t>()[first + i];
  }
  std::printf("Test Accuracy: %.2f%%\n", 100.0 * correct / testImages);
  if (!plots.empty()) {
    plot::Chart chart{"E7: average training loss per epoch", "epoch", "loss", {}};
    chart.series.push_back(plot::perEpoch("training loss", losses));
    std::string path = plots + "/e7_loss.svg";
    if (auto s = plot::writeSvg(chart, path); !s.ok())
      return fail(s.message());
    std::printf("wrote %s\n", path.c_str());
  }
  if (epochs > 0)
    std::printf("Time per epoch: %.1f s (%.0f us per image)\n", totalSeconds / epochs,
                totalSeconds / epochs / trainImages * 1e6);
  return 0;
}
