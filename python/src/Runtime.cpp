// nncc._runtime: the thin runtime from Python (no compiler, no LLVM): load
// an .nnx, run its signatures on a device with NumPy feeds and fetches,
// variables and checkpoints, idx data. The GIL is released while kernels run.
#include "Convert.h"

#include "nncc/runtime.h" // Executable, Session, Device, Tensor, idx data
#include "runtime/FramedFile.h"

#include "proto/checkpoint.pb.h"

#include <pybind11/stl.h>

#include <cstring>
#include <filesystem>
#include <mutex>

namespace nncc::py {
namespace {

/// The nncc.errors class for a file that could not be used.
const char *fileErrorKind(const std::string &path, const std::string &message) {
  if (!std::filesystem::exists(path))
    return "NotFound";
  for (const char *word : {"truncated", "corrupted", "checksum", "not an "})
    if (message.find(word) != std::string::npos)
      return "DataLoss";
  return "InvalidArgument";
}

pb::dict specDict(const exe::TensorSpec &spec) {
  pb::dict d;
  d["name"] = spec.name();
  d["dtype"] = rt::dtypeName(rt::toDType(spec.dtype()));
  d["shape"] = spec.flat() ? pb::object(pb::none())
                           : pb::object(pb::tuple(pb::cast(
                                 std::vector<int64_t>(spec.dims().begin(), spec.dims().end()))));
  return d;
}

/// A signature's table entry as Python data.
pb::dict signatureDict(const exe::SignatureSpec &sig) {
  pb::dict d;
  d["name"] = sig.name();
  pb::list feeds, fetches;
  for (const auto &f : sig.feeds())
    feeds.append(specDict(f));
  for (const auto &f : sig.fetches())
    fetches.append(specDict(f));
  d["feeds"] = feeds;
  d["fetches"] = fetches;
  d["variables"] = std::vector<std::string>(sig.variables().begin(), sig.variables().end());
  d["updates"] = std::vector<std::string>(sig.updates().begin(), sig.updates().end());
  d["loss"] = sig.loss();
  return d;
}

/// A session with the executable it runs (kept alive with it). Runs from
/// several Python threads take turns (as TF1's sessions, a session is safe to
/// share); other sessions run meanwhile. The lock is taken without the GIL
/// and nothing holding it waits for the GIL.
struct PySession {
  PySession(std::shared_ptr<rt::Executable> exe, const rt::Device &device)
      : exe(exe), device(device), session(exe, device) {}
  std::shared_ptr<rt::Executable> exe;
  rt::Device device;
  rt::Session session;
  std::mutex mutex;
};

pb::dict run(PySession &s, const std::string &signature, const pb::dict &feeds,
             const std::vector<std::string> &fetches) {
  const exe::SignatureSpec *sig = s.exe->signature(signature);
  rt::TensorMap tensors;
  std::vector<pb::object> keep;
  for (auto [key, value] : feeds) {
    std::string name = pb::str(key);
    std::optional<rt::DType> want;
    if (sig)
      for (const auto &f : sig->feeds())
        if (f.name() == name)
          want = rt::toDType(f.dtype());
    keep.emplace_back();
    tensors[name] = toTensor(value, want, "feed '" + name + "'", keep.back());
  }
  rt::Expected<rt::TensorMap> out = rt::Status::error("not run");
  {
    pb::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(s.mutex);
    out = s.session.run(signature, tensors, fetches);
  }
  pb::dict result;
  for (auto &[name, tensor] : take(std::move(out)))
    result[pb::str(name)] = toArray(std::move(tensor));
  return result;
}

/// The runtime's shuffled mini-batches (Keras's and the examples' order),
/// over arrays it keeps.
struct PyBatches {
  PyBatches(rt::Tensor x, rt::Tensor y, pb::object keepX, pb::object keepY, int64_t batch,
            uint64_t seed, bool shuffle)
      : x(std::move(x)), y(std::move(y)), keepX(std::move(keepX)), keepY(std::move(keepY)),
        it(this->x, this->y, batch, seed, shuffle) {}
  rt::Tensor x, y;
  pb::object keepX, keepY;
  rt::data::BatchIterator it;
};

} // namespace
} // namespace nncc::py

