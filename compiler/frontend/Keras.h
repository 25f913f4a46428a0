// A Keras-style API over the graph builder, the compiler and the runtime:
// Sequential models of Dense layers, compiled once (compile) into train,
// evaluate and predict signatures, trained by fit with Keras's progress
// output and History. It is the same compiler and runtime as everything else.
//
//   keras::Sequential model(seed);
//   model.add(keras::Dense(50, "tanh").inputDim(784));
//   model.add(keras::Dense(10, "softmax"));
//   model.compile(keras::SGD(0.001).momentum(0.9), "categorical_crossentropy");
//   (or keras::Adam(1e-4), keras::RMSprop(0.001))
//   keras::FitOptions fit;  fit.batchSize = 64;  fit.epochs = 50;
//   auto history = model.fit(x, *keras::toCategorical(y, 10), fit);
#ifndef NNCC_COMPILER_FRONTEND_KERAS_H
#define NNCC_COMPILER_FRONTEND_KERAS_H

#include "compiler/frontend/Graph.h"
#include "runtime/Session.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <variant>

namespace nncc::fe::keras {

struct Dense {
  explicit Dense(int64_t units, std::string activation = "")
      : units(units), activation(std::move(activation)) {}
  Dense &inputDim(int64_t d) {
    inputDims = d;
    return *this;
  }
  Dense &kernelInitializer(graph::Initializer i) {
    kernel = std::move(i);
    return *this;
  }
  Dense &biasInitializer(graph::Initializer i) {
    bias = std::move(i);
    return *this;
  }
  int64_t units;
  std::string activation; // "", "tanh", "sigmoid", "relu", "softmax"
  int64_t inputDims = 0;
  std::optional<graph::Initializer> kernel, bias; // glorot_uniform, zeros
};

/// Keras' Conv2D on NHWC images: `filters` of `kernelSize` [rows, columns].
struct Conv2D {
  Conv2D(int64_t filters, Dims kernelSize, std::string activation = "")
      : filters(filters), kernelSize(std::move(kernelSize)), activation(std::move(activation)) {}
  Conv2D &strides(Dims s) {
    stride = std::move(s);
    return *this;
  }
  /// "valid" or "same".
  Conv2D &padding(std::string p) {
    pad = std::move(p);
    return *this;
  }
  /// The images' [rows, columns, channels], for a first layer.
  Conv2D &inputShape(Dims s) {
    input = std::move(s);
    return *this;
  }
  int64_t filters;
  Dims kernelSize, stride = {1, 1};
  std::string activation, pad = "valid";
  Dims input;
};

/// Keras' MaxPooling2D and AveragePooling2D (strides: the pool size
/// unless given).
template <typename Self> struct Pooling2D {
  explicit Pooling2D(Dims poolSize = {2, 2}) : pool(std::move(poolSize)) {}
  Self &strides(Dims s) {
    stride = std::move(s);
    return static_cast<Self &>(*this);
  }
  Self &padding(std::string p) {
    pad = std::move(p);
    return static_cast<Self &>(*this);
  }
  Dims pool, stride;
  std::string pad = "valid";
};
struct MaxPooling2D : Pooling2D<MaxPooling2D> {
  using Pooling2D::Pooling2D;
};
struct AveragePooling2D : Pooling2D<AveragePooling2D> {
  using Pooling2D::Pooling2D;
};

/// Keras' Flatten: [N, ...] -> [N, product].
struct Flatten {};

/// Keras' GlobalAveragePooling2D: [N, H, W, C] -> [N, C].
struct GlobalAveragePooling2D {};

/// Keras' Dropout: fit drops, evaluate and predict do not.
struct Dropout {
  explicit Dropout(float rate) : rate(rate) {}
  float rate;
};

/// Keras' BatchNormalization over the last dimension.
struct BatchNormalization {
  explicit BatchNormalization(float momentum = 0.99f, float epsilon = 1e-3f)
      : momentum(momentum), epsilon(epsilon) {}
  float momentum, epsilon;
};

using Layer = std::variant<Dense, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dropout,
                           BatchNormalization, GlobalAveragePooling2D>;

struct SGD {
  explicit SGD(float lr = 0.01f) : lr(lr) {}
  SGD &momentum(float m) {
    mom = m;
    return *this;
  }
  SGD &decay(float d) {
    dec = d;
    return *this;
  }
  SGD &nesterov(bool n = true) {
    nest = n;
    return *this;
  }
  float lr, mom = 0, dec = 0;
  bool nest = false;
};

/// Keras' Adam (TF1's AdamOptimizer: the same recurrence).
struct Adam {
  explicit Adam(float lr = 0.001f) : lr(lr) {}
  Adam &beta1(float b) {
    b1 = b;
    return *this;
  }
  Adam &beta2(float b) {
    b2 = b;
    return *this;
  }
  Adam &epsilon(float e) {
    eps = e;
    return *this;
  }
  Adam &decay(float d) {
    dec = d;
    return *this;
  }
  float lr, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f, dec = 0;
};

/// Keras' RMSprop (with momentum, TF's: epsilon inside the square root).
struct RMSprop {
  explicit RMSprop(float lr = 0.001f) : lr(lr) {}
  RMSprop &rho(float r) {
    rh = r;
    return *this;
  }
  RMSprop &momentum(float m) {
    mom = m;
    return *this;
  }
  RMSprop &epsilon(float e) {
    eps = e;
    return *this;
  }
  RMSprop &decay(float d) {
    dec = d;
    return *this;
  }
  float lr, rh = 0.9f, mom = 0, eps = 1e-7f, dec = 0;
};

/// Any of the optimizers, as the graph states it.
struct Optimizer {
  Optimizer(const SGD &o);
  Optimizer(const Adam &o);
  Optimizer(const RMSprop &o);
  graph::Optimizer proto;
};

struct FitOptions {
  int64_t batchSize = 32;
  int epochs = 1;
  int verbose = 1;            // 0: silent; 1: progress (a bar on a terminal)
  double validationSplit = 0; // the last fraction of the samples, as Keras
  bool shuffle = true;
  std::FILE *out = stdout; // where progress goes
};

/// Per epoch: training loss and accuracy (averaged over the samples), and on
/// the validation split, when there is one (accuracy only where the model
/// computes it).
struct History {
  std::vector<double> loss, accuracy, valLoss, valAccuracy;
};

/// What fit drives in a session: its training signature, optionally an
/// evaluation one (for the validation figures), and the names of their
/// feeds and fetches. An empty `evaluate` or `accuracy` means there is none.
struct TrainingSignatures {
  std::string train = "train", evaluate = "evaluate";
  std::string x = "x", y = "y", loss = "loss", accuracy = "accuracy";
  /// A loop signature over `train` (graph.proto: Loop), used where the
  /// executable has it: many steps per call over the training set, which
  /// stays on the device.
  std::string loop = "train_loop";
};

/// Keras's fit loop over any session: batches reshuffled every epoch from
/// `seed`, the progress report, validation on the last `validationSplit`.
/// A data-parallel executable (compiled with dataParallel) under a
/// collective of several ranks (rt::collective()) trains each rank on its
/// shard of every batch of `batchSize` rows; the epoch's figures are summed
/// over the ranks and rank 0 alone reports them.
/// Where the executable has `sigs.loop`, the training set is uploaded once
/// and each call runs that many steps on the device, on the same batches
/// (the same shuffle) as a call per step.
rt::Expected<History> fitSession(rt::Session &session, const TrainingSignatures &sigs,
                                 const rt::Tensor &x, const rt::Tensor &y,
                                 const FitOptions &options, uint64_t seed);
/// {loss, accuracy (0 without one)} of `sigs.evaluate` over (x, y), in batches.
rt::Expected<std::vector<double>> evaluateSession(rt::Session &session,
                                                  const TrainingSignatures &sigs,
                                                  const rt::Tensor &x, const rt::Tensor &y,
                                                  int64_t batchSize = 1024);

class Sequential {
public:
  explicit Sequential(uint64_t seed = 0, std::string name = "sequential");
  /// Dense, Conv2D, MaxPooling2D, AveragePooling2D or Flatten; the first
  /// layer gives the input (Dense::inputDim, Conv2D::inputShape), the last
  /// is Dense.
  void add(Layer layer);

