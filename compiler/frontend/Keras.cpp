#include "compiler/frontend/Keras.h"

#include "compiler/driver/Jit.h"
#include "compiler/frontend/Layers.h"
#include "runtime/Collective.h"
#include "runtime/data/Idx.h"

#include <chrono>
#include <cstring>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <unistd.h>

namespace nncc::fe::keras {
namespace {

using Clock = std::chrono::steady_clock;

bool isCrossEntropy(const std::string &loss) {
  return loss == "categorical_crossentropy" || loss == "sparse_categorical_crossentropy";
}

/// Rows [begin, end) of `t`, borrowed.
rt::Tensor rows(const rt::Tensor &t, int64_t begin, int64_t end) {
  rt::Shape shape = t.shape();
  int64_t row = shape[0] ? t.size() / shape[0] : 0;
  shape[0] = end - begin;
  auto *data = static_cast<char *>(const_cast<void *>(t.data())) +
               begin * row * static_cast<int64_t>(rt::dtypeSize(t.dtype()));
  return rt::Tensor::borrow(t.dtype(), shape, data);
}

std::string bar(int64_t done, int64_t total) {
  const int width = 30;
  int filled = total ? static_cast<int>(width * done / total) : width;
  std::string s(width, '.');
  for (int i = 0; i < filled; ++i)
    s[i] = '=';
  if (filled < width)
    s[filled] = '>';
  return "[" + s + "]";
}

/// Runs `signature` over the rows of x (and y) in batches; the fetches of
/// each batch, in order.
rt::Expected<std::vector<rt::Tensor>> runBatched(rt::Session &session, const std::string &signature,
                                                 const std::string &xName, const rt::Tensor &x,
                                                 const std::string &yName, const rt::Tensor *y,
                                                 const std::vector<std::string> &fetches,
                                                 int64_t batchSize) {
  if (x.rank() < 1 || (y && (y->rank() < 1 || y->shape()[0] != x.shape()[0])))
    return rt::Status::error(signature + ": x and y must have the same number of samples");
  std::vector<rt::Tensor> parts;
  int64_t n = x.shape()[0];
  batchSize = std::max<int64_t>(1, batchSize);
  for (int64_t at = 0; at < n; at += batchSize) {
    int64_t end = std::min(n, at + batchSize);
    rt::TensorMap feeds{{xName, rows(x, at, end)}};
    if (y)
      feeds[yName] = rows(*y, at, end);
    auto result = session.run(signature, feeds, fetches);
    if (!result)
      return rt::Status::error(result.error());
    for (const std::string &f : fetches)
      parts.push_back(result->at(f));
  }
  return parts;
}

} // namespace

Sequential::Sequential(uint64_t seed, std::string name) : seed_(seed), name_(std::move(name)) {}

void Sequential::add(Layer layer) { layers_.push_back(std::move(layer)); }

Optimizer::Optimizer(const SGD &o) {
  proto.set_kind("sgd");
  proto.set_learning_rate(o.lr);
  proto.set_momentum(o.mom);
  proto.set_decay(o.dec);
  proto.set_nesterov(o.nest);
}

Optimizer::Optimizer(const Adam &o) {
  proto.set_kind("adam");
  proto.set_learning_rate(o.lr);
  proto.set_beta1(o.b1);
  proto.set_beta2(o.b2);
  proto.set_epsilon(o.eps);
  proto.set_decay(o.dec);
}

Optimizer::Optimizer(const RMSprop &o) {
  proto.set_kind("rmsprop");
  proto.set_learning_rate(o.lr);
  proto.set_rho(o.rh);
  proto.set_momentum(o.mom);
  proto.set_epsilon(o.eps);
  proto.set_decay(o.dec);
}

rt::Status Sequential::compile(const Optimizer &optimizer, const std::string &loss,
                               const std::vector<std::string> &metrics) {
  if (layers_.empty())
    return rt::Status::error("Sequential.compile: the model has no layers");
  Dims input;
  if (auto *d = std::get_if<Dense>(&layers_.front()); d && d->inputDims > 0)
    input = {-1, d->inputDims};
  if (auto *c = std::get_if<Conv2D>(&layers_.front()); c && c->input.size() == 3)
    input = {-1, c->input[0], c->input[1], c->input[2]};
  if (input.empty())
    return rt::Status::error("Sequential.compile: the first layer needs inputDim (Dense) or "
                             "inputShape [rows, columns, channels] (Conv2D)");
  if (!std::holds_alternative<Dense>(layers_.back()))
    return rt::Status::error("Sequential.compile: the last layer must be Dense");
  if (!isCrossEntropy(loss) && loss != "mse" && loss != "mean_squared_error")
    return rt::Status::error("Sequential.compile: unknown loss '" + loss +
                             "' (expected categorical_crossentropy, "
                             "sparse_categorical_crossentropy or mse)");
  for (const std::string &m : metrics)
    if (m != "accuracy" && m != "acc")
      return rt::Status::error("Sequential.compile: unknown metric '" + m +
                               "' (expected accuracy)");
  const Dense &last = std::get<Dense>(layers_.back());
  if (isCrossEntropy(loss) && last.activation != "softmax")
    return rt::Status::error("Sequential.compile: " + loss +
                             " needs a softmax last layer, got activation '" + last.activation +
                             "'");
  loss_ = loss;
  graph_ = std::make_unique<Graph>(name_, seed_);
  Graph &g = *graph_;
  Output x = g.placeholder("x", graph::F32, input);
  Output h = x;
  try {
    // Keras' names: dense_1, conv2d_1, max_pooling2d_1..., counted per kind.
    std::map<std::string, int> counts;
    auto name = [&](const std::string &kind) {
      return kind + "_" + std::to_string(++counts[kind]);
    };
    for (size_t i = 0; i < layers_.size(); ++i) {
      const Layer &layer = layers_[i];
      if (auto *l = std::get_if<Dense>(&layer)) {
        bool fusedSoftmax = i + 1 == layers_.size() && isCrossEntropy(loss);
        // The last softmax is applied to the logits by the loss itself
        // (softmax cross-entropy), which is exact where log(softmax) is not.
        h = layers::dense(h, l->units, fusedSoftmax ? "" : l->activation, name("dense"), l->kernel,
                          l->bias);
      } else if (auto *c = std::get_if<Conv2D>(&layer)) {
        h = layers::conv2d(h, c->filters, c->kernelSize, c->stride, c->pad, c->activation,
                           name("conv2d"));
      } else if (auto *p = std::get_if<MaxPooling2D>(&layer)) {
        h = layers::maxPooling2d(h, p->pool, p->stride.empty() ? p->pool : p->stride, p->pad,
                                 name("max_pooling2d"));
      } else if (auto *p = std::get_if<AveragePooling2D>(&layer)) {
        h = layers::averagePooling2d(h, p->pool, p->stride.empty() ? p->pool : p->stride, p->pad,
                                     name("average_pooling2d"));
      } else if (auto *bn = std::get_if<BatchNormalization>(&layer)) {
        h = layers::batchNormalization(h, bn->momentum, bn->epsilon, name("batch_normalization"));
      } else if (std::holds_alternative<GlobalAveragePooling2D>(layer)) {
        h = layers::globalAveragePooling2d(h, name("global_average_pooling2d"));
      } else if (auto *d = std::get_if<Dropout>(&layer)) {
        h = layers::dropout(h, d->rate, name("dropout"));
      } else {
        h = layers::flatten(h, name("flatten"));
      }
    }
  } catch (const std::invalid_argument &e) {
    return rt::Status::error(std::string("Sequential.compile: ") + e.what());
  }
  int64_t classes = last.units;
  bool sparse = loss == "sparse_categorical_crossentropy";
  Output y = sparse ? g.placeholder("y", graph::I32, Dims{-1})
                    : g.placeholder("y", graph::F32, Dims{-1, classes});
  // The model's output: the softmax of the logits, or the last layer itself.
  Output output = isCrossEntropy(loss) ? g.name(softmax(h), "output") : h;
  outputName_ = output.name();
  Output cost = isCrossEntropy(loss) ? g.name(reduceMean(softmaxCrossEntropy(h, y)), "loss")
                                     : g.name(meanSquaredError(h, y), "loss");
  Output truth = sparse ? cast(y, graph::I64) : argmax(y, 1);
  Output accuracy = g.name(reduceMean(cast(equal(argmax(h, 1), truth), graph::F32)), "accuracy");
  g.signature("train").feed(x).feed(y).fetch(cost).fetch(accuracy).minimize(cost, optimizer.proto);
  g.signature("evaluate").feed(x).feed(y).fetch(cost).fetch(accuracy);
  g.signature("predict").feed(x).fetch(output);
  if (stepsPerExecution_ < 1)
    return rt::Status::error("Sequential.compile: stepsPerExecution must be 1 or more, got " +
                             std::to_string(stepsPerExecution_));
  if (stepsPerExecution_ > 1)
    g.loop("train_loop", "train", stepsPerExecution_);

  CompileOptions options = onDevice(device_);
  options.checkNumerics = checkNumerics_;
  options.dataParallel = distributed_;
  auto exe = compileAndLoad(fromProto(g.proto(), name_), options);
  if (!exe)
    return rt::Status::error("Sequential.compile: " + llvm::toString(exe.takeError()));
  session_ = std::make_unique<rt::Session>(*exe, device_);
  return session_->initialize();
}

rt::Expected<History> Sequential::fit(const rt::Tensor &x, const rt::Tensor &y,
                                      const FitOptions &options) {
  if (!session_)
    return rt::Status::error("Sequential.fit: compile the model first");
  auto history = fitSession(*session_, TrainingSignatures(), x, y, options, seed_);
  if (!history)
    return rt::Status::error("Sequential.fit: " + history.error());
  return history;
}

rt::Expected<History> fitSession(rt::Session &session, const TrainingSignatures &sigs,
                                 const rt::Tensor &x, const rt::Tensor &y,
                                 const FitOptions &options, uint64_t seed) {
  if (x.rank() < 1 || y.rank() < 1 || x.shape()[0] != y.shape()[0])
    return rt::Status::error("x has " + rt::shapeString(x.shape()) + " and y " +
                             rt::shapeString(y.shape()) + ": the sample counts differ");
  if (options.validationSplit < 0 || options.validationSplit >= 1)
    return rt::Status::error("validationSplit must be in [0, 1)");
  if (options.batchSize <= 0 || options.epochs < 0)
    return rt::Status::error("batchSize must be positive and epochs not negative");
  int64_t n = x.shape()[0];
  // Data-parallel: this rank's shard of every batch; rank 0 reports.
  const exe::SignatureSpec *trainSpec = session.executable().signature(sigs.train);
  rt::Collective *group =
      trainSpec && trainSpec->all_reduce_calls() > 0 ? rt::collective() : nullptr;
  if (group && group->size() == 1)
    group = nullptr;
  // Without an evaluation signature nothing is held out.
  int64_t nTrain =
      sigs.evaluate.empty() ? n : static_cast<int64_t>(n * (1 - options.validationSplit));
  rt::Tensor xTrain = rows(x, 0, nTrain), yTrain = rows(y, 0, nTrain);
  rt::Tensor xVal = rows(x, nTrain, n), yVal = rows(y, nTrain, n);
  bool validate = nTrain < n && !sigs.evaluate.empty();
  std::FILE *out = group && group->rank() != 0 ? nullptr : options.out;
  bool terminal = out && isatty(fileno(out));
  if (options.verbose && out) {
    if (validate)
      std::fprintf(out, "Train on %lld samples, validate on %lld samples\n", (long long)nTrain,
                   (long long)(n - nTrain));
    else
      std::fprintf(out, "Train on %lld samples\n", (long long)nTrain);
    if (group)
      std::fprintf(out, "Data-parallel on %s: each takes 1/%d of every batch of %lld\n",
                   group->describe().c_str(), group->size(), (long long)options.batchSize);
  }

  History history;
  std::vector<std::string> fetches{sigs.loss};
  if (!sigs.accuracy.empty())
    fetches.push_back(sigs.accuracy);
  // A step's figures, added up over the epoch; false where the loss is not
  // finite (after the message).
  double lossSum = 0, accSum = 0;
  int64_t done = 0;
  rt::Status stopped;
  auto took = [&](int epoch, int64_t b, double l, double a, Clock::time_point t0) {
    if (!std::isfinite(l)) {
      stopped = rt::Status::error("the loss became " + std::to_string(l) + " in epoch " +
                                  std::to_string(epoch) + " after " + std::to_string(done) +
                                  " samples; stopping");
      return false;
    }
    lossSum += l * b;
    accSum += a * b;
    done += b;
    if (options.verbose && terminal && (done == nTrain || (done / b) % 50 == 0)) {
      double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      std::fprintf(out, "\r%lld/%lld %s - %.1fs %.0fus/sample - loss: %.4f", (long long)done,
                   (long long)nTrain, bar(done, nTrain).c_str(), elapsed, elapsed / done * 1e6,
                   lossSum / done);
      if (!sigs.accuracy.empty())
        std::fprintf(out, " - acc: %.4f", accSum / done);
      std::fflush(out);
    }
    return true;
  };

  // The compiled loop, where the executable has one over the training
  // signature: the training set on the device once, `steps` batches a call,
  // in the order a BatchIterator of the same seed takes them.
  const exe::SignatureSpec *loop =
      sigs.loop.empty() ? nullptr : session.executable().signature(sigs.loop);
  if (loop && !(loop->has_loop() && loop->loop().step() == sigs.train))
    loop = nullptr;
  rt::DeviceTensorMap dataset;
  std::vector<int32_t> order;
  std::mt19937_64 rng(seed);
  if (loop && group)
    return rt::Status::error("a compiled loop (steps per call) does not shard the batches over "
                             "the ranks yet: train data-parallel with one step per call");
  if (loop) {
    if (nTrain > INT32_MAX)
      return rt::Status::error("a compiled loop takes at most 2^31 - 1 samples, got " +
                               std::to_string(nTrain));
    auto xd = session.upload(xTrain), yd = session.upload(yTrain);
    if (!xd || !yd)
      return rt::Status::error(xd ? yd.error() : xd.error());
    dataset = {{sigs.x, *xd}, {sigs.y, *yd}};
    order.resize(nTrain);
    std::iota(order.begin(), order.end(), 0);
  }
  std::optional<rt::data::BatchIterator> batches;
  if (!loop)
    batches.emplace(xTrain, yTrain, options.batchSize, seed, options.shuffle);
  if (group)
    batches->shard(group->rank(), group->size());
  rt::Tensor xb, yb;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    if (options.verbose && out)
      std::fprintf(out, "Epoch %d/%d\n", epoch, options.epochs);
    auto t0 = Clock::now();
    lossSum = accSum = 0;
    done = 0;
    if (loop) {
      if (options.shuffle)
        std::shuffle(order.begin(), order.end(), rng);
      auto orderOnDevice = session.upload(rt::Tensor::of<int32_t>({nTrain}, order));
      if (!orderOnDevice)
        return orderOnDevice.status();
      dataset["order"] = *orderOnDevice;
      int64_t steps = loop->loop().steps();
      int64_t count = (nTrain + options.batchSize - 1) / options.batchSize;
      rt::Tensor batch = rt::Tensor::of<int32_t>({}, {static_cast<int32_t>(options.batchSize)});
      for (int64_t first = 0; first < count; first += steps) {
        auto result =
            session.run(sigs.loop,
                        {{"first", rt::Tensor::of<int32_t>({}, {static_cast<int32_t>(first)})},
                         {"batch", batch}},
                        dataset, fetches, {});
        if (!result)
          return rt::Status::error(result.error());
        std::vector<double> l = result->host.at(sigs.loss).toDoubles(), a;
        if (!sigs.accuracy.empty())
          a = result->host.at(sigs.accuracy).toDoubles();
        for (int64_t k = 0; k < steps && first + k < count; ++k) {
          int64_t b = std::min(options.batchSize, nTrain - (first + k) * options.batchSize);
          if (!took(epoch, b, l[k], a.empty() ? 0 : a[k], t0))
            return stopped;
        }
      }
    } else {
      batches->startEpoch();
      while (batches->next(xb, yb)) {
        auto result = session.run(sigs.train, {{sigs.x, xb}, {sigs.y, yb}}, fetches);
        if (!result)
          return rt::Status::error(result.error());
        double l = result->at(sigs.loss).toDoubles()[0];
        double a = sigs.accuracy.empty() ? 0 : result->at(sigs.accuracy).toDoubles()[0];
        if (!took(epoch, xb.shape()[0], l, a, t0))
          return stopped;
      }
    }
    if (group) { // the epoch's figures over every rank's shards
      double sums[3] = {lossSum, accSum, static_cast<double>(done)};
      if (auto s = group->allReduce(sums, 3, rt::DType::F64, false); !s.ok())
        return s;
      lossSum = sums[0];
      accSum = sums[1];
      done = static_cast<int64_t>(sums[2]);
    }
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    history.loss.push_back(done ? lossSum / done : 0);
    if (!sigs.accuracy.empty())
      history.accuracy.push_back(done ? accSum / done : 0);
    std::string line;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%lld/%lld %s - %.1fs %.0fus/sample - loss: %.4f",
                  (long long)done, (long long)nTrain, bar(done, nTrain).c_str(), seconds,
                  done ? seconds / done * 1e6 : 0.0, history.loss.back());
    line = buf;
    if (!sigs.accuracy.empty()) {
      std::snprintf(buf, sizeof buf, " - acc: %.4f", history.accuracy.back());
      line += buf;
    }
    if (validate) {
      auto val = evaluateSession(session, sigs, xVal, yVal);
      if (!val)
        return val.status();
      history.valLoss.push_back((*val)[0]);
      if (!sigs.accuracy.empty())
        history.valAccuracy.push_back((*val)[1]);
      std::snprintf(buf, sizeof buf, " - val_loss: %.4f", (*val)[0]);
      line += buf;
      if (!sigs.accuracy.empty()) {
        std::snprintf(buf, sizeof buf, " - val_acc: %.4f", (*val)[1]);
        line += buf;
      }
    }
    if (options.verbose && out) {
      std::fprintf(out, "%s%s\n", terminal ? "\r" : "", line.c_str());
      std::fflush(out);
    }
  }
  return history;
}

