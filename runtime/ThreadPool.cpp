#include "runtime/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
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

/// Spinning on other threads' progress: the pause instruction, and after a
/// while a yield of the core, so that a thread of the pool whose core
/// another process has taken gets it back soon (spinning only, a training
/// epoch on a loaded machine took up to 30 times as long).
void pauseOrYield(int spin) {
  if (spin < 2048 || spin % 64 != 0)
    NNCC_PAUSE();
  else
    std::this_thread::yield();
}

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
    for (int spin = 0; visitors_.load() > 0; ++spin)
      pauseOrYield(spin);
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
    chunks_.store(chunks, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    uint64_t job = generation_.load(std::memory_order_relaxed) + 1;
    claim_.store(job << kChunkBits, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(sleepMutex_);
      generation_.store(job, std::memory_order_release);
    }
    if (sleeping_.load() > 0)
      wake_.notify_all();
    // The caller takes chunks too, from the first: a worker that is slow to
    // come (asleep, or its core taken by another process) leaves its chunk
    // to the caller instead of holding the job up.
    inPool = true;
    int64_t done = runChunks(job);
    inPool = false;
    done_.fetch_add(done, std::memory_order_acq_rel);
    for (int spin = 0; done_.load(std::memory_order_acquire) < chunks; ++spin)
      pauseOrYield(spin);
  }

private:
  static constexpr int kChunkBits = 20; // claim_: the job number, then the next chunk

  /// Runs the chunks of `job` that no other thread has taken, one at a
  /// time; returns how many. Each chunk goes to one thread, and its rows
  /// are the same whichever thread that is.
  int64_t runChunks(uint64_t job) {
    int64_t ran = 0;
    uint64_t c = claim_.load(std::memory_order_acquire);
    for (;;) {
      // A stale job number, or all chunks taken: this job has nothing left.
      // (chunks_ belongs to `job` while a chunk of it is unclaimed; when it
      // does not, the exchange below fails, claim_ having moved on.)
      if ((c >> kChunkBits) != job || static_cast<int64_t>(c & ((1u << kChunkBits) - 1)) >=
                                          chunks_.load(std::memory_order_relaxed))
        return ran;
      if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel))
        continue;
      int64_t i = static_cast<int64_t>(c & ((1u << kChunkBits) - 1));
      task_(ctx_, bounds_[i], bounds_[i + 1]);
      ++ran;
      c = claim_.load(std::memory_order_acquire);
    }
  }

  void work(int id) {
    (void)id;
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
        else if (spin % 256 == 255)
          std::this_thread::yield(); // others' turn, if the machine is loaded
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
      if (int64_t ran = runChunks(now))
        done_.fetch_add(ran, std::memory_order_acq_rel);
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
  std::atomic<uint64_t> generation_{0}, claim_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<int> sleeping_{0};
  bool stop_ = false;
  RowTask task_ = nullptr;
  void *ctx_ = nullptr;
  std::atomic<int64_t> chunks_{0};
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

namespace {
/// The calling thread's work started ahead, one job per start until the
/// wait (a loop step starts its batch's gathers one after the other: the
/// first is published to the workers, later ones run in the wait if no
/// worker has had them).
struct Ahead {
  std::vector<std::unique_ptr<BackgroundJob>> jobs;
  size_t started = 0;
};
Ahead &ahead() {
  thread_local Ahead a;
  return a;
}
} // namespace

void parallelAhead(RowTask task, void *ctx, int64_t begin, int64_t end, int64_t grain) {
  grain = std::max<int64_t>(grain, 1);
  int64_t pieces = end > begin ? (end - begin + grain - 1) / grain : 0;
  Ahead &a = ahead();
  if (a.started == a.jobs.size())
    a.jobs.push_back(std::make_unique<BackgroundJob>());
  a.jobs[a.started++]->start(
      [=](int64_t i) { task(ctx, begin + i * grain, std::min(end, begin + (i + 1) * grain)); },
      pieces);
}

void waitAhead() {
  Ahead &a = ahead();
  for (size_t i = 0; i < a.started; ++i)
    a.jobs[i]->finish();
  a.started = 0;
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
  for (int spin = 0; done_.load(std::memory_order_acquire) < pieces_; ++spin)
    pauseOrYield(spin);
  if (published_)
    pool().withdraw(this);
  published_ = false;
  pieces_ = 0;
}

} // namespace nncc::rt
