#include "runtime/cuda/LaunchPlan.h"
#include "runtime/Session.h"

#include <algorithm>
#include <map>
#include <set>

namespace nncc::rt::cuda {
namespace {

const exe::CudaSignature *findSignature(const exe::CudaProgram &program,
                                        const std::string &name) {
  for (const exe::CudaSignature &s : program.signatures())
    if (s.name() == name)
      return &s;
  return nullptr;
}

/// N: the feeds' unknown dimension, the same for all of them.
Expected<int64_t> runSize(const exe::CudaProgram &program, const exe::CudaSignature &sig,
                          const std::vector<Tensor> &feeds) {
  int64_t n = -1;
  std::string from;
  for (int i = 0; i < sig.feeds_size(); ++i) {
    if (sig.feeds(i) >= static_cast<unsigned>(program.buffers_size()) ||
        program.buffers(sig.feeds(i)).dims_size() != feeds[i].rank())
      return Status::error("feed " + std::to_string(i) + " of signature '" + sig.name() +
                           "' does not match the CUDA program's buffer");
    const exe::CudaBuffer &b = program.buffers(sig.feeds(i));
    for (int d = 0; d < b.dims_size(); ++d) {
      if (b.dims(d) >= 0)
        continue;
      int64_t c = -b.dims(d), got = feeds[i].shape()[d];
      if (got % c != 0 || (n >= 0 && got / c != n))
        return Status::error("signature '" + sig.name() + "': on CUDA every unknown "
                             "dimension of the feeds is one batch size; feed " +
                             std::to_string(i) + " has " + std::to_string(got) + " where " +
                             from + " gave " + std::to_string(n));
      n = got / c;
      from = "feed " + std::to_string(i);
    }
  }
  return n < 0 ? 1 : n;
}

} // namespace

size_t bufferBytes(const exe::CudaBuffer &b, int64_t n, Shape &shape) {
  shape.clear();
  for (int64_t d : b.dims())
    shape.push_back(d >= 0 ? d : -d * n);
  return static_cast<size_t>(numElements(shape)) * dtypeSize(toDType(b.dtype()));
}

Expected<std::vector<Tensor>> runPlan(const exe::CudaProgram &program,
                                      const std::string &signature,
                                      const std::vector<Tensor> &feeds,
                                      DeviceVariables &variables, PlanBackend &backend) {
  variables.out.clear();
  const exe::CudaSignature *sig = findSignature(program, signature);
  if (!sig)
    return Status::error("the CUDA program has no signature '" + signature + "'");
  if (feeds.size() != static_cast<size_t>(sig->feeds_size()) ||
      variables.in.size() != static_cast<size_t>(sig->variables_size()))
    return Status::error("signature '" + signature + "' takes " +
                         std::to_string(sig->feeds_size()) + " feeds and " +
                         std::to_string(sig->variables_size()) + " variables");
  auto n = runSize(program, *sig, feeds);
  if (!n)
    return n.status();
  auto spec = [&](unsigned id) -> const exe::CudaBuffer * {
    return id < static_cast<unsigned>(program.buffers_size()) ? &program.buffers(id) : nullptr;
  };
  std::map<unsigned, void *> memory; // buffers of this run, released at the end
  std::map<unsigned, void *> caller; // the variables' buffers
  for (int i = 0; i < sig->variables_size(); ++i)
    caller[sig->variables(i)] = variables.in[i];
  std::vector<void *> handedOut;
  auto releaseAll = [&] {
    for (auto &[id, p] : memory)
      backend.release(p);
    for (void *p : handedOut)
      backend.release(p);
    handedOut.clear();
  };
  auto fail = [&](const Status &s) {
    releaseAll();
    return s;
  };
  auto bufferOf = [&](unsigned id) -> Expected<void *> {
    if (auto it = caller.find(id); it != caller.end())
      return it->second;
    if (auto it = memory.find(id); it != memory.end())
      return it->second;
    const exe::CudaBuffer *b = spec(id);
    if (!b)
      return Status::error("the CUDA program names buffer " + std::to_string(id) +
                           ", which it does not have");
    Shape shape;
    auto p = backend.allocate(std::max<size_t>(bufferBytes(*b, *n, shape), 1));
    if (!p)
      return p.status();
    memory[id] = *p;
    return *p;
  };
  for (int i = 0; i < sig->feeds_size(); ++i) {
    auto p = bufferOf(sig->feeds(i));
    if (!p)
      return fail(p.status());
    if (Status s = backend.upload(*p, feeds[i].data(), feeds[i].bytes()); !s.ok())
      return fail(s);
  }
  for (const exe::CudaLaunch &launch : sig->launches()) {
    if (launch.args_size() == 0 || launch.args_size() > 32)
      return fail(Status::error("kernel '" + launch.kernel() + "' has " +
                                std::to_string(launch.args_size()) + " arguments (1 to 32)"));
    KernelArgs args{};
    args.n = *n;
    for (int i = 0; i < launch.args_size(); ++i) {
      auto p = bufferOf(launch.args(i));
      if (!p)
        return fail(p.status());
      args.p[i] = *p;
    }
    Shape shape;
    bufferBytes(*spec(launch.args(launch.args_size() - 1)), *n, shape);
    Grid grid;
    if (launch.tile()) { // a tile of the (rank-2) output per block
      if (shape.size() != 2)
        return fail(Status::error("tiled kernel '" + launch.kernel() + "' has a rank-" +
                                  std::to_string(shape.size()) + " output"));
      int64_t t = launch.tile();
      grid.x = static_cast<unsigned>(std::max<int64_t>((shape[1] + t - 1) / t, 1));
      grid.y = static_cast<unsigned>(std::max<int64_t>((shape[0] + t - 1) / t, 1));
    } else { // grid-stride: enough blocks to fill the GPU, no more
      int64_t blocks = (numElements(shape) + grid.threads - 1) / grid.threads;
      grid.x = static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 8192));
    }
    if (Status s = backend.launch(launch.kernel(), args, grid); !s.ok())
      return fail(s);
  }
  if (Status s = backend.finish(); !s.ok())
    return fail(s);
  std::vector<Tensor> fetched;
  for (unsigned id : sig->fetches()) {
    auto p = bufferOf(id);
    if (!p)
      return fail(p.status());
    Shape shape;
    size_t bytes = bufferBytes(*spec(id), *n, shape);
    Tensor t(toDType(spec(id)->dtype()), shape);
    if (!t.valid())
      return fail(Status::error("out of host memory for a result of shape " +
                                shapeString(shape)));
    if (Status s = backend.download(t.data(), *p, bytes); !s.ok())
      return fail(s);
    fetched.push_back(std::move(t));
  }
  // The updates: a buffer of this run goes to the caller as it is, once; a
  // variable passed through unchanged, or a buffer already handed out, is
  // copied.
  std::set<unsigned> kept;
  std::vector<void *> out;
  for (unsigned id : sig->updates()) {
    auto p = bufferOf(id);
    if (!p)
      return fail(p.status());
    if (memory.count(id) && !kept.count(id)) {
      kept.insert(id);
      out.push_back(*p);
      continue;
    }
    Shape shape;
    size_t bytes = std::max<size_t>(bufferBytes(*spec(id), *n, shape), 1);
    auto copy = backend.allocate(bytes);
    if (!copy)
      return fail(copy.status());
    handedOut.push_back(*copy);
    out.push_back(*copy);
    if (Status s = backend.copy(*copy, *p, bytes); !s.ok())
      return fail(s);
  }
  if (Status s = backend.finish(); !s.ok())
    return fail(s);
  for (auto &[id, p] : memory)
    if (!kept.count(id))
      backend.release(p);
  variables.out = std::move(out);
  return fetched;
}