using namespace nncc;
using namespace nncc::py;

PYBIND11_MODULE(_runtime, m) {
  m.doc() = "nncc's thin runtime: executables, sessions, devices (no compiler)";
  registerErrors();
  m.attr("version") = NNCC_VERSION;
  m.attr("executable_format_version") = rt::kFormatVersion;
  m.attr("checkpoint_format_version") = rt::kCheckpointVersion;

  pb::class_<rt::Device>(m, "Device")
      .def_static(
          "named",
          [](const std::string &name) { return take(rt::Device::named(name), "Unavailable"); },
          "cpu, cuda or best (cuda where there is a GPU)")
      .def_property_readonly("target", &rt::Device::target)
      .def_property_readonly("name", &rt::Device::name)
      .def("__repr__", [](const rt::Device &d) { return "<nncc.Device " + d.name() + ">"; });

  pb::class_<rt::Executable, std::shared_ptr<rt::Executable>>(m, "Executable")
      .def_static(
          "load",
          [](const std::string &path) {
            auto exe = rt::Executable::load(path);
            if (!exe)
              throw NnccError(fileErrorKind(path, exe.error()), exe.error());
            return exe.take();
          },
          "reads and loads an .nnx file made by `nncc compile`")
      .def_property_readonly("target", [](const rt::Executable &e) { return e.proto().target(); })
      .def_property_readonly("signatures",
                             [](const rt::Executable &e) {
                               pb::list sigs;
                               for (const auto &s : e.proto().signatures())
                                 sigs.append(signatureDict(s));
                               return sigs;
                             })
      .def_property_readonly("variables", [](const rt::Executable &e) {
        std::vector<std::string> names;
        for (const auto &v : e.proto().variables())
          names.push_back(v.name());
        return names;
      });

  pb::class_<PySession>(m, "Session")
      .def(pb::init<std::shared_ptr<rt::Executable>, const rt::Device &>())
      .def_property_readonly("executable", [](const PySession &s) { return s.exe; })
      .def_property_readonly("device", [](const PySession &s) { return s.device; })
      .def("initialize",
           [](PySession &s) {
             pb::gil_scoped_release release;
             std::lock_guard<std::mutex> lock(s.mutex);
             check(s.session.initialize());
           })
      .def("run", &run, pb::arg("signature"), pb::arg("feeds"), pb::arg("fetches"))
      .def("variable",
           [](PySession &s, const std::string &name) {
             rt::Expected<rt::Tensor> value = rt::Status::error("not read");
             {
               pb::gil_scoped_release release;
               std::lock_guard<std::mutex> lock(s.mutex);
               value = s.session.variable(name);
             }
             return toArray(take(std::move(value)));
           })
      .def("set_variable",
           [](PySession &s, const std::string &name, pb::handle value) {
             const exe::VariableSpec *spec = nullptr;
             for (const auto &v : s.exe->proto().variables())
               if (v.name() == name)
                 spec = &v;
             pb::object keep;
             rt::Tensor t =
                 toTensor(value, spec ? std::optional(rt::toDType(spec->dtype())) : std::nullopt,
                          "variable '" + name + "'", keep);
             rt::Status status;
             {
               pb::gil_scoped_release release;
               std::lock_guard<std::mutex> lock(s.mutex);
               status = s.session.setVariable(name, t);
             }
             check(status);
           })
      .def("save",
           [](PySession &s, const std::string &path) {
             rt::Status status;
             {
               pb::gil_scoped_release release;
               std::lock_guard<std::mutex> lock(s.mutex);
               status = s.session.save(path);
             }
             check(status, "Error");
           })
      .def("restore", [](PySession &s, const std::string &path) {
        rt::Status status;
        {
          pb::gil_scoped_release release;
          std::lock_guard<std::mutex> lock(s.mutex);
          status = s.session.restore(path);
        }
        if (!status.ok())
          throw NnccError(fileErrorKind(path, status.message()), status.message());
      });

  m.def(
      "feed_address",
      [](pb::handle value, const std::string &dtype) {
        pb::object keep;
        std::optional<rt::DType> want;
        for (rt::DType d :
             {rt::DType::F32, rt::DType::F64, rt::DType::I32, rt::DType::I64, rt::DType::Bool})
          if (dtype == rt::dtypeName(d))
            want = d;
        rt::Tensor t = toTensor(value, want, "value", keep);
        return reinterpret_cast<uintptr_t>(t.data());
      },
      "where a feed of `value` as `dtype` would be read from (tests: no copy)");

  m.def(
      "read_checkpoint",
      [](const std::string &path) {
        // The runtime's framing checks (magic, version, size, CRC-32), then
        // the variables as arrays: a graph session restores those its
        // executable has and keeps the others for the signatures to come.
        auto payload = rt::readFramed(rt::kCheckpointFile, path);
        if (!payload)
          throw NnccError(fileErrorKind(path, payload.error()), payload.error());
        ckpt::Checkpoint checkpoint;
        if (!checkpoint.ParseFromString(*payload))
          throw NnccError("DataLoss", path + ": the checkpoint's contents do not parse");
        pb::dict out;
        for (const ckpt::Variable &v : checkpoint.variables()) {
          rt::Shape shape(v.shape().begin(), v.shape().end());
          rt::Tensor t(rt::toDType(v.dtype()), shape);
          if (!t.valid() || t.bytes() != v.data().size())
            throw NnccError("DataLoss", path + ": variable '" + v.name() + "' has " +
                                            std::to_string(v.data().size()) +
                                            " bytes of data for shape " + rt::shapeString(shape));
          std::memcpy(t.data(), v.data().data(), t.bytes());
          out[pb::str(v.name())] = toArray(std::move(t));
        }
        return out;
      },
      "the variables of a checkpoint file, by name");

  pb::module_ data = m.def_submodule("data", "idx datasets and shuffled mini-batches");
  data.def(
      "read_mnist",
      [](const std::string &dir, bool standardize) {
        rt::data::Dataset d;
        {
          pb::gil_scoped_release release;
          auto read = rt::data::readMnistDir(dir);
          if (!read)
            throw NnccError(std::filesystem::exists(dir) ? "DataLoss" : "NotFound", read.error());
          d = read.take();
          if (standardize)
            rt::data::standardize(d.trainImages, d.testImages);
        }
        return pb::make_tuple(pb::make_tuple(toArray(d.trainImages), toArray(d.trainLabels)),
                              pb::make_tuple(toArray(d.testImages), toArray(d.testLabels)));
      },
      pb::arg("dir"), pb::arg("standardize") = true);
  pb::class_<PyBatches>(data, "BatchIterator")
      .def(pb::init([](pb::handle x, pb::handle y, int64_t batch, uint64_t seed, bool shuffle) {
             pb::object kx, ky;
             rt::Tensor tx = toTensor(x, std::nullopt, "x", kx);
             rt::Tensor ty = toTensor(y, std::nullopt, "y", ky);
             if (tx.rank() == 0 || ty.rank() == 0 || tx.shape()[0] != ty.shape()[0])
               throw NnccError("InvalidArgument", "x and y need the same number of rows, got " +
                                                      rt::shapeString(tx.shape()) + " and " +
                                                      rt::shapeString(ty.shape()));
             if (batch <= 0)
               throw NnccError("InvalidArgument", "batch_size must be positive");
             return std::make_unique<PyBatches>(tx, ty, kx, ky, batch, seed, shuffle);
           }),
           pb::arg("x"), pb::arg("y"), pb::arg("batch_size"), pb::arg("seed"),
           pb::arg("shuffle") = true)
      .def("start_epoch", [](PyBatches &b) { b.it.startEpoch(); })
      .def("next", [](PyBatches &b) -> pb::object {
        rt::Tensor xb, yb;
        if (!b.it.next(xb, yb))
          return pb::none();
        return pb::make_tuple(toArray(xb.clone()), toArray(yb.clone()));
      });
}
