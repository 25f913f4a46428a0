// The SGD updates of nn-expand-optimizer against Keras' recurrences written
// here in double: plain, momentum, nesterov, and the decayed learning rate,
// step by step, for the variables, the momentum slots and the iteration
// counter.
#include "test/e2e/CompileAndRun.h"

#include <cmath>
#include <cstdio>
#include <vector>

using nncc::rt::Session;
using nncc::rt::Tensor;

namespace {

struct Sgd {
  double lr = 0.1, momentum = 0, decay = 0;
  bool nesterov = false;
};

/// loss = reduce_sum(square(w * x + b - t)): d/dw = 2 e x, d/db = 2 sum(e)
/// with e = w * x + b - t. `frozen` is read by the loss but never trained.
std::string modelWith(const std::string &opt) {
  return std::string(R"pb(
    name: "sgd"
    placeholders { name: "x" dtype: F64 shape { dims: 3 } }
    placeholders { name: "t" dtype: F64 shape { dims: 3 } }
    variables { name: "w" dtype: F64 shape: 3
                initializer { kind: CONSTANT value { dtype: F64 dims: 3
                              double_val: 0.5 double_val: -1 double_val: 2 } } }
    variables { name: "b" dtype: F64
                initializer { kind: CONSTANT value { dtype: F64 double_val: 0.25 } } }
    variables { name: "frozen" dtype: F64 frozen: true
                initializer { kind: CONSTANT value { dtype: F64 double_val: 1 } } }
    nodes { name: "wx" op: "mul" inputs: "w" inputs: "x" }
    nodes { name: "z" op: "add" inputs: "wx" inputs: "b" }
    nodes { name: "zf" op: "mul" inputs: "z" inputs: "frozen" }
    nodes { name: "e" op: "sub" inputs: "zf" inputs: "t" }
    nodes { name: "e2" op: "square" inputs: "e" }
    nodes { name: "loss" op: "reduce_sum" inputs: "e2" }
    signatures { name: "train" feeds: "x" feeds: "t" loss: "loss" )pb") +
         opt + " }\n";
}

std::string model(const Sgd &o) {
  char opt[200];
  std::snprintf(opt, sizeof opt,
                "optimizer { kind: \"sgd\" learning_rate: %.9g momentum: %.9g decay: %.9g "
                "nesterov: %s }",
                o.lr, o.momentum, o.decay, o.nesterov ? "true" : "false");
  return modelWith(opt);
}

/// Keras' SGD on the same model, in double.
struct Reference {
  Sgd o;
  std::vector<double> w = {0.5, -1, 2}, vw = {0, 0, 0};
  double b = 0.25, vb = 0;
  int64_t iterations = 0;

  void update(double &p, double &v, double g, double lr) const {
    if (o.momentum > 0) {
      v = o.momentum * v - lr * g;
      p += o.nesterov ? o.momentum * v - lr * g : v;
    } else {
      p -= lr * g;
    }
  }
  /// One step; returns the loss before it.
  double step(const std::vector<double> &x, const std::vector<double> &t) {
    double loss = 0, gb = 0;
    std::vector<double> gw(3);
    for (int i = 0; i < 3; ++i) {
      double e = w[i] * x[i] + b - t[i];
      loss += e * e;
      gw[i] = 2 * e * x[i];
      gb += 2 * e;
    }
    double lr = o.lr / (1 + o.decay * static_cast<double>(iterations));
    for (int i = 0; i < 3; ++i)
      update(w[i], vw[i], gw[i], lr);
    update(b, vb, gb, lr);
    ++iterations;
    return loss;
  }
};

void expectNear(const std::vector<double> &got, const std::vector<double> &want,
                const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-6 * (1 + std::fabs(want[i]))) << what << "[" << i << "]";
}

void train(const Sgd &o, int steps = 6) {
  auto exe = nncc::test::compileText(model(o));
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  Reference ref{o};
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE("step " + std::to_string(k + 1));
    std::vector<double> x = {1.0 + 0.25 * k, -0.5, 0.75 - 0.125 * k};
    std::vector<double> t = {1, 0.5 * k, -2};
    double want = ref.step(x, t);
    auto out = s.run(
        "train", {{"x", Tensor::of<double>({3}, x)}, {"t", Tensor::of<double>({3}, t)}}, {"loss"});
    ASSERT_TRUE(out.ok()) << out.error();
    expectNear(out->at("loss").toDoubles(), {want}, "loss");
    expectNear(s.variable("w")->toDoubles(), ref.w, "w");
    expectNear(s.variable("b")->toDoubles(), {ref.b}, "b");
    EXPECT_EQ(s.variable("frozen")->toDoubles(), std::vector<double>{1.0});
    auto iterations = s.variable("train/iterations");
    ASSERT_TRUE(iterations.ok()) << iterations.error();
    EXPECT_EQ(iterations->toDoubles(), std::vector<double>{static_cast<double>(k + 1)});
    if (o.momentum > 0) {
      auto vw = s.variable("train/w/momentum"), vb = s.variable("train/b/momentum");
      ASSERT_TRUE(vw.ok()) << vw.error();
      ASSERT_TRUE(vb.ok()) << vb.error();
      expectNear(vw->toDoubles(), ref.vw, "train/w/momentum");
      expectNear(vb->toDoubles(), {ref.vb}, "train/b/momentum");
    }
  }
  if (o.momentum == 0) {
    EXPECT_FALSE(s.variable("train/w/momentum").ok()) << "plain SGD has no momentum slot";
  }
  EXPECT_FALSE(s.variable("train/frozen/momentum").ok()) << "frozen variables get no slot";
}