rt::Expected<std::vector<double>> Sequential::evaluate(const rt::Tensor &x, const rt::Tensor &y,
                                                       int64_t batchSize) {
  if (!session_)
    return rt::Status::error("Sequential.evaluate: compile the model first");
  auto result = evaluateSession(*session_, TrainingSignatures(), x, y, batchSize);
  if (!result)
    return rt::Status::error("Sequential.evaluate: " + result.error());
  return result;
}

rt::Expected<std::vector<double>> evaluateSession(rt::Session &session,
                                                  const TrainingSignatures &sigs,
                                                  const rt::Tensor &x, const rt::Tensor &y,
                                                  int64_t batchSize) {
  std::vector<std::string> fetches{sigs.loss};
  if (!sigs.accuracy.empty())
    fetches.push_back(sigs.accuracy);
  batchSize = std::max<int64_t>(1, batchSize);
  auto parts = runBatched(session, sigs.evaluate, sigs.x, x, sigs.y, &y, fetches, batchSize);
  if (!parts)
    return parts.status();
  double loss = 0, acc = 0;
  int64_t n = x.shape()[0];
  size_t per = fetches.size();
  for (size_t i = 0; i < parts->size(); i += per) {
    int64_t at = static_cast<int64_t>(i / per) * batchSize;
    int64_t b = std::min(n - at, batchSize);
    loss += (*parts)[i].toDoubles()[0] * b;
    if (per > 1)
      acc += (*parts)[i + 1].toDoubles()[0] * b;
  }
  return std::vector<double>{n ? loss / n : 0, n ? acc / n : 0};
}

