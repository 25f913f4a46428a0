// E5: the textbook's MLP again, Keras-style: Sequential Dense(50, tanh,
// glorot_uniform, input_dim 784), Dense(50, tanh), Dense(10, softmax);
// SGD(lr 0.001, decay 1e-7, momentum 0.9), categorical cross-entropy on
// to_categorical labels; fit(batch 64, 50 epochs, validation_split 0.1).
// Prints the progress, the first three predicted classes, and the training
// and test accuracy.
//   e5_mlp_keras [--epochs 50] [--data /usr/share/datasets/fashion-mnist]
//   [--seed 123] [--plots DIR]
#include "compiler/frontend/Keras.h"
#include "examples/ExampleUtil.h"
#include "runtime/data/Idx.h"
#include "runtime/plot/Svg.h"

#include <CLI/CLI.hpp>

#include <cstdio>

using namespace nncc;
namespace keras = nncc::fe::keras;

int main(int argc, char **argv) {
  CLI::App app{"E5: the MLP with a Keras-style API, trained on Fashion-MNIST"};
  int epochs = 50;
  uint64_t seed = 123;
  std::string dir = "/usr/share/datasets/fashion-mnist";
  app.add_option("--epochs", epochs, "training epochs");
  app.add_option("--data", dir, "directory of the idx files (.gz or plain)");
  app.add_option("--seed", seed, "seed of the initializers and the shuffling");
  std::string plots, device = "cpu";
  app.add_option("--device", device, "cpu, cuda or best (cuda where there is a GPU)");
  app.add_option("--plots", plots,
                 "write the loss and accuracy curves (e5_loss.svg, e5_accuracy.svg) here");
  CLI11_PARSE(app, argc, argv);

  auto data = rt::data::readMnistDir(dir);
  if (!data) {
    std::fprintf(stderr, "error: %s\n", data.error().c_str());
    return 1;
  }
  rt::data::standardize(data->trainImages, data->testImages);
  auto yTrain = keras::toCategorical(data->trainLabels, 10);
  if (!yTrain) {
    std::fprintf(stderr, "error: %s\n", yTrain.error().c_str());
    return 1;
  }
  std::printf("First 3 labels: %d %d %d\n", data->trainLabels.data<int32_t>()[0],
              data->trainLabels.data<int32_t>()[1], data->trainLabels.data<int32_t>()[2]);

  keras::Sequential model(seed);
  model.device(examples::deviceOf(device));
  model.add(keras::Dense(50, "tanh").inputDim(784));
  model.add(keras::Dense(50, "tanh"));
  model.add(keras::Dense(10, "softmax"));
  if (auto s =
          model.compile(keras::SGD(0.001f).decay(1e-7f).momentum(0.9f), "categorical_crossentropy");
      !s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  keras::FitOptions options;
  options.batchSize = 64;
  options.epochs = epochs;
  options.validationSplit = 0.1;
  auto history = model.fit(data->trainImages, *yTrain, options);
  if (!history) {
    std::fprintf(stderr, "error: %s\n", history.error().c_str());
    return 1;
  }

  auto train = model.predictClasses(data->trainImages);
  auto test = model.predictClasses(data->testImages);
  if (!train || !test) {
    std::fprintf(stderr, "error: %s\n", (train ? test.error() : train.error()).c_str());
    return 1;
  }
  const int64_t *t = train->data<int64_t>();
  std::printf("First 3 predictions: %lld %lld %lld\n", (long long)t[0], (long long)t[1],
              (long long)t[2]);
  auto accuracy = [](const rt::Tensor &classes, const rt::Tensor &labels) {
    int64_t correct = 0, n = labels.size();
    for (int64_t i = 0; i < n; ++i)
      correct += classes.data<int64_t>()[i] == labels.data<int32_t>()[i];
    return 100.0 * correct / n;
  };
  std::printf("Training accuracy: %.2f%%\n", accuracy(*train, data->trainLabels));
  std::printf("Test accuracy: %.2f%%\n", accuracy(*test, data->testLabels));
  if (!plots.empty()) {
    plot::Chart loss{"E5: loss per epoch", "epoch", "categorical cross-entropy", {}};
    loss.series.push_back(plot::perEpoch("loss", history->loss));
    loss.series.push_back(plot::perEpoch("val_loss", history->valLoss));
    plot::Chart acc{"E5: accuracy per epoch", "epoch", "accuracy", {}};
    acc.series.push_back(plot::perEpoch("accuracy", history->accuracy));
    acc.series.push_back(plot::perEpoch("val_accuracy", history->valAccuracy));
    for (auto &[chart, file] :
         {std::pair{&loss, "e5_loss.svg"}, std::pair{&acc, "e5_accuracy.svg"}}) {
      std::string path = plots + "/" + file;
      if (auto s = plot::writeSvg(*chart, path); !s.ok()) {
        std::fprintf(stderr, "error: %s\n", s.message().c_str());
        return 1;
      }
      std::printf("wrote %s\n", path.c_str());
    }
  }
  return 0;
}
