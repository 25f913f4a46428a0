#include "runtime/mpi/MpiCollective.h"

#include <mpi.h>

#include <cstdio>
#include <cstdlib>

namespace nncc::rt::mpi {
namespace {

std::string mpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, length);
}

class MpiCollective final : public Collective {
public:
  MpiCollective() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCollective() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
      MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  Status allReduce(void *data, int64_t count, DType dtype, bool mean) override {
    if (dtype != DType::F32 && dtype != DType::F64)
      return Status::error("all-reduce of " + std::string(dtypeName(dtype)) +
                           ": only f32 and f64 are reduced");
    MPI_Datatype type = dtype == DType::F32 ? MPI_FLOAT : MPI_DOUBLE;
    // MPI counts are int: a bucket over 2^31 elements goes in pieces.
    size_t width = dtypeSize(dtype);
    for (int64_t done = 0; done < count;) {
      int n = static_cast<int>(std::min<int64_t>(count - done, 1 << 30));
      char *at = static_cast<char *>(data) + done * width;
      if (int rc = MPI_Allreduce(MPI_IN_PLACE, at, n, type, MPI_SUM, MPI_COMM_WORLD);
          rc != MPI_SUCCESS)
        return Status::error("MPI_Allreduce of " + std::to_string(n) + " values on rank " +
                             std::to_string(rank_) + ": " + mpiError(rc));
      done += n;
    }
    if (mean && size_ > 1) {
      if (dtype == DType::F32) {
        float k = 1.0f / static_cast<float>(size_);
        for (float *p = static_cast<float *>(data), *e = p + count; p < e; ++p)
          *p *= k;
      } else {
        double k = 1.0 / size_;
        for (double *p = static_cast<double *>(data), *e = p + count; p < e; ++p)
          *p *= k;
      }
    }
    return Status();
  }

  Status broadcast(void *data, int64_t bytes, int root) override {
    for (int64_t done = 0; done < bytes;) {
      int n = static_cast<int>(std::min<int64_t>(bytes - done, 1 << 30));
      if (int rc = MPI_Bcast(static_cast<char *>(data) + done, n, MPI_BYTE, root, MPI_COMM_WORLD);
          rc != MPI_SUCCESS)
        return Status::error("MPI_Bcast from rank " + std::to_string(root) + ": " + mpiError(rc));
      done += n;
    }
    return Status();
  }

  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code); // MPI_Abort does not return; this is for the compiler
  }

  std::string describe() const override {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(version, &length);
    std::string name(version, length);
    if (auto comma = name.find(','); comma != std::string::npos)
      name.resize(comma); // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"
    return name + ", " + std::to_string(size_) + (size_ == 1 ? " rank" : " ranks");
  }

private:
  int rank_ = 0, size_ = 1;
};

} // namespace

Expected<std::shared_ptr<Collective>> initializeMpi() {
  static std::weak_ptr<Collective> live;
  if (auto existing = live.lock())
    return existing;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    if (int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
        rc != MPI_SUCCESS)
      return Status::error("MPI_Init_thread failed: " + mpiError(rc));
    // Errors come back as codes, reported with the run that met them.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  auto made = std::make_shared<MpiCollective>();
  live = made;
  return std::shared_ptr<Collective>(made);
}

} // namespace nncc::rt::mpi