TEST(Sgd, Plain) { train({0.1, 0, 0, false}); }
TEST(Sgd, PlainWithDecay) { train({0.1, 0, 0.5, false}); }
TEST(Sgd, Momentum) { train({0.05, 0.9, 0, false}); }
TEST(Sgd, MomentumWithDecay) { train({0.05, 0.9, 0.25, false}); }
TEST(Sgd, Nesterov) { train({0.05, 0.9, 0, true}); }
TEST(Sgd, NesterovWithDecay) { train({0.05, 0.5, 0.3, true}); }

TEST(Sgd, F32VariableFollowsTheSameRecurrence) {
  // One f32 weight: loss = reduce_sum(w * x), so every step moves w by the
  // (decayed) rate times x, with momentum 0.5.
  const char *text = R"pb(
    name: "sgd32"
    placeholders { name: "x" dtype: F32 shape { dims: 2 } }
    variables { name: "w" dtype: F32 shape: 2 initializer { kind: ONES } }
    nodes { name: "wx" op: "mul" inputs: "w" inputs: "x" }
    nodes { name: "loss" op: "reduce_sum" inputs: "wx" }
    signatures { name: "fit" feeds: "x" loss: "loss"
                 optimizer { kind: "sgd" learning_rate: 0.5 momentum: 0.5 decay: 1 } }
  )pb";
  auto exe = nncc::test::compileText(text);
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  std::vector<double> w = {1, 1}, v = {0, 0}, x = {2, -4};
  for (int k = 0; k < 4; ++k) {
    SCOPED_TRACE("step " + std::to_string(k + 1));
    auto out = s.run("fit", {{"x", Tensor::of<float>({2}, {2.0f, -4.0f})}});
    ASSERT_TRUE(out.ok()) << out.error();
    double lr = 0.5 / (1 + 1.0 * k);
    for (int i = 0; i < 2; ++i) {
      v[i] = 0.5 * v[i] - lr * x[i];
      w[i] += v[i];
    }
    expectNear(s.variable("w")->toDoubles(), w, "w");
    expectNear(s.variable("fit/w/momentum")->toDoubles(), v, "fit/w/momentum");
  }
}

/// Adam or RMSProp. The settings are f32 in the graph: the reference
/// rounds them the same way.
struct Adaptive {
  std::string kind;
  double lr = 0.01, decay = 0, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, rho = 0.9, momentum = 0;

  std::string text() const {
    char opt[300];
    if (kind == "adam")
      std::snprintf(opt, sizeof opt,
                    "optimizer { kind: \"adam\" learning_rate: %.9g decay: %.9g beta1: %.9g "
                    "beta2: %.9g epsilon: %.9g }",
                    lr, decay, beta1, beta2, epsilon);
    else
      std::snprintf(opt, sizeof opt,
                    "optimizer { kind: \"rmsprop\" learning_rate: %.9g decay: %.9g rho: %.9g "
                    "epsilon: %.9g momentum: %.9g }",
                    lr, decay, rho, epsilon, momentum);
    return opt;
  }
  /// The slots' names: Adam's m and v; RMSProp's rms and (with momentum)
  /// momentum.
  std::pair<std::string, std::string> slots() const {
    if (kind == "adam")
      return {"m", "v"};
    return {"rms", momentum > 0 ? "momentum" : ""};
  }
};

double asF32(double v) {
  volatile float f = static_cast<float>(v); // rounded, whatever the optimizer does
  return f;
}

