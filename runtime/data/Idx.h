// MNIST-format idx files (plain or gzip-compressed), the standardization of
// the textbook's MLP examples, and a seeded, shuffling mini-batch iterator.
#ifndef NNCC_RUNTIME_DATA_IDX_H
#define NNCC_RUNTIME_DATA_IDX_H

#include "runtime/Tensor.h"
#include "runtime/ThreadPool.h"

#include <random>

namespace nncc::rt::data {

/// Reads an idx file (.gz or plain) into a tensor of `dtype` (F32 or I32),
/// converting from the file's element type. The shape comes from the file;
/// the element count is checked against the data before anything is
/// allocated.
Expected<Tensor> readIdx(const std::string &path, DType dtype);

/// A training set and its test set, as read from an idx directory.
struct Dataset {
  Tensor trainImages, trainLabels, testImages, testLabels; // F32 [n, 784], I32 [n]
};

/// Reads train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz),
/// t10k-images-... and t10k-labels-... from `dir`, flattening images to rows.
Expected<Dataset> readMnistDir(const std::string &dir);

/// The textbook's input scaling: x = ((p / 255) - 0.5) * 2, then centered by
/// the per-pixel mean of the training set and divided by its single
/// (global) standard deviation. Applied in place to both sets.
void standardize(Tensor &train, Tensor &test);

/// Mini-batches of (x, y) rows in an order reshuffled every epoch from
/// `seed`; the last, partial batch is included. The next batches are
/// gathered a chunk of kChunk at a time by the thread pool's workers between
/// the kernels' jobs (a BackgroundJob: no thread of its own competing with
/// the kernels for the cores), while the caller trains on the current ones;
/// the batch tensors' storage is reused (a batch is valid until the next
/// call).
class BatchIterator {
public:
  BatchIterator(const Tensor &x, const Tensor &y, int64_t batchSize, uint64_t seed,
                bool shuffle = true);
  ~BatchIterator();
  BatchIterator(const BatchIterator &) = delete;
  BatchIterator &operator=(const BatchIterator &) = delete;
  /// Starts an epoch: a new permutation.
  void startEpoch();
  /// The next batch (copied rows), or false at the end of the epoch.
  bool next(Tensor &xBatch, Tensor &yBatch);
  int64_t batchesPerEpoch() const { return (rows_ + batch_ - 1) / batch_; }
  /// Data-parallel training: hand out only shard `index` of `count` of
  /// every batch (rows [n*index/count, n*(index+1)/count) of its n rows).
  /// Every rank shuffles alike from the same seed, so the shards of one
  /// batch partition it. An epoch ends before a last batch of fewer than
  /// `count` rows (a rank would get none).
  void shard(int index, int count);

  static constexpr size_t kChunk = 8;
  /// Rows a piece of the background gathering copies (12 KiB of the
  /// textbook's images: a few microseconds that a kernel job may wait).
  static constexpr int64_t kRowsPerPiece = 4;

private:
  struct Batch {
    Tensor x, y;
    int64_t at = -1; // its first row; -1: empty
  };
  /// Gives the batch at row `at` its shape (allocating only when it changes).
  void shape(int64_t at, Tensor &xb, Tensor &yb) const;
  /// The first row of this shard of the batch at row `at`, and its rows.
  std::pair<int64_t, int64_t> shardOf(int64_t at) const;
  /// Copies rows [begin, end) of the batch at row `at` into shaped buffers.
  void copyRows(int64_t at, Tensor &xb, Tensor &yb, int64_t begin, int64_t end) const;
  void gather(int64_t at, Tensor &xb, Tensor &yb) const;
  void launch(int64_t at);
  void wait();

  const Tensor &x_, &y_;
  int64_t rows_, batch_, at_ = 0;
  bool shuffle_;
  int shardIndex_ = 0, shardCount_ = 1;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
  // The chunk handed out from (taken_ of them so far), and the chunk the
  // pool gathers in the background: batches from fillAt_ on (-1: none).
  std::vector<Batch> ready_, filling_;
  size_t taken_ = 0;
  int64_t fillAt_ = -1;
  BackgroundJob job_;
};

} // namespace nncc::rt::data

#endif