Expected<std::vector<Tensor>> runPlan(const exe::CudaProgram &program,
                                      const std::string &signature,
                                      const std::vector<Tensor> &feeds,
                                      const std::vector<Tensor> &variables, PlanBackend &backend) {
  DeviceVariables device;
  auto releaseAll = [&] {
    for (void *p : device.in)
      backend.release(p);
    for (void *p : device.out)
      backend.release(p);
  };
  for (const Tensor &v : variables) {
    auto p = backend.allocate(std::max<size_t>(v.bytes(), 1));
    if (!p) {
      releaseAll();
      return p.status();
    }
    device.in.push_back(*p);
    if (Status s = backend.upload(*p, v.data(), v.bytes()); !s.ok()) {
      releaseAll();
      return s;
    }
  }
  auto fetched = runPlan(program, signature, feeds, device, backend);
  if (!fetched) {
    releaseAll();
    return fetched.status();
  }
  const exe::CudaSignature *sig = findSignature(program, signature);
  int64_t n = *runSize(program, *sig, feeds);
  std::vector<Tensor> out = std::move(*fetched);
  for (int i = 0; i < sig->updates_size(); ++i) {
    Shape shape;
    size_t bytes = bufferBytes(program.buffers(sig->updates(i)), n, shape);
    Tensor t(toDType(program.buffers(sig->updates(i)).dtype()), shape);
    if (Status s = backend.download(t.data(), device.out[i], bytes); !s.ok()) {
      releaseAll();
      return s;
    }
    out.push_back(std::move(t));
  }
  releaseAll();
  return out;
}

} // namespace nncc::rt::cuda