rt::Expected<rt::Tensor> Sequential::predict(const rt::Tensor &x, int64_t batchSize) {
  if (!session_)
    return rt::Status::error("Sequential.predict: compile the model first");
  auto parts = runBatched(*session_, "predict", "x", x, "", nullptr, {outputName_}, batchSize);
  if (!parts)
    return rt::Status::error("Sequential.predict: " + parts.error());
  int64_t n = x.shape()[0], units = std::get<Dense>(layers_.back()).units;
  rt::Tensor all(rt::DType::F32, {n, units});
  char *dst = static_cast<char *>(all.data());
  for (const rt::Tensor &p : *parts) {
    std::memcpy(dst, p.data(), p.bytes());
    dst += p.bytes();
  }
  return all;
}

rt::Expected<rt::Tensor> Sequential::predictClasses(const rt::Tensor &x, int64_t batchSize) {
  auto probs = predict(x, batchSize);
  if (!probs)
    return probs.status();
  int64_t n = probs->shape()[0], units = probs->shape()[1];
  rt::Tensor classes(rt::DType::I64, {n});
  const float *p = probs->data<float>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < units; ++j)
      if (p[i * units + j] > p[i * units + best])
        best = j;
    classes.data<int64_t>()[i] = best;
  }
  return classes;
}

rt::Expected<rt::Tensor> toCategorical(const rt::Tensor &labels, int64_t classes) {
  if (labels.rank() != 1 || (labels.dtype() != rt::DType::I32 && labels.dtype() != rt::DType::I64))
    return rt::Status::error("to_categorical: labels must be an i32 or i64 vector, got " +
                             std::string(rt::dtypeName(labels.dtype())) + " " +
                             rt::shapeString(labels.shape()));
  if (classes <= 0)
    return rt::Status::error("to_categorical: classes must be positive");
  int64_t n = labels.shape()[0];
  rt::Tensor out(rt::DType::F32, {n, classes});
  std::memset(out.data(), 0, out.bytes());
  auto values = labels.toDoubles();
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = static_cast<int64_t>(values[i]);
    if (c < 0 || c >= classes)
      return rt::Status::error("to_categorical: label " + std::to_string(c) + " of sample " +
                               std::to_string(i) + " is outside [0, " + std::to_string(classes) +
                               ")");
    out.data<float>()[i * classes + c] = 1;
  }
  return out;
}

} // namespace nncc::fe::keras
