// The runtime's thread pool: row-range jobs and the background jobs its
// workers run between them (the training batches' gathering).
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

using nncc::rt::BackgroundJob;

namespace {

// Every piece runs exactly once, whoever runs it, also while the caller
// keeps the workers busy with row-range jobs; the job can be started again.
TEST(BackgroundJob, EveryPieceOnceBetweenRowJobs) {
  const int64_t pieces = 5000;
  std::vector<std::atomic<int>> runs(pieces);
  BackgroundJob job;
  for (int round = 0; round < 3; ++round) {
    for (auto &r : runs)
      r = 0;
    job.start([&](int64_t i) { runs[i].fetch_add(1); }, pieces);
    std::vector<int64_t> rows(4096, 0);
    for (int j = 0; j < 50; ++j)
      nncc::rt::parallelFor(
          [](void *ctx, int64_t begin, int64_t end) {
            auto *r = static_cast<std::vector<int64_t> *>(ctx);
            for (int64_t i = begin; i < end; ++i)
              ++(*r)[i];
          },
          &rows, 0, 4096, 64);
    job.finish();
    for (int64_t i = 0; i < pieces; ++i)
      ASSERT_EQ(runs[i].load(), 1) << "piece " << i << " of round " << round;
    for (int64_t v : rows)
      ASSERT_EQ(v, 50);
  }
}

// With more than one thread, the workers take pieces without being asked:
// a job started and left alone gets done off the calling thread.
TEST(BackgroundJob, WorkersRunPiecesWhileTheCallerWaits) {
  if (std::thread::hardware_concurrency() < 2 || nncc::rt::threadCount() < 2)
    GTEST_SKIP() << "one thread: finish() runs every piece";
  std::atomic<int> done{0}, offCaller{0};
  std::thread::id caller = std::this_thread::get_id();
  BackgroundJob job;
  job.start(
      [&](int64_t) {
        offCaller += std::this_thread::get_id() != caller;
        ++done;
      },
      16);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done.load() < 16 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  job.finish();
  EXPECT_EQ(done.load(), 16);
  EXPECT_EQ(offCaller.load(), 16);
}

// One job is published at a time: a second one started meanwhile runs all
// its pieces in its own finish(), on the caller.
TEST(BackgroundJob, ASecondJobRunsInItsFinish) {
  std::atomic<bool> release{false};
  BackgroundJob first, second;
  first.start(
      [&](int64_t) {
        while (!release.load())
          std::this_thread::yield();
      },
      1);
  std::thread::id caller = std::this_thread::get_id();
  int onCaller = 0, total = 0;
  second.start(
      [&](int64_t) {
        onCaller += std::this_thread::get_id() == caller;
        ++total;
      },
      8);
  release = true;
  second.finish();
  first.finish();
  EXPECT_EQ(total, 8);
  EXPECT_EQ(onCaller, 8);
}

// A row job's chunks go to whichever thread takes them first: with every
// worker held up (here by a background piece that waits for the job's end;
// on a loaded machine, by another process on its core), the caller runs
// them all instead of waiting. Each row still runs once.
TEST(ParallelFor, DoesNotWaitForABusyWorker) {
  if (std::thread::hardware_concurrency() < 2 || nncc::rt::threadCount() != 2)
    GTEST_SKIP() << "needs a pool of exactly one worker";
  std::atomic<bool> started{false}, release{false};
  std::thread::id caller = std::this_thread::get_id();
  BackgroundJob hold;
  hold.start(
      [&](int64_t) {
        if (std::this_thread::get_id() == caller)
          return; // finish() on the caller: nothing to hold
        started = true;
        while (!release.load())
          std::this_thread::yield();
      },
      1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!started.load() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(started.load()) << "the worker never took the background piece";
  struct Rows {
    std::vector<int> runs = std::vector<int>(4096, 0);
    std::thread::id caller;
    std::atomic<int> offCaller{0};
  } rows;
  rows.caller = caller;
  nncc::rt::parallelFor(
      [](void *ctx, int64_t begin, int64_t end) {
        auto *r = static_cast<Rows *>(ctx);
        r->offCaller += std::this_thread::get_id() != r->caller;
        for (int64_t i = begin; i < end; ++i)
          ++r->runs[i];
      },
      &rows, 0, 4096, 64);
  release = true;
  hold.finish();
  EXPECT_EQ(rows.offCaller.load(), 0);
  for (int64_t i = 0; i < 4096; ++i)
    ASSERT_EQ(rows.runs[i], 1) << "row " << i;
}

// Many jobs of different sizes back to back, while other threads compete
// for the cores: every row of every job runs exactly once.
TEST(ParallelFor, EveryRowOnceUnderLoad) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int i = 0; i < 3; ++i)
    load.emplace_back([&] {
      volatile uint64_t x = 0;
      while (!stop.load(std::memory_order_relaxed))
        x = x + 1;
    });
  for (int job = 0; job < 2000; ++job) {
    int64_t n = 64 + (job * 37) % 2000;
    std::vector<int> runs(n, 0);
    nncc::rt::parallelFor(
        [](void *ctx, int64_t begin, int64_t end) {
          auto *r = static_cast<std::vector<int> *>(ctx);
          for (int64_t i = begin; i < end; ++i)
            ++(*r)[i];
        },
        &runs, 0, n, 8);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(runs[i], 1) << "row " << i << " of job " << job;
  }
  stop = true;
  for (std::thread &t : load)
    t.join();
}

// Work started ahead (a compiled loop's next batch): every row once, in
// pieces of `grain` rows, done when waitAhead returns; with a worker, the
// pieces run while the caller does something else.
TEST(ParallelAhead, EveryRowOnceByTheWait) {
  struct Rows {
    std::vector<std::atomic<int>> runs = std::vector<std::atomic<int>>(1000);
    std::atomic<int> pieces{0};
  } rows;
  for (int round = 0; round < 3; ++round) {
    for (auto &r : rows.runs)
      r = 0;
    rows.pieces = 0;
    nncc::rt::parallelAhead(
        [](void *ctx, int64_t begin, int64_t end) {
          auto *r = static_cast<Rows *>(ctx);
          ++r->pieces;
          for (int64_t i = begin; i < end; ++i)
            r->runs[i].fetch_add(1);
        },
        &rows, 0, 1000, 6);
    nncc::rt::waitAhead();
    EXPECT_EQ(rows.pieces.load(), 167); // ceil(1000 / 6)
    for (int64_t i = 0; i < 1000; ++i)
      ASSERT_EQ(rows.runs[i].load(), 1) << "row " << i << " of round " << round;
  }
  nncc::rt::parallelAhead([](void *, int64_t, int64_t) { FAIL() << "no rows, no piece"; }, nullptr,
                          5, 5, 6);
  nncc::rt::waitAhead();
}

} // namespace