  /// Builds the graph and compiles it. loss: "categorical_crossentropy"
  /// (one-hot or probability labels), "sparse_categorical_crossentropy"
  /// (integer labels) or "mse"; metrics: {} or {"accuracy"} (accuracy is
  /// always computed for the cross-entropies).
  rt::Status compile(const Optimizer &optimizer, const std::string &loss,
                     const std::vector<std::string> &metrics = {});
  /// Compile (the next compile call) with numeric checks: a run, and so
  /// fit, fails naming the first op that produced a NaN or an infinity.
  Sequential &checkNumerics(bool on = true) {
    checkNumerics_ = on;
    return *this;
  }

  /// Compile (the next compile call) with a loop signature "train_loop"
  /// that runs `steps` training steps per call over the training set,
  /// uploaded to the device once per fit (Keras's steps_per_execution); fit
  /// then takes `steps` batches per call. 1: a call per step.
  Sequential &stepsPerExecution(int64_t steps) {
    stepsPerExecution_ = steps;
    return *this;
  }

  /// Compile (the next compile call) for data-parallel training (Keras's
  /// distribution strategies, Horovod): each training step averages its
  /// gradients over the ranks of the process's collective (rt::Collective:
  /// MPI under mpirun) before the update, and fit trains each rank on its
  /// shard of every batch (batchSize is the global batch); on one process
  /// the same training as without.
  Sequential &distributed(bool on = true) {
    distributed_ = on;
    return *this;
  }

  /// Compile (the next compile call) for `device` and run there.
  Sequential &device(const rt::Device &device) {
    device_ = device;
    return *this;
  }

  rt::Expected<History> fit(const rt::Tensor &x, const rt::Tensor &y,
                            const FitOptions &options = {});
  /// {loss, accuracy} over (x, y), in batches.
  rt::Expected<std::vector<double>> evaluate(const rt::Tensor &x, const rt::Tensor &y,
                                             int64_t batchSize = 1024);
  /// The last layer's output for each row of x.
  rt::Expected<rt::Tensor> predict(const rt::Tensor &x, int64_t batchSize = 1024);
  /// The index of the largest output of each row (i64).
  rt::Expected<rt::Tensor> predictClasses(const rt::Tensor &x, int64_t batchSize = 1024);

  /// The compiled model's session (variables, checkpoints); null before compile.
  rt::Session *session() { return session_.get(); }
  const graph::Graph &graph() const { return graph_->proto(); }

private:
  bool checkNumerics_ = false, distributed_ = false;
  int64_t stepsPerExecution_ = 1;
  rt::Device device_ = rt::Device::cpu();
  uint64_t seed_;
  std::string name_;
  std::vector<Layer> layers_;
  std::unique_ptr<Graph> graph_;
  std::unique_ptr<rt::Session> session_;
  std::string loss_, outputName_;
};

/// Integer class labels (I32 or I64, [n]) as one-hot F32 rows [n, classes].
rt::Expected<rt::Tensor> toCategorical(const rt::Tensor &labels, int64_t classes);

} // namespace nncc::fe::keras

#endif