/// Keras' Adam and RMSprop on the same model, in double.
struct AdaptiveReference {
  Adaptive o;
  std::vector<double> w = {0.5, -1, 2}, w1 = {0, 0, 0}, w2 = {0, 0, 0};
  double b = 0.25, b1 = 0, b2 = 0;
  int64_t iterations = 0;

  void update(double &p, double &s1, double &s2, double g, double lr) const {
    double eps = asF32(o.epsilon);
    if (o.kind == "adam") {
      double beta1 = asF32(o.beta1), beta2 = asF32(o.beta2),
             t = static_cast<double>(iterations + 1);
      double lrt = lr * std::sqrt(1 - std::pow(beta2, t)) / (1 - std::pow(beta1, t));
      s1 = beta1 * s1 + (1 - beta1) * g;
      s2 = beta2 * s2 + (1 - beta2) * g * g;
      p -= lrt * s1 / (std::sqrt(s2) + eps);
      return;
    }
    double rho = asF32(o.rho), momentum = asF32(o.momentum);
    s1 = rho * s1 + (1 - rho) * g * g;
    if (momentum > 0) { // TF's: epsilon inside the root
      s2 = momentum * s2 + lr * g / std::sqrt(s1 + eps);
      p -= s2;
    } else {
      p -= lr * g / (std::sqrt(s1) + eps);
    }
  }
  double step(const std::vector<double> &x, const std::vector<double> &t) {
    double loss = 0, gb = 0;
    std::vector<double> gw(3);
    for (int i = 0; i < 3; ++i) {
      double e = w[i] * x[i] + b - t[i];
      loss += e * e;
      gw[i] = 2 * e * x[i];
      gb += 2 * e;
    }
    double lr = asF32(o.lr) / (1 + asF32(o.decay) * static_cast<double>(iterations));
    for (int i = 0; i < 3; ++i)
      update(w[i], w1[i], w2[i], gw[i], lr);
    update(b, b1, b2, gb, lr);
    ++iterations;
    return loss;
  }
};

void trainAdaptive(const Adaptive &o, int steps = 8) {
  auto exe = nncc::test::compileText(modelWith(o.text()));
  ASSERT_TRUE(exe);
  Session s(exe);
  ASSERT_TRUE(s.initialize().ok());
  AdaptiveReference ref{o};
  auto [first, second] = o.slots();
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE("step " + std::to_string(k + 1));
    std::vector<double> x = {1.0 + 0.25 * k, -0.5, 0.75 - 0.125 * k};
    std::vector<double> t = {1, 0.5 * k, -2};
    double want = ref.step(x, t);
    auto out = s.run(
        "train", {{"x", Tensor::of<double>({3}, x)}, {"t", Tensor::of<double>({3}, t)}}, {"loss"});
    ASSERT_TRUE(out.ok()) << out.error();
    expectNear(out->at("loss").toDoubles(), {want}, "loss");
    expectNear(s.variable("w")->toDoubles(), ref.w, "w");
    expectNear(s.variable("b")->toDoubles(), {ref.b}, "b");
    EXPECT_EQ(s.variable("frozen")->toDoubles(), std::vector<double>{1.0});
    auto slot = [&](const std::string &name) {
      auto v = s.variable(name);
      EXPECT_TRUE(v.ok()) << v.error();
      return v.ok() ? v->toDoubles() : std::vector<double>{};
    };
    expectNear(slot("train/w/" + first), ref.w1, "train/w/" + first);
    expectNear(slot("train/b/" + first), {ref.b1}, "train/b/" + first);
    if (!second.empty()) {
      expectNear(slot("train/w/" + second), ref.w2, "train/w/" + second);
      expectNear(slot("train/b/" + second), {ref.b2}, "train/b/" + second);
    }
    expectNear(slot("train/iterations"), {static_cast<double>(k + 1)}, "train/iterations");
  }
  EXPECT_FALSE(s.variable("train/frozen/" + first).ok()) << "frozen variables get no slot";
}

TEST(Adam, KerasDefaults) { trainAdaptive({"adam", 0.01}); }
TEST(Adam, OwnBetasAndDecay) {
  Adaptive o{"adam", 0.05, 0.5};
  o.beta1 = 0.5;
  o.beta2 = 0.75;
  o.epsilon = 1e-3;
  trainAdaptive(o);
}
TEST(RmsProp, Plain) { trainAdaptive({"rmsprop", 0.01}); }
TEST(RmsProp, MomentumAndDecay) {
  Adaptive o{"rmsprop", 0.02, 0.25};
  o.rho = 0.8;
  o.momentum = 0.9;
  o.epsilon = 1e-4;
  trainAdaptive(o);
}

} // namespace
