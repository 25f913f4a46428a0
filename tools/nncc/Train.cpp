// nncc train: trains a model with a training signature (.pbtxt/.pb) or the
// built-in textbook MLP on MNIST-format idx data, with Keras's progress
// report; writes a checkpoint, the history as CSV and the curves as SVG.
#include "compiler/driver/Jit.h"
#include "compiler/frontend/Keras.h"
#include "runtime/Collective.h"
#include "runtime/Npy.h"
#include "runtime/data/Idx.h"
#include "runtime/plot/Svg.h"
#include "tools/nncc/Commands.h"

#if NNCC_HAVE_MPI
#include "runtime/mpi/MpiCollective.h"
#endif

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

namespace nncc::tool {
namespace keras = fe::keras;
namespace {

/// "rank 1 of 2: " in a data-parallel run of several ranks.
std::string rankPrefix;

int fail(const std::string &message) {
  std::cerr << "error: " << rankPrefix << message << "\n";
  return 1;
}

/// Rank 0's training set size, batch and epochs, which every rank must
/// share (each step is a collective call: ranks taking different numbers
/// of steps would wait on each other forever).
rt::Status checkRanksAgree(rt::Collective &group, int64_t samples, const TrainArgs &args) {
  double mine[3] = {static_cast<double>(samples), static_cast<double>(args.batch),
                    static_cast<double>(args.epochs)};
  double first[3] = {mine[0], mine[1], mine[2]};
  if (auto s = group.broadcast(first, sizeof first, 0); !s.ok())
    return s;
  const char *what[3] = {"training samples", "samples a global batch (--batch)", "epochs"};
  for (int i = 0; i < 3; ++i)
    if (mine[i] != first[i])
      return rt::Status::error("this rank has " + std::to_string((long long)mine[i]) + " " +
                               what[i] + ", rank 0 " + std::to_string((long long)first[i]) +
                               " (every rank must train on the same data and flags)");
  return rt::Status();
}

/// The optimizer flags given, over the optimizer's settings (the importer
/// refuses one the optimizer does not have).
void applyOptimizerFlags(const TrainArgs &args, graph::Optimizer &opt) {
  if (args.lr)
    opt.set_learning_rate(*args.lr);
  if (args.momentum)
    opt.set_momentum(*args.momentum);
  if (args.decay)
    opt.set_decay(*args.decay);
  if (args.nesterov)
    opt.set_nesterov(true);
  if (args.beta1)
    opt.set_beta1(*args.beta1);
  if (args.beta2)
    opt.set_beta2(*args.beta2);
  if (args.epsilon)
    opt.set_epsilon(*args.epsilon);
  if (args.rho)
    opt.set_rho(*args.rho);
}

/// The built-in MLP: 784, the hidden tanh layers, 10 softmax outputs.
rt::Expected<std::unique_ptr<keras::Sequential>> builtinMlp(const TrainArgs &args) {
  auto model = std::make_unique<keras::Sequential>(args.seed, "mlp");
  for (size_t i = 0; i < args.hidden.size(); ++i) {
    keras::Dense layer(args.hidden[i], "tanh");
    if (i == 0)
      layer.inputDim(784);
    model->add(layer);
  }
  model->add(args.hidden.empty() ? keras::Dense(10, "softmax").inputDim(784)
                                 : keras::Dense(10, "softmax"));
  model->checkNumerics(args.checkNumerics);
  model->distributed(args.dataParallel);
  model->stepsPerExecution(args.stepsPerCall);
  keras::Optimizer optimizer = keras::SGD(args.lr ? *args.lr : 0.001f);
  optimizer.proto.set_kind(args.optimizer.empty() ? "sgd" : args.optimizer);
  applyOptimizerFlags(args, optimizer.proto);
  if (auto s = model->compile(optimizer, "sparse_categorical_crossentropy", {"accuracy"}); !s.ok())
    return s;
  return model;
}

/// The built-in CNN (the CNN chapter's E7) in Keras form: conv 5x5x32 SAME
/// + ReLU, max-pool 2x2, conv 5x5x64 SAME + ReLU, max-pool 2x2, dense 1024
/// ReLU, dropout 0.5, dense 10 softmax; Adam (lr 1e-4) unless told.
rt::Expected<std::unique_ptr<keras::Sequential>> builtinCnn(const TrainArgs &args) {
  auto model = std::make_unique<keras::Sequential>(args.seed, "cnn");
  model->add(keras::Conv2D(32, {5, 5}, "relu").padding("same").inputShape({28, 28, 1}));
  model->add(keras::MaxPooling2D({2, 2}));
  model->add(keras::Conv2D(64, {5, 5}, "relu").padding("same"));
  model->add(keras::MaxPooling2D({2, 2}));
  model->add(keras::Flatten());
  model->add(keras::Dense(1024, "relu"));
  model->add(keras::Dropout(0.5f));
  model->add(keras::Dense(10, "softmax"));
  model->checkNumerics(args.checkNumerics);
  model->distributed(args.dataParallel);
  model->stepsPerExecution(args.stepsPerCall);
  keras::Optimizer optimizer = keras::Adam(args.lr ? *args.lr : 1e-4f);
  if (!args.optimizer.empty() && args.optimizer != "adam") {
    optimizer.proto.Clear();
    optimizer.proto.set_learning_rate(args.lr ? *args.lr : 1e-4f);
    optimizer.proto.set_kind(args.optimizer);
  }
  applyOptimizerFlags(args, optimizer.proto);
  if (auto s = model->compile(optimizer, "sparse_categorical_crossentropy", {"accuracy"}); !s.ok())
    return s;
  return model;
}

/// Rows of 784 pixels as the model's images placeholder `x` takes them:
/// [N, 28, 28, 1] for a convolutional model (the same memory); as they are
/// otherwise.
rt::Tensor asFed(const graph::Graph &g, const std::string &x, rt::Tensor &rows) {
  for (const graph::Placeholder &p : g.placeholders()) {
    if (p.name() != x || p.shape().dims_size() < 3)
      continue;
    rt::Shape shape = {rows.shape()[0]};
    int64_t per = 1;
    for (int i = 1; i < p.shape().dims_size(); ++i) {
      shape.push_back(p.shape().dims(i));
      per *= p.shape().dims(i);
    }
    if (rows.rank() == 2 && per == rows.shape()[1])
      return rt::Tensor::borrow(rows.dtype(), shape, rows.data());
  }
  return rows;
}

/// The history as CSV: epoch, loss, accuracy, val_loss, val_accuracy.
rt::Status writeHistory(const keras::History &h, const std::string &path) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out)
      return rt::Status::error(path + ": cannot write the history");
    out << "epoch,loss,accuracy,val_loss,val_accuracy\n";
    auto cell = [&](const std::vector<double> &v, size_t i) {
      out << ",";
      if (i < v.size())
        out << v[i];
    };
    for (size_t i = 0; i < h.loss.size(); ++i) {
      out << i + 1 << "," << h.loss[i];
      cell(h.accuracy, i);
      cell(h.valLoss, i);
      cell(h.valAccuracy, i);
      out << "\n";
    }
    if (!out)
      return rt::Status::error(path + ": writing the history failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return rt::Status::error(path + ": cannot write the history (rename failed)");
  return rt::Status();
}

rt::Status writeCurves(const keras::History &h, const std::string &dir, bool accuracy) {
  plot::Chart loss{"loss per epoch", "epoch", "loss", {plot::perEpoch("loss", h.loss)}};
  if (!h.valLoss.empty())
    loss.series.push_back(plot::perEpoch("val_loss", h.valLoss));
  if (auto s = plot::writeSvg(loss, dir + "/loss.svg"); !s.ok())
    return s;
  if (!accuracy)
    return rt::Status();
  plot::Chart acc{
      "accuracy per epoch", "epoch", "accuracy", {plot::perEpoch("accuracy", h.accuracy)}};
  if (!h.valAccuracy.empty())
    acc.series.push_back(plot::perEpoch("val_accuracy", h.valAccuracy));
  return plot::writeSvg(acc, dir + "/accuracy.svg");
}

int train(const TrainArgs &args, rt::Collective *group) {
  // Several ranks: rank 0 alone reads a checkpoint, reports and writes.
  bool lead = !group || group->rank() == 0;
  if (args.device != "cpu")
    return fail("device '" + args.device +
                "': this build runs on the cpu only "
                "(the CUDA backend is not built yet)");
  auto data = rt::data::readMnistDir(args.data);
  if (!data)
    return fail(data.error());
  rt::data::standardize(data->trainImages, data->testImages);
  // The whole training set stays owned here; the first N rows are a view.
  rt::Tensor allImages = data->trainImages, allLabels = data->trainLabels;
  if (args.trainImages > 0 && args.trainImages < data->trainImages.shape()[0]) {
    rt::Shape rows = data->trainImages.shape();
    rows[0] = args.trainImages;
    data->trainImages = rt::Tensor::borrow(allImages.dtype(), rows, allImages.data());
    data->trainLabels = rt::Tensor::borrow(allLabels.dtype(), {args.trainImages}, allLabels.data());
  }

  keras::FitOptions fit;
  fit.batchSize = args.batch;
  fit.epochs = args.epochs;
  fit.validationSplit = args.validationSplit;
  fit.verbose = args.quiet ? 0 : 1;
  keras::TrainingSignatures sigs;
  std::unique_ptr<keras::Sequential> mlp;
  std::shared_ptr<rt::Executable> exe;
  std::unique_ptr<rt::Session> owned;
  rt::Session *session = nullptr;
  rt::Tensor yTrain = data->trainLabels, yTest = data->testLabels;
  graph::Graph graph; // the model trained

  if (args.model == "mlp" || args.model == "cnn") {
    auto model = args.model == "mlp" ? builtinMlp(args) : builtinCnn(args);
    if (!model)
      return fail(model.error());
    mlp = model.take();
    session = mlp->session();
    graph = mlp->graph();
  } else {
    auto loaded = readGraphFile(args.model);
    if (!loaded)
      return fail(llvm::toString(loaded.takeError()));
    graph::Signature *train = nullptr;
    for (graph::Signature &sig : *loaded->graph.mutable_signatures())
      if (args.signature.empty() ? !sig.loss().empty() : sig.name() == args.signature)
        train = &sig;
    if (!train)
      return fail(args.model + ": " +
                  (args.signature.empty() ? std::string("no training signature (one with a loss)")
                                          : "no signature '" + args.signature + "'"));
    if (train->loss().empty() || train->feeds_size() != 2)
      return fail(args.model + ": signature '" + train->name() +
                  "' must train (have a loss) and feed the images and the labels, in "
                  "that order");
    // The flags override the model's optimizer settings.
    graph::Optimizer &opt = *train->mutable_optimizer();
    if (!args.optimizer.empty() && args.optimizer != opt.kind()) {
      // Another optimizer: the model's settings were for its own.
      float lr = opt.learning_rate();
      opt.Clear();
      opt.set_learning_rate(lr);
      opt.set_kind(args.optimizer);
    }
    if (opt.kind().empty())
      opt.set_kind("sgd");
    applyOptimizerFlags(args, opt);
    sigs.train = train->name();
    sigs.x = train->feeds(0);
    sigs.y = train->feeds(1);
    sigs.loss = train->loss();
    sigs.accuracy = "";
    for (const std::string &f : train->fetches())
      if (f == "accuracy")
        sigs.accuracy = f;
    sigs.evaluate = "";
    for (const graph::Signature &sig : loaded->graph.signatures())
      if (sig.name() == "evaluate")
        sigs.evaluate = sig.name();
    // One-hot labels when the model takes float rows.
    for (const graph::Placeholder &p : loaded->graph.placeholders())
      if (p.name() == sigs.y && p.dtype() == graph::F32) {
        int64_t classes = p.shape().dims_size() == 2 ? p.shape().dims(1) : -1;
        if (classes <= 0)
          return fail(args.model + ": labels '" + sigs.y +
                      "' are float: give them the shape (-1, classes)");
        auto a = keras::toCategorical(data->trainLabels, classes);
        auto b = keras::toCategorical(data->testLabels, classes);
        if (!a || !b)
          return fail(a ? b.error() : a.error());
        yTrain = a.take();
        yTest = b.take();
      }
    if (args.stepsPerCall > 1) {
      sigs.loop = train->name() + "_loop";
      graph::Signature *loop = loaded->graph.add_signatures();
      loop->set_name(sigs.loop);
      loop->mutable_loop()->set_step(sigs.train);
      loop->mutable_loop()->set_steps(args.stepsPerCall);
    }
    graph = loaded->graph;
    CompileOptions options;
    options.checkNumerics = args.checkNumerics;
    options.dataParallel = args.dataParallel;
    auto compiled = compileAndLoad(*loaded, options);
    if (!compiled)
      return fail(llvm::toString(compiled.takeError()));
    exe = *compiled;
    owned = std::make_unique<rt::Session>(exe);
    if (auto s = owned->initialize(); !s.ok())
      return fail(s.message());
    session = owned.get();
  }
  if (!args.restore.empty() && lead)
    if (auto s = session->restore(args.restore); !s.ok())
      return fail(s.message());
  if (group) {
    // Every rank starts from rank 0's variables (its checkpoint, or the
    // seeded initializers every rank ran alike).
    if (auto s = checkRanksAgree(*group, data->trainImages.shape()[0], args); !s.ok())
      return fail(s.message());
    if (auto s = rt::broadcastVariables(*session, *group); !s.ok())
      return fail(s.message());
  }

  rt::Tensor trainImages = asFed(graph, sigs.x, data->trainImages);
  rt::Tensor testImages = asFed(graph, sigs.x, data->testImages);
  auto history = keras::fitSession(*session, sigs, trainImages, yTrain, fit, args.seed);
  if (!history)
    return fail(history.error());
  if (!lead)
    return 0;
  if (!sigs.evaluate.empty()) {
    auto test = keras::evaluateSession(*session, sigs, testImages, yTest);
    if (!test)
      return fail(test.error());
    std::printf("Test loss: %.4f", (*test)[0]);
    if (!sigs.accuracy.empty())
      std::printf(" - test accuracy: %.2f%%", 100 * (*test)[1]);
    std::printf("\n");
  }
  if (!args.checkpoint.empty()) {
    if (auto s = session->save(args.checkpoint); !s.ok())
      return fail(s.message());
    std::printf("wrote %s\n", args.checkpoint.c_str());
  }
  // What `nncc run MODEL -s predict --checkpoint CKPT --feed x=INPUTS`
  // reproduces: the model trained, the test inputs as fed, the predictions.
  if (!args.saveModel.empty()) {
    std::string text;
    google::protobuf::TextFormat::PrintToString(graph, &text);
    std::ofstream out(args.saveModel, std::ios::trunc);
    if (!(out << text))
      return fail(args.saveModel + ": cannot write the model");
    std::printf("wrote %s\n", args.saveModel.c_str());
  }
  if (!args.testInputs.empty()) {
    if (auto s = rt::writeNpy(args.testInputs, data->testImages); !s.ok())
      return fail(s.message());
    std::printf("wrote %s\n", args.testInputs.c_str());
  }
  if (!args.predictions.empty()) {
    const graph::Signature *predict = nullptr;
    for (const graph::Signature &sig : graph.signatures())
      if (sig.name() == "predict" && sig.feeds_size() == 1 && sig.fetches_size() >= 1)
        predict = &sig;
    if (!predict)
      return fail("--predictions: the model has no predict signature feeding only the "
                  "images");
    auto out = session->run("predict", {{predict->feeds(0), testImages}}, {predict->fetches(0)});
    if (!out)
      return fail(out.error());
    if (auto s = rt::writeNpy(args.predictions, out->at(predict->fetches(0))); !s.ok())
      return fail(s.message());
    std::printf("wrote %s (%s of the test set)\n", args.predictions.c_str(),
                predict->fetches(0).c_str());
  }
  if (!args.history.empty()) {
    if (auto s = writeHistory(*history, args.history); !s.ok())
      return fail(s.message());
    std::printf("wrote %s\n", args.history.c_str());
  }
  if (!args.plots.empty()) {
    if (auto s = writeCurves(*history, args.plots, !sigs.accuracy.empty()); !s.ok())
      return fail(s.message());
    std::printf("wrote %s/loss.svg%s\n", args.plots.c_str(),
                sigs.accuracy.empty() ? "" : (" and " + args.plots + "/accuracy.svg").c_str());
  }
  return 0;
}

} // namespace

