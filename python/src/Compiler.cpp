// nncc._compiler: the graph-building API (compiler/frontend), the JIT
// (compileAndLoad) and the Keras-style Sequential from Python. The TF1 and
// Keras surfaces over it are Python (python/nncc); the executables it makes
// run on nncc._runtime.
#include "Convert.h"

#include "nncc/compiler.h" // compileAndLoad, writeExecutable
#include "nncc/graph.h"    // the graph builder, layers, Keras

#include <google/protobuf/text_format.h>
#include <pybind11/stl.h>

#include <cstdio>
#include <filesystem>
#include <set>

namespace nncc::py {
namespace {

using fe::Dims;
using fe::Output;
namespace keras = fe::keras;

graph::DataType graphDType(const std::string &name) {
  static const std::map<std::string, graph::DataType> names = {{"f32", graph::F32},
                                                               {"f64", graph::F64},
                                                               {"i32", graph::I32},
                                                               {"i64", graph::I64},
                                                               {"bool", graph::BOOL}};
  auto it = names.find(name);
  if (it == names.end())
    throw NnccError("InvalidArgument",
                    "unknown dtype '" + name + "' (float32, float64, int32, int64, bool)");
  return it->second;
}

std::string dtypeName(graph::DataType dtype) {
  return dtype == graph::DT_INVALID ? "invalid" : rt::dtypeName(rt::toDType(dtype));
}

/// A NumPy value as a graph constant (its own dtype, or `dtype`).
graph::Tensor constantTensor(pb::handle value, std::optional<std::string> dtype) {
  pb::object keep;
  rt::Tensor t =
      toTensor(value, dtype ? std::optional(rt::toDType(graphDType(*dtype))) : std::nullopt,
               "constant", keep);
  graph::Tensor out;
  out.set_dtype(graphDType(rt::dtypeName(t.dtype())));
  for (int64_t d : t.shape())
    out.add_dims(d);
  std::vector<double> values = t.toDoubles();
  for (double v : values) {
    switch (t.dtype()) {
    case rt::DType::F32:
      out.add_float_val(static_cast<float>(v));
      break;
    case rt::DType::F64:
      out.add_double_val(v);
      break;
    case rt::DType::Bool:
      out.add_bool_val(v != 0);
      break;
    default:
      break;
    }
  }
  if (t.dtype() == rt::DType::I32)
    for (int64_t i = 0; i < t.size(); ++i)
      out.add_int_val(t.data<int32_t>()[i]);
  if (t.dtype() == rt::DType::I64)
    for (int64_t i = 0; i < t.size(); ++i)
      out.add_int_val(t.data<int64_t>()[i]);
  return out;
}

/// Every placeholder that `names` (nodes, variables, placeholders; "n:1"
/// for a second result) depend on, in the graph's order.
std::vector<std::string> placeholdersNeeded(const fe::Graph &g,
                                            const std::vector<std::string> &names) {
  const graph::Graph &proto = g.proto();
  std::map<std::string, const graph::Node *> nodes;
  for (const auto &n : proto.nodes())
    nodes[n.name()] = &n;
  std::set<std::string> seen;
  std::vector<std::string> work;
  for (const auto &n : names)
    work.push_back(n.substr(0, n.rfind(':')));
  while (!work.empty()) {
    std::string n = work.back();
    work.pop_back();
    if (!seen.insert(n).second)
      continue;
    if (auto it = nodes.find(n); it != nodes.end())
      for (const std::string &in : it->second->inputs())
        work.push_back(in.substr(0, in.rfind(':')));
  }
  std::vector<std::string> out;
  for (const auto &p : proto.placeholders())
    if (seen.count(p.name()))
      out.push_back(p.name());
  return out;
}

/// A signature as Python gives it: {"name", "feeds", "fetches", "loss",
/// "optimizer": {"kind", "learning_rate", ...}}.
graph::Signature signatureOf(const pb::dict &d) {
  graph::Signature sig;
  sig.set_name(d["name"].cast<std::string>());
  for (const auto &f : d["feeds"].cast<std::vector<std::string>>())
    sig.add_feeds(f);
  for (const auto &f : d["fetches"].cast<std::vector<std::string>>())
    sig.add_fetches(f);
  if (d.contains("loss") && !d["loss"].is_none()) {
    sig.set_loss(d["loss"].cast<std::string>());
    pb::dict o = d["optimizer"];
    graph::Optimizer *opt = sig.mutable_optimizer();
    opt->set_kind(o["kind"].cast<std::string>());
    opt->set_learning_rate(o["learning_rate"].cast<float>());
    auto get = [&](const char *key) -> std::optional<float> {
      if (o.contains(key) && !o[key].is_none())
        return o[key].cast<float>();
      return std::nullopt;
    };
    if (auto v = get("momentum"))
      opt->set_momentum(*v);
    if (auto v = get("decay"))
      opt->set_decay(*v);
    if (o.contains("nesterov"))
      opt->set_nesterov(o["nesterov"].cast<bool>());
    if (auto v = get("beta1"))
      opt->set_beta1(*v);
    if (auto v = get("beta2"))
      opt->set_beta2(*v);
    if (auto v = get("epsilon"))
      opt->set_epsilon(*v);
    if (auto v = get("rho"))
      opt->set_rho(*v);
  }
  return sig;
}

graph::Graph withSignatures(const fe::Graph &g, const pb::list &signatures) {
  graph::Graph proto = g.proto();
  proto.clear_signatures();
  for (pb::handle s : signatures)
    *proto.add_signatures() = signatureOf(pb::reinterpret_borrow<pb::dict>(s));
  return proto;
}

std::shared_ptr<rt::Executable> compile(const fe::Graph &g, const pb::list &signatures,
                                        const std::string &device, bool checkNumerics, bool cache) {
  rt::Device dev = take(rt::Device::named(device), "Unavailable");
  LoadedGraph loaded = fromProto(withSignatures(g, signatures), g.proto().name());
  CompileOptions options = onDevice(dev);
  options.checkNumerics = checkNumerics;
  options.cache = cache && !std::getenv("NNCC_NO_CACHE");
  std::string error;
  std::shared_ptr<rt::Executable> exe;
  {
    pb::gil_scoped_release release;
    auto compiled = compileAndLoad(loaded, options);
    if (compiled)
      exe = *compiled;
    else
      error = llvm::toString(compiled.takeError());
  }
  if (!exe)
    throw NnccError("CompileError", error);
  return exe;
}

/// The model's history as Python data (Keras's History.history).
pb::dict historyDict(const keras::History &h) {
  pb::dict d;
  d["loss"] = h.loss;
  if (!h.accuracy.empty())
    d["acc"] = h.accuracy;
  if (!h.valLoss.empty())
    d["val_loss"] = h.valLoss;
  if (!h.valAccuracy.empty())
    d["val_acc"] = h.valAccuracy;
  return d;
}

/// Where fit's report goes: the process's stdout where sys.stdout is it (a
/// live bar on a terminal), otherwise a stdio stream writing to sys.stdout
/// (pytest's capture, a notebook), taking the GIL for each write.
struct ProgressOut {
  ProgressOut() {
    stream = pb::module_::import("sys").attr("stdout");
    stream.attr("flush")();
    try {
      if (stream.attr("fileno")().cast<int>() == 1)
        return;
    } catch (const pb::error_already_set &) {
    }
    cookie_io_functions_t io{};
    io.write = [](void *cookie, const char *data, size_t size) -> ssize_t {
      pb::gil_scoped_acquire gil;
      try {
        static_cast<pb::object *>(cookie)->attr("write")(pb::str(data, size));
      } catch (const pb::error_already_set &) {
        return -1;
      }
      return static_cast<ssize_t>(size);
    };
    if (std::FILE *f = fopencookie(&stream, "w", io))
      file = f;
  }
  ~ProgressOut() {
    if (file != stdout)
      std::fclose(file);
  }
  pb::object stream;
  std::FILE *file = stdout;
};

rt::Tensor rowsOf(pb::handle value, rt::DType dtype, const char *what, pb::object &keep) {
  return toTensor(value, dtype, what, keep);
}

} // namespace
} // namespace nncc::py

