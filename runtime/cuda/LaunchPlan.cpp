#include "runtime/cuda/LaunchPlan.h"
#include "runtime/Session.h"

#include <algorithm>
#include <map>

namespace nncc::rt::cuda {

Expected<std::vector<Tensor>> runPlan(const exe::CudaProgram &program,
                                      const std::string &signature,
                                      const std::vector<Tensor> &feeds,
                                      const std::vector<Tensor> &variables, PlanBackend &backend) {
  const exe::CudaSignature *sig = nullptr;
  for (const exe::CudaSignature &s : program.signatures())
    if (s.name() == signature)
      sig = &s;
  if (!sig)
    return Status::error("the CUDA program has no signature '" + signature + "'");
  if (feeds.size() != static_cast<size_t>(sig->feeds_size()) ||
      variables.size() != static_cast<size_t>(sig->variables_size()))
    return Status::error("signature '" + signature + "' takes " +
                         std::to_string(sig->feeds_size()) + " feeds and " +
                         std::to_string(sig->variables_size()) + " variables");
  auto bufferSpec = [&](unsigned id) -> const exe::CudaBuffer * {
    return id < static_cast<unsigned>(program.buffers_size()) ? &program.buffers(id) : nullptr;
  };
  // N: the feeds' unknown dimension, the same for all of them.
  int64_t n = -1;
  std::string from;
  for (int i = 0; i < sig->feeds_size(); ++i) {
    const exe::CudaBuffer *b = bufferSpec(sig->feeds(i));
    if (!b || b->dims_size() != feeds[i].rank())
      return Status::error("feed " + std::to_string(i) + " of signature '" + signature +
                           "' does not match the CUDA program's buffer");
    for (int d = 0; d < b->dims_size(); ++d) {
      if (b->dims(d) >= 0)
        continue;
      int64_t c = -b->dims(d), got = feeds[i].shape()[d];
      if (got % c != 0 || (n >= 0 && got / c != n))
        return Status::error("signature '" + signature + "': on CUDA every unknown "
                             "dimension of the feeds is one batch size; feed " +
                             std::to_string(i) + " has " + std::to_string(got) + " where " +
                             from + " gave " + std::to_string(n));
      n = got / c;
      from = "feed " + std::to_string(i);
    }
  }
  n = n < 0 ? 1 : n;

  std::map<unsigned, void *> memory;
  auto releaseAll = [&] {
    for (auto &[id, p] : memory)
      backend.release(p);
  };
  auto bytesOf = [&](const exe::CudaBuffer &b, Shape &shape) {
    shape.clear();
    for (int64_t d : b.dims())
      shape.push_back(d >= 0 ? d : -d * n);
    return static_cast<size_t>(numElements(shape)) * dtypeSize(toDType(b.dtype()));
  };
  auto bufferOf = [&](unsigned id) -> Expected<void *> {
    if (auto it = memory.find(id); it != memory.end())
      return it->second;
    const exe::CudaBuffer *b = bufferSpec(id);
    if (!b)
      return Status::error("the CUDA program names buffer " + std::to_string(id) +
                           ", which it does not have");
    Shape shape;
    auto p = backend.allocate(std::max<size_t>(bytesOf(*b, shape), 1));
    if (!p)
      return p.status();
    memory[id] = *p;
    return *p;
  };
  auto fail = [&](const Status &s) {
    releaseAll();
    return s;
  };
  auto put = [&](unsigned id, const Tensor &t) -> Status {
    auto p = bufferOf(id);
    if (!p)
      return p.status();
    return backend.upload(*p, t.data(), t.bytes());
  };
  for (int i = 0; i < sig->feeds_size(); ++i)
    if (Status s = put(sig->feeds(i), feeds[i]); !s.ok())
      return fail(s);
  for (int i = 0; i < sig->variables_size(); ++i)
    if (Status s = put(sig->variables(i), variables[i]); !s.ok())
      return fail(s);
  for (const exe::CudaLaunch &launch : sig->launches()) {
    if (launch.args_size() == 0 || launch.args_size() > 32)
      return fail(Status::error("kernel '" + launch.kernel() + "' has " +
                                std::to_string(launch.args_size()) + " arguments (1 to 32)"));
    KernelArgs args{};
    args.n = n;
    for (int i = 0; i < launch.args_size(); ++i) {
      auto p = bufferOf(launch.args(i));
      if (!p)
        return fail(p.status());
      args.p[i] = *p;
    }
    Shape shape;
    bytesOf(*bufferSpec(launch.args(launch.args_size() - 1)), shape);
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
  std::vector<Tensor> out;
  for (const auto *ids : {&sig->fetches(), &sig->updates()})
    for (unsigned id : *ids) {
      auto p = bufferOf(id);
      if (!p)
        return fail(p.status());
      Shape shape;
      const exe::CudaBuffer &b = *bufferSpec(id);
      size_t bytes = bytesOf(b, shape);
      Tensor t(toDType(b.dtype()), shape);
      if (!t.valid())
        return fail(Status::error("out of host memory for a result of shape " +
                                  shapeString(shape)));
      if (Status s = backend.download(t.data(), *p, bytes); !s.ok())
        return fail(s);
      out.push_back(std::move(t));
    }
  releaseAll();
  return out;
}

} // namespace nncc::rt::cuda