int runTrain(const TrainArgs &args) {
  std::shared_ptr<rt::Collective> group;
  if (args.dataParallel) {
#if NNCC_HAVE_MPI
    auto made = rt::mpi::initializeMpi();
    if (!made)
      return fail("--data-parallel: " + made.error());
    group = made.take();
#else
    return fail("--data-parallel is unavailable: this nncc was built without MPI (CMake found "
                "none; apt-get install libopenmpi-dev openmpi-bin, then reconfigure and rebuild)");
#endif
  }
  if (group && group->size() > 1) {
    // Ranks sharing a machine share its cores: each runs its kernels on its
    // share (threads of several ranks' pools fighting over the same cores
    // made the compute-bound MLP's step 7x slower here), unless told.
    const char *local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!local)
      local = std::getenv("MPI_LOCALNRANKS");
    if (local && std::atoi(local) > 1 && !std::getenv("NNCC_THREADS")) {
      unsigned cores = std::max(1u, std::thread::hardware_concurrency());
      std::string share = std::to_string(std::max(1u, cores / std::atoi(local)));
      setenv("NNCC_THREADS", share.c_str(), 0);
    }
    rankPrefix =
        "rank " + std::to_string(group->rank()) + " of " + std::to_string(group->size()) + ": ";
    rt::setCollective(group);
  }
  int rc = train(args, group && group->size() > 1 ? group.get() : nullptr);
  if (rc != 0 && group && group->size() > 1) {
    // The other ranks would wait for this one's next collective call.
    std::cerr << "error: " << rankPrefix << "stopping every rank\n";
    group->abort(rc);
  }
  rt::setCollective(nullptr);
  return rc;
}

} // namespace nncc::tool
