#include "runtime/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#define NNCC_PAUSE() _mm_pause()
#else
#define NNCC_PAUSE() ((void)0)
#endif

namespace nncc::rt {
namespace {

thread_local bool inPool = false;

class Pool {
public:
  Pool() {
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (const char *env = std::getenv("NNCC_THREADS"))
      n = std::atoi(env);
    size_ = std::clamp(n, 1, 256);
    limit_ = size_;
    for (int i = 1; i < size_; ++i)
      workers_.emplace_back([this, i] { work(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(sleepMutex_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (std::thread &t : workers_)
      t.join();
  }

  /// Publishes `job` to the workers; false when another one is published.
  bool publish(BackgroundJob *job) {
    BackgroundJob *none = nullptr;
    if (size_ <= 1 || !background_.compare_exchange_strong(none, job))
      return false;
    if (sleeping_.load() > 0) {
      std::lock_guard<std::mutex> lock(sleepMutex_);
      wake_.notify_all();
    }
    return true;
  }
  /// Takes `job` back from the workers: when this returns, none of them
  /// touches it any more.
  void withdraw(BackgroundJob *job) {
    BackgroundJob *expected = job;
    background_.compare_exchange_strong(expected, nullptr);
    while (visitors_.load() > 0)
      NNCC_PAUSE();
  }

  int size() const { return size_; }
  int limit() const { return limit_.load(); }
  void setLimit(int n) { limit_ = std::clamp(n, 1, size_); }

  void run(RowTask task, void *ctx, int64_t begin, int64_t end, int64_t grain) {
    int64_t n = end - begin;
    grain = std::max<int64_t>(grain, 1);
    int64_t chunks = std::min<int64_t>(limit_.load(), n / grain);
    if (chunks <= 1 || inPool) { // most calls of a small model: no lock taken
      task(ctx, begin, end);
      return;
    }
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) {
      task(ctx, begin, end);
      return;
    }
    // Chunk boundaries on multiples of 8 rows (the kernels' row blocks).
    bounds_.assign(chunks + 1, end);
    bounds_[0] = begin;
    for (int64_t i = 1; i < chunks; ++i)
      bounds_[i] = std::min(end, begin + (i * n / chunks + 7) / 8 * 8);
    task_ = task;
    ctx_ = ctx;
    chunks_ = chunks;
    pending_.store(chunks - 1);
    {
      std::lock_guard<std::mutex> lock(sleepMutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load() > 0)
      wake_.notify_all();
    inPool = true;
    task(ctx, bounds_[0], bounds_[1]);
    inPool = false;
    while (pending_.load(std::memory_order_acquire) > 0)
      NNCC_PAUSE();
  }

private:
  void work(int id) {
    inPool = true;
    uint64_t seen = 0;
    for (;;) {
      // Spin a while (a training step's kernels come microseconds apart),
      // then sleep until the next job.
      // Background pieces run only while no kernel rows are waiting.
      uint64_t now = generation_.load(std::memory_order_acquire);
      for (int spin = 0; now == seen && spin < 200000; ++spin) {
        if (runBackgroundPiece())
          spin = 0;
        else
          NNCC_PAUSE();
        now = generation_.load(std::memory_order_acquire);
      }
      if (now == seen) {
        std::unique_lock<std::mutex> lock(sleepMutex_);
        sleeping_.fetch_add(1);
        wake_.wait(lock,
                   [&] { return generation_.load() != seen || background_.load() != nullptr; });
        sleeping_.fetch_sub(1);
        now = generation_.load();
      }
      if (now == seen)
        continue; // woken for background work
      seen = now;
      if (stop_)
        return;
      if (id < chunks_) {
        task_(ctx_, bounds_[id], bounds_[id + 1]);
        pending_.fetch_sub(1, std::memory_order_release);
      }
    }
  }

  bool runBackgroundPiece() {
    if (!background_.load(std::memory_order_relaxed))
      return false;
    visitors_.fetch_add(1);
    BackgroundJob *job = background_.load();
    bool ran = job && job->runOne();
    if (job && !ran) {
      BackgroundJob *expected = job; // all claimed: stop looking at it
      background_.compare_exchange_strong(expected, nullptr);
    }
    visitors_.fetch_sub(1);
    return ran;
  }

  int size_;
  std::atomic<int> limit_;
  std::atomic<BackgroundJob *> background_{nullptr};
  std::atomic<int> visitors_{0};
  std::vector<std::thread> workers_;
  std::mutex busy_, sleepMutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0}, sleeping_{0};
  bool stop_ = false;
  RowTask task_ = nullptr;
  void *ctx_ = nullptr;
  int64_t chunks_ = 0;
  std::vector<int64_t> bounds_;
};

Pool &pool() {
  static Pool instance;
  return instance;
}

} // namespace

int threadCount() { return pool().limit(); }
void setThreadCount(int n) { pool().setLimit(n); }

void parallelFor(RowTask task, void *ctx, int64_t begin, int64_t end, int64_t grain) {
  pool().run(task, ctx, begin, end, grain);
}

void BackgroundJob::start(std::function<void(int64_t)> piece, int64_t pieces) {
  finish();
  piece_ = std::move(piece);
  pieces_ = pieces;
  done_.store(0);
  next_.store(0);
  published_ = pieces > 0 && pool().publish(this);
}

bool BackgroundJob::runOne() {
  int64_t i = next_.fetch_add(1);
  if (i >= pieces_)
    return false;
  piece_(i);
  done_.fetch_add(1, std::memory_order_release);
  return true;
}

void BackgroundJob::finish() {
  while (runOne()) {
  }
  while (done_.load(std::memory_order_acquire) < pieces_)
    NNCC_PAUSE();
  if (published_)
    pool().withdraw(this);
  published_ = false;
  pieces_ = 0;
}

} // namespace nncc::rt
