#include "runtime/cuda/Nccl.h"

#include <dlfcn.h>

namespace nncc::rt::cuda {
namespace {

// NCCL's C API (nccl.h), the few parts used, spelled here: the library is
// opened at run time and its header is not needed to build.
using Result = int; // ncclResult_t; 0: ncclSuccess
struct UniqueId {
  char internal[128];
};                                        // ncclUniqueId
constexpr int kFloat32 = 7, kFloat64 = 8; // ncclDataType_t
constexpr int kSum = 0, kAvg = 4;         // ncclRedOp_t (ncclAvg: NCCL 2.10)

struct Library {
  Result (*getVersion)(int *);
  Result (*getUniqueId)(UniqueId *);
  Result (*commInitRank)(void **, int, UniqueId, int);
  Result (*commDestroy)(void *);
  Result (*allReduce)(const void *, void *, size_t, int, int, void *, void *);
  Result (*groupStart)();
  Result (*groupEnd)();
  const char *(*getErrorString)(Result);
};

const Expected<Library *> &library() {
  static Expected<Library *> loaded = []() -> Expected<Library *> {
    void *lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      return Status::error(std::string("no NCCL: libnccl.so.2 cannot be loaded (") + dlerror() +
                           "); data-parallel training on GPUs needs NCCL 2.10 or newer");
    static Library l;
    std::string missing;
    auto get = [&](auto &fn, const char *symbol) {
      void *p = dlsym(lib, symbol);
      if (!p)
        missing = symbol;
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    get(l.getVersion, "ncclGetVersion");
    get(l.getUniqueId, "ncclGetUniqueId");
    get(l.commInitRank, "ncclCommInitRank");
    get(l.commDestroy, "ncclCommDestroy");
    get(l.allReduce, "ncclAllReduce");
    get(l.groupStart, "ncclGroupStart");
    get(l.groupEnd, "ncclGroupEnd");
    get(l.getErrorString, "ncclGetErrorString");
    if (!missing.empty())
      return Status::error("libnccl.so.2 lacks " + missing);
    return &l;
  }();
  return loaded;
}

Status check(Result r, const std::string &what) {
  if (r == 0)
    return Status();
  const char *text = (*library())->getErrorString(r);
  return Status::error(what + ": " + (text ? text : "NCCL error " + std::to_string(r)));
}

} // namespace

Expected<std::string> ncclVersion() {
  if (!library())
    return library().status();
  int code = 0;
  if (Status s = check((*library())->getVersion(&code), "ncclGetVersion"); !s.ok())
    return s;
  // NCCL >= 2.9 codes versions as major*10000 + minor*100 + patch.
  return "NCCL " + std::to_string(code / 10000) + "." + std::to_string(code / 100 % 100) + "." +
         std::to_string(code % 100);
}

Expected<std::unique_ptr<NcclCommunicator>> NcclCommunicator::create(Collective &group) {
  auto version = ncclVersion();
  if (!version)
    return version.status();
  const Library &l = **library();
  UniqueId id{};
  if (group.rank() == 0)
    if (Status s = check(l.getUniqueId(&id), "ncclGetUniqueId"); !s.ok())
      return s;
  if (Status s = group.broadcast(&id, sizeof id, 0); !s.ok())
    return Status::error("broadcasting NCCL's unique id from rank 0: " + s.message());
  std::unique_ptr<NcclCommunicator> comm(new NcclCommunicator());
  if (Status s = check(l.commInitRank(&comm->comm_, group.size(), id, group.rank()),
                       "ncclCommInitRank (rank " + std::to_string(group.rank()) + " of " +
                           std::to_string(group.size()) + ")");
      !s.ok())
    return s;
  return Expected<std::unique_ptr<NcclCommunicator>>(std::move(comm));
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_)
    (*library())->commDestroy(comm_);
}

Status NcclCommunicator::allReduce(const AllReduceBucket &bucket, void *stream) {
  if (bucket.dtype != DType::F32 && bucket.dtype != DType::F64)
    return Status::error("all-reduce of " + std::string(dtypeName(bucket.dtype)) +
                         ": only f32 and f64 are reduced");
  const Library &l = **library();
  int type = bucket.dtype == DType::F32 ? kFloat32 : kFloat64;
  if (Status s = check(l.groupStart(), "ncclGroupStart"); !s.ok())
    return s;
  Status first;
  for (size_t i = 0; i < bucket.from.size() && first.ok(); ++i)
    first = check(l.allReduce(bucket.from[i], bucket.to[i], bucket.counts[i], type,
                              bucket.mean ? kAvg : kSum, comm_, stream),
                  "ncclAllReduce");
  Status ended = check(l.groupEnd(), "ncclGroupEnd");
  return first.ok() ? ended : first;
}

} // namespace nncc::rt::cuda