using namespace nncc;
using namespace nncc::py;

PYBIND11_MODULE(_compiler, m) {
  m.doc() = "nncc's graph builder, compiler (JIT) and Keras-style models";
  pb::module_::import("nncc._runtime"); // Executable
  registerErrors();

  pb::class_<graph::Initializer>(m, "Initializer").def("__repr__", [](const graph::Initializer &i) {
    return "<nncc initializer " + graph::Initializer::Kind_Name(i.kind()) + ">";
  });
  m.def("zeros", &fe::zeros);
  m.def("ones", &fe::ones);
  m.def(
      "constant",
      [](const std::vector<double> &values, const Dims &dims) {
        graph::Initializer init = fe::constant(values);
        for (int64_t d : dims) // the value's shape (none: one value fills the variable)
          init.mutable_value()->add_dims(d);
        return init;
      },
      pb::arg("values"), pb::arg("dims") = Dims{});
  m.def("glorot_uniform", &fe::glorotUniform, pb::arg("seed"));
  m.def("random_normal", &fe::randomNormal, pb::arg("seed"), pb::arg("mean") = 0.0f,
        pb::arg("stddev") = 1.0f);
  m.def("random_uniform", &fe::randomUniform, pb::arg("seed"), pb::arg("minval") = 0.0f,
        pb::arg("maxval") = 1.0f);

  pb::class_<Output>(m, "Output")
      .def_property_readonly("name", &Output::name)
      .def_property_readonly("dtype", [](const Output &o) { return dtypeName(o.dtype()); })
      .def_property_readonly("shape", [](const Output &o) -> pb::object {
        if (!o.shape())
          return pb::none();
        pb::list dims;
        for (int64_t d : *o.shape())
          dims.append(d < 0 ? pb::object(pb::none()) : pb::object(pb::int_(d)));
        return pb::tuple(dims);
      });

  pb::class_<fe::Graph>(m, "Graph")
      .def(pb::init<std::string, uint64_t>(), pb::arg("name") = "model", pb::arg("seed") = 0)
      .def(
          "placeholder",
          [](fe::Graph &g, const std::string &name, const std::string &dtype,
             std::optional<Dims> shape) { return g.placeholder(name, graphDType(dtype), shape); },
          pb::arg("name"), pb::arg("dtype"), pb::arg("shape") = pb::none())
      .def(
          "variable",
          [](fe::Graph &g, const std::string &name, const Dims &shape, graph::Initializer init,
             const std::string &dtype, bool frozen) {
            return g.variable(name, shape, std::move(init), graphDType(dtype), frozen);
          },
          pb::arg("name"), pb::arg("shape"), pb::arg("initializer"), pb::arg("dtype") = "f32",
          pb::arg("frozen") = false)
      .def(
          "constant",
          [](fe::Graph &g, pb::handle value, std::optional<std::string> dtype,
             const std::string &name) { return g.constant(constantTensor(value, dtype), name); },
          pb::arg("value"), pb::arg("dtype") = pb::none(), pb::arg("name") = "")
      .def(
          "scalar",
          [](fe::Graph &g, double v, const std::string &dtype) {
            return g.scalar(v, graphDType(dtype));
          },
          pb::arg("value"), pb::arg("dtype") = "f32")
      .def("name", &fe::Graph::name)
      .def("next_seed", &fe::Graph::nextSeed)
      .def("unique_name", &fe::Graph::uniqueName)
      .def("placeholders_needed", &placeholdersNeeded)
      .def_property_readonly("variables",
                             [](const fe::Graph &g) {
                               std::vector<std::string> names;
                               for (const auto &v : g.proto().variables())
                                 names.push_back(v.name());
                               return names;
                             })
      .def_property_readonly("placeholders",
                             [](const fe::Graph &g) {
                               std::vector<std::string> names;
                               for (const auto &p : g.proto().placeholders())
                                 names.push_back(p.name());
                               return names;
                             })
      .def(
          "to_pbtxt",
          [](const fe::Graph &g, const pb::list &signatures) {
            std::string text;
            google::protobuf::TextFormat::PrintToString(withSignatures(g, signatures), &text);
            return text;
          },
          pb::arg("signatures") = pb::list());

  // The op set (compiler/frontend/Graph.h).
  m.def("add", [](const Output &a, const Output &b) { return a + b; });
  m.def("sub", [](const Output &a, const Output &b) { return a - b; });
  m.def("mul", [](const Output &a, const Output &b) { return a * b; });
  m.def("div", [](const Output &a, const Output &b) { return a / b; });
  m.def("neg", [](const Output &a) { return -a; });
  m.def("square", &fe::square);
  m.def("exp", &fe::exp);
  m.def("log", &fe::log);
  m.def("tanh", &fe::tanh);
  m.def("sqrt", &fe::sqrt);
  m.def("sigmoid", &fe::sigmoid);
  m.def("relu", &fe::relu);
  m.def("matmul", &fe::matmul, pb::arg("a"), pb::arg("b"), pb::arg("transpose_a") = false,
        pb::arg("transpose_b") = false);
  m.def("bias_add", &fe::biasAdd);
  m.def("softmax", &fe::softmax, pb::arg("x"), pb::arg("axis") = -1);
  m.def("log_softmax", &fe::logSoftmax, pb::arg("x"), pb::arg("axis") = -1);
  m.def("softmax_cross_entropy", &fe::softmaxCrossEntropy);
  m.def("mean_squared_error", &fe::meanSquaredError);
  m.def("reshape", &fe::reshape);
  m.def("squeeze", &fe::squeeze, pb::arg("x"), pb::arg("axes") = Dims{});
  m.def("reduce_sum", &fe::reduceSum, pb::arg("x"), pb::arg("axes") = Dims{},
        pb::arg("keep_dims") = false);
  m.def("reduce_mean", &fe::reduceMean, pb::arg("x"), pb::arg("axes") = Dims{},
        pb::arg("keep_dims") = false);
  m.def("reduce_max", &fe::reduceMax, pb::arg("x"), pb::arg("axes") = Dims{},
        pb::arg("keep_dims") = false);
  m.def("argmax", &fe::argmax);
  m.def("conv2d", &fe::conv2d, pb::arg("x"), pb::arg("filter"), pb::arg("strides"),
        pb::arg("padding"), pb::arg("dilations"));
  m.def("dropout", &fe::dropout, pb::arg("x"), pb::arg("rate"), pb::arg("seed"));
  m.def("max_pool", &fe::maxPool);
  m.def("avg_pool", &fe::avgPool);
  m.def("one_hot", [](const Output &x, int64_t depth, const std::string &dtype) {
    return fe::oneHot(x, depth, graphDType(dtype));
  });
  m.def("cast",
        [](const Output &x, const std::string &dtype) { return fe::cast(x, graphDType(dtype)); });
  m.def("equal", &fe::equal);
  m.def("gradients", &fe::gradients);

  pb::module_ layers = m.def_submodule("layers", "tf.layers (compiler/frontend/Layers.h)");
  layers.def(
      "dense",
      [](const Output &x, int64_t units, const std::string &activation, const std::string &name,
         std::optional<graph::Initializer> kernel, std::optional<graph::Initializer> bias) {
        return fe::layers::dense(x, units, activation, name, kernel, bias);
      },
      pb::arg("x"), pb::arg("units"), pb::arg("activation") = "", pb::arg("name") = "",
      pb::arg("kernel_initializer") = pb::none(), pb::arg("bias_initializer") = pb::none());
  layers.def("conv2d", &fe::layers::conv2d);
  layers.def("max_pooling2d", &fe::layers::maxPooling2d);
  layers.def("average_pooling2d", &fe::layers::averagePooling2d);
  layers.def("dropout", &fe::layers::dropout);
  layers.def("batch_normalization", &fe::layers::batchNormalization);
  layers.def("flatten", &fe::layers::flatten);

  m.def("compile", &compile, pb::arg("graph"), pb::arg("signatures"), pb::arg("device") = "cpu",
        pb::arg("check_numerics") = false, pb::arg("cache") = true,
        "compiles the graph with these signatures and loads it (the JIT path)");
  m.def("write_executable",
        [](const std::shared_ptr<rt::Executable> &exe, const std::string &path) {
          if (auto e = writeExecutable(exe->proto(), path))
            throw NnccError("Error", llvm::toString(std::move(e)));
        });

  // Keras (compiler/frontend/Keras.h): the layers and optimizers as the
  // C++ API holds them; Python's keras package gives them Keras's names.
  pb::module_ k = m.def_submodule("keras", "Keras-style Sequential models");
  pb::class_<keras::Dense>(k, "Dense")
      .def(pb::init([](int64_t units, const std::string &activation, int64_t inputDim,
                       std::optional<graph::Initializer> kernel,
                       std::optional<graph::Initializer> bias) {
        keras::Dense d(units, activation);
        d.inputDims = inputDim;
        d.kernel = kernel;
        d.bias = bias;
        return d;
      }));
  pb::class_<keras::Conv2D>(k, "Conv2D")
      .def(pb::init([](int64_t filters, Dims kernel, const std::string &activation, Dims strides,
                       const std::string &padding, Dims input) {
        keras::Conv2D c(filters, kernel, activation);
        c.stride = strides;
        c.pad = padding;
        c.input = input;
        return c;
      }));
  pb::class_<keras::MaxPooling2D>(k, "MaxPooling2D")
      .def(pb::init([](Dims pool, Dims strides, const std::string &padding) {
        keras::MaxPooling2D p(pool);
        p.stride = strides;
        p.pad = padding;
        return p;
      }));
  pb::class_<keras::AveragePooling2D>(k, "AveragePooling2D")
      .def(pb::init([](Dims pool, Dims strides, const std::string &padding) {
        keras::AveragePooling2D p(pool);
        p.stride = strides;
        p.pad = padding;
        return p;
      }));
  pb::class_<keras::Flatten>(k, "Flatten").def(pb::init<>());
  pb::class_<keras::GlobalAveragePooling2D>(k, "GlobalAveragePooling2D").def(pb::init<>());
  pb::class_<keras::Dropout>(k, "Dropout").def(pb::init<float>());
  pb::class_<keras::BatchNormalization>(k, "BatchNormalization").def(pb::init<float, float>());
  pb::class_<keras::SGD>(k, "SGD").def(
      pb::init([](float lr, float momentum, float decay, bool nesterov) {
        return keras::SGD(lr).momentum(momentum).decay(decay).nesterov(nesterov);
      }));
  pb::class_<keras::Adam>(k, "Adam").def(
      pb::init([](float lr, float b1, float b2, float eps, float decay) {
        return keras::Adam(lr).beta1(b1).beta2(b2).epsilon(eps).decay(decay);
      }));
  pb::class_<keras::RMSprop>(k, "RMSprop")
      .def(pb::init([](float lr, float rho, float momentum, float eps, float decay) {
        return keras::RMSprop(lr).rho(rho).momentum(momentum).epsilon(eps).decay(decay);
      }));

  pb::class_<keras::Sequential>(k, "Sequential")
      .def(pb::init<uint64_t, std::string>(), pb::arg("seed") = 0, pb::arg("name") = "sequential")
      .def("add", [](keras::Sequential &s, const keras::Dense &l) { s.add(l); })
      .def("add", [](keras::Sequential &s, const keras::Conv2D &l) { s.add(l); })
      .def("add", [](keras::Sequential &s, const keras::MaxPooling2D &l) { s.add(l); })
      .def("add", [](keras::Sequential &s, const keras::AveragePooling2D &l) { s.add(l); })
      .def("add", [](keras::Sequential &s, const keras::Flatten &l) { s.add(l); })
      .def("add", [](keras::Sequential &s, const keras::Dropout &l) { s.add(l); })
      .def("add", [](keras::Sequential &s, const keras::BatchNormalization &l) { s.add(l); })
      .def("add", [](keras::Sequential &s, const keras::GlobalAveragePooling2D &l) { s.add(l); })
      .def("compile",
           [](keras::Sequential &s, std::variant<keras::SGD, keras::Adam, keras::RMSprop> opt,
              const std::string &loss, const std::vector<std::string> &metrics,
              const std::string &device, bool checkNumerics) {
             s.device(take(rt::Device::named(device), "Unavailable"));
             s.checkNumerics(checkNumerics);
             keras::Optimizer optimizer =
                 std::visit([](const auto &o) { return keras::Optimizer(o); }, opt);
             rt::Status status;
             {
               pb::gil_scoped_release release;
               status = s.compile(optimizer, loss, metrics);
             }
             check(status, "CompileError");
           })
      .def("fit",
           [](keras::Sequential &s, pb::handle x, pb::handle y, int64_t batch, int epochs,
              int verbose, double split, bool shuffle) {
             pb::object kx, ky;
             rt::Tensor tx = rowsOf(x, rt::DType::F32, "x", kx);
             bool floats = pb::module_::import("numpy")
                               .attr("asarray")(y)
                               .attr("dtype")
                               .attr("kind")
                               .cast<std::string>() == "f";
             rt::Tensor ty = rowsOf(y, floats ? rt::DType::F32 : rt::DType::I32, "y", ky);
             keras::FitOptions options;
             options.batchSize = batch;
             options.epochs = epochs;
             options.verbose = verbose;
             options.validationSplit = split;
             options.shuffle = shuffle;
             ProgressOut out;
             options.out = out.file;
             rt::Expected<keras::History> history = rt::Status::error("not run");
             {
               pb::gil_scoped_release release;
               history = s.fit(tx, ty, options);
               std::fflush(options.out);
             }
             return historyDict(take(std::move(history)));
           })
      .def("evaluate",
           [](keras::Sequential &s, pb::handle x, pb::handle y, int64_t batch) {
             pb::object kx, ky;
             rt::Tensor tx = rowsOf(x, rt::DType::F32, "x", kx);
             bool floats = pb::module_::import("numpy")
                               .attr("asarray")(y)
                               .attr("dtype")
                               .attr("kind")
                               .cast<std::string>() == "f";
             rt::Tensor ty = rowsOf(y, floats ? rt::DType::F32 : rt::DType::I32, "y", ky);
             rt::Expected<std::vector<double>> out = rt::Status::error("not run");
             {
               pb::gil_scoped_release release;
               out = s.evaluate(tx, ty, batch);
             }
             return take(std::move(out));
           })
      .def("predict",
           [](keras::Sequential &s, pb::handle x, int64_t batch, bool classes) {
             pb::object kx;
             rt::Tensor tx = rowsOf(x, rt::DType::F32, "x", kx);
             rt::Expected<rt::Tensor> out = rt::Status::error("not run");
             {
               pb::gil_scoped_release release;
               out = classes ? s.predictClasses(tx, batch) : s.predict(tx, batch);
             }
             return toArray(take(std::move(out)));
           })
      .def("save",
           [](keras::Sequential &s, const std::string &path) {
             if (!s.session())
               throw NnccError("InvalidArgument", "compile the model first");
             check(s.session()->save(path), "Error");
           })
      .def("restore",
           [](keras::Sequential &s, const std::string &path) {
             if (!s.session())
               throw NnccError("InvalidArgument", "compile the model first");
             rt::Status status = s.session()->restore(path);
             if (!status.ok())
               throw NnccError(std::filesystem::exists(path) ? "InvalidArgument" : "NotFound",
                               status.message());
           })
      .def("variable",
           [](keras::Sequential &s, const std::string &name) {
             if (!s.session())
               throw NnccError("InvalidArgument", "compile the model first");
             return toArray(take(s.session()->variable(name)));
           })
      .def("variables",
           [](keras::Sequential &s) {
             std::vector<std::string> names;
             for (const auto &v : s.graph().variables())
               names.push_back(v.name());
             return names;
           })
      .def("to_pbtxt", [](keras::Sequential &s) {
        std::string text;
        google::protobuf::TextFormat::PrintToString(s.graph(), &text);
        return text;
      });

  k.def("to_categorical", [](pb::handle labels, int64_t classes) {
    pb::object keep;
    rt::Tensor t = toTensor(labels, std::nullopt, "labels", keep);
    return toArray(take(keras::toCategorical(t, classes)));
  });
}
