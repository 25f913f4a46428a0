// A small convolutional network (tf.layers: conv2d SAME + ReLU, max
// pooling, conv2d, average pooling, flatten, dense) trained with Adam on 640
// Fashion-MNIST images: the loss falls and most of 500 test images come out
// right, from compiled code (the CNN chapter's ops and optimizer end to end).
#include "test/e2e/CompileAndRun.h"

#include "compiler/frontend/Layers.h"
#include "runtime/data/Idx.h"

#include <sys/stat.h>

namespace fe = nncc::fe;
namespace layers = nncc::fe::layers;
using nncc::rt::DType;
using nncc::rt::Tensor;

namespace {

const char *kData = "/usr/share/datasets/fashion-mnist";

fe::Graph smallCnn() {
  fe::Graph g("cnn", 5);
  auto x = g.placeholder("x", nncc::graph::F32, fe::Dims{-1, 28, 28, 1});
  auto y = g.placeholder("y", nncc::graph::I32, fe::Dims{-1});
  auto h = layers::conv2d(x, 8, {5, 5}, {1, 1}, "same", "relu");
  h = layers::maxPooling2d(h, {2, 2}, {2, 2});
  h = layers::conv2d(h, 16, {3, 3}, {1, 1}, "valid", "relu");
  h = layers::averagePooling2d(h, {2, 2}, {2, 2}, "same");
  auto logits = layers::dense(layers::flatten(h), 10, "", "logits");
  auto loss = g.name(fe::reduceMean(fe::softmaxCrossEntropy(logits, y)), "loss");
  nncc::graph::Optimizer adam;
  adam.set_kind("adam");
  adam.set_learning_rate(0.003f);
  g.signature("train").feed(x).feed(y).fetch(loss).minimize(loss, adam);
  g.signature("predict").feed(x).fetch(g.name(fe::argmax(logits, 1), "classes"));
  return g;
}

TEST(Cnn, TrainsWithAdamOnFashionMnist) {
  struct stat st;
  if (stat(kData, &st) != 0)
    GTEST_SKIP() << kData << " is missing (Debian package dataset-fashion-mnist)";
  auto data = nncc::rt::data::readMnistDir(kData);
  ASSERT_TRUE(data.ok()) << data.error();
  nncc::rt::data::standardize(data->trainImages, data->testImages);
  fe::Graph g = smallCnn();
  EXPECT_EQ(g.proto().variables_size(), 6); // two conv layers and the dense one
  auto exe = nncc::test::orFail(nncc::compileAndLoad(nncc::fromProto(g.proto(), "cnn")));
  ASSERT_TRUE(exe);
  nncc::rt::Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  const int64_t images = 640, batch = 32;
  std::vector<double> epochLoss;
  for (int epoch = 0; epoch < 3; ++epoch) {
    double sum = 0;
    for (int64_t first = 0; first < images; first += batch) {
      auto xb = Tensor::borrow(DType::F32, {batch, 28, 28, 1},
                               data->trainImages.data<float>() + first * 784);
      auto yb = Tensor::borrow(DType::I32, {batch}, data->trainLabels.data<int32_t>() + first);
      auto out = s.run("train", {{"x", xb}, {"y", yb}}, {"loss"});
      ASSERT_TRUE(out.ok()) << out.error();
      sum += out->at("loss").toDoubles()[0];
    }
    epochLoss.push_back(sum / (images / batch));
  }
  EXPECT_GT(epochLoss[0], 0.9); // from ln(10) = 2.3 at the start
  EXPECT_LT(epochLoss[2], 0.75 * epochLoss[0]);
  // Adam's slots are variables of the session.
  EXPECT_TRUE(s.variable("train/conv2d/kernel/m").ok());
  auto test = Tensor::borrow(DType::F32, {500, 28, 28, 1}, data->testImages.data<float>());
  auto out = s.run("predict", {{"x", test}}, {"classes"});
  ASSERT_TRUE(out.ok()) << out.error();
  int correct = 0;
  for (int i = 0; i < 500; ++i)
    correct += out->at("classes").data<int64_t>()[i] == data->testLabels.data<int32_t>()[i];
  EXPECT_GT(correct, 300) << "of 500";
  std::printf("epoch losses %.4f %.4f %.4f, test accuracy %d/500\n", epochLoss[0], epochLoss[1],
              epochLoss[2], correct);
}

} // namespace
