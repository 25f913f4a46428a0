// MNIST-format idx files (plain or gzip-compressed), the standardization of
// the textbook's MLP examples, and a seeded, shuffling mini-batch iterator.
#ifndef NNCC_RUNTIME_DATA_IDX_H
#define NNCC_RUNTIME_DATA_IDX_H

#include "runtime/Tensor.h"

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
/// `seed`; the last, partial batch is included.
class BatchIterator {
public:
  BatchIterator(const Tensor &x, const Tensor &y, int64_t batchSize,
                uint64_t seed, bool shuffle = true);
  /// Starts an epoch: a new permutation.
  void startEpoch();
  /// The next batch (copied rows), or false at the end of the epoch.
  bool next(Tensor &xBatch, Tensor &yBatch);
  int64_t batchesPerEpoch() const { return (rows_ + batch_ - 1) / batch_; }

private:
  const Tensor &x_, &y_;
  int64_t rows_, batch_, at_ = 0;
  bool shuffle_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
};

} // namespace nncc::rt::data

#endif
