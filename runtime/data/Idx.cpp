#include "runtime/data/Idx.h"

#include <zlib.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <numeric>

namespace nncc::rt::data {

namespace {

/// Reads exactly `n` bytes; gzread reads plain files too.
bool readAll(gzFile f, void *out, size_t n) {
  char *p = static_cast<char *>(out);
  while (n > 0) {
    int chunk = static_cast<int>(std::min<size_t>(n, 1 << 30));
    int got = gzread(f, p, chunk);
    if (got <= 0)
      return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

uint32_t bigEndian(const unsigned char *b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
}

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};

} // namespace

Expected<Tensor> readIdx(const std::string &path, DType dtype) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f)
    return Status::error(path + ": cannot open the idx file");
  unsigned char magic[4];
  if (!readAll(f.get(), magic, 4) || magic[0] != 0 || magic[1] != 0)
    return Status::error(path + ": not an idx file (bad magic number)");
  int type = magic[2], rank = magic[3];
  size_t width = type == 0x08 || type == 0x09   ? 1
                 : type == 0x0B                 ? 2
                 : type == 0x0C || type == 0x0D ? 4
                 : type == 0x0E                 ? 8
                                                : 0;
  if (!width)
    return Status::error(path + ": unknown idx element type 0x" + std::to_string(type));
  if (rank < 1 || rank > 8)
    return Status::error(path + ": idx rank " + std::to_string(rank) + " out of range");
  Shape shape;
  int64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    unsigned char b[4];
    if (!readAll(f.get(), b, 4))
      return Status::error(path + ": truncated idx header");
    int64_t d = bigEndian(b);
    // A corrupt size field must not turn into a huge allocation.
    if (d > 0 && count > (int64_t(1) << 32) / d)
      return Status::error(path + ": idx shape claims more than 2^32 elements");
    count *= d;
    shape.push_back(d);
  }
  std::vector<unsigned char> raw;
  raw.reserve(std::min<size_t>(count * width, size_t(1) << 26));
  std::vector<unsigned char> chunk(1 << 20);
  size_t need = static_cast<size_t>(count) * width;
  while (raw.size() < need) {
    size_t n = std::min(chunk.size(), need - raw.size());
    if (!readAll(f.get(), chunk.data(), n))
      return Status::error(path + ": the data is shorter than its shape " + shapeString(shape) +
                           " says");
    raw.insert(raw.end(), chunk.begin(), chunk.begin() + n);
  }
  Tensor t(dtype, shape);
  if (!t.valid())
    return Status::error(path + ": out of memory for the idx data of shape " + shapeString(shape));
  for (int64_t i = 0; i < count; ++i) {
    const unsigned char *p = raw.data() + i * width;
    double v = 0;
    switch (type) {
    case 0x08:
      v = p[0];
      break;
    case 0x09:
      v = static_cast<signed char>(p[0]);
      break;
    case 0x0B:
      v = static_cast<int16_t>((p[0] << 8) | p[1]);
      break;
    case 0x0C:
      v = static_cast<int32_t>(bigEndian(p));
      break;
    case 0x0D: {
      uint32_t u = bigEndian(p);
      float x;
      std::memcpy(&x, &u, 4);
      v = x;
      break;
    }
    case 0x0E: {
      uint64_t u = (uint64_t(bigEndian(p)) << 32) | bigEndian(p + 4);
      std::memcpy(&v, &u, 8);
      break;
    }
    }
    if (dtype == DType::F32) {
      t.data<float>()[i] = static_cast<float>(v);
    } else {
      // Labels are whole numbers; a float file read as labels may hold
      // anything (NaN, 1e38), which no int32 holds.
      if (!(v >= INT32_MIN && v <= INT32_MAX) || v != std::trunc(v))
        return Status::error(path + ": element " + std::to_string(i) + " is " + std::to_string(v) +
                             ", not a whole number an i32 holds");
      t.data<int32_t>()[i] = static_cast<int32_t>(v);
    }
  }
  return t;
}

Expected<Dataset> readMnistDir(const std::string &dir) {
  auto open = [&](const std::string &stem, DType dtype) -> Expected<Tensor> {
    auto gz = readIdx(dir + "/" + stem + ".gz", dtype);
    if (gz.ok())
      return gz;
    auto plain = readIdx(dir + "/" + stem, dtype);
    if (plain.ok())
      return plain;
    return gz.status();
  };
  Dataset d;
  const char *stems[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  Tensor *outs[] = {&d.trainImages, &d.trainLabels, &d.testImages, &d.testLabels};
  for (int i = 0; i < 4; ++i) {
    auto t = open(stems[i], i % 2 ? DType::I32 : DType::F32);
    if (!t)
      return t.status();
    *outs[i] = t.take();
  }
  for (Tensor *images : {&d.trainImages, &d.testImages}) {
    if (images->rank() != 3)
      return Status::error(dir + ": images of shape " + shapeString(images->shape()) +
                           ", expected (n, rows, cols)");
    *images =
        Tensor::adopt(DType::F32, {images->shape()[0], images->shape()[1] * images->shape()[2]},
                      images->data(), [keep = *images](void *) {});
  }
  if (d.trainImages.shape()[0] != d.trainLabels.size() ||
      d.testImages.shape()[0] != d.testLabels.size())
    return Status::error(dir + ": the numbers of images and labels differ");
  return d;
}

void standardize(Tensor &train, Tensor &test) {
  int64_t rows = train.shape()[0], cols = train.shape()[1];
  for (Tensor *t : {&train, &test})
    for (int64_t i = 0; i < t->size(); ++i)
      t->data<float>()[i] = (t->data<float>()[i] / 255.0f - 0.5f) * 2.0f;
  std::vector<double> mean(cols, 0.0);
  double sum = 0, sumSq = 0;
  const float *x = train.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double v = x[r * cols + c];
      mean[c] += v;
      sum += v;
      sumSq += v * v;
    }
  double n = static_cast<double>(rows * cols);
  for (double &m : mean)
    m /= static_cast<double>(rows);
  double globalMean = sum / n;
  double stddev = std::sqrt(sumSq / n - globalMean * globalMean);
  for (Tensor *t : {&train, &test}) {
    float *p = t->data<float>();
    for (int64_t r = 0; r < t->shape()[0]; ++r)
      for (int64_t c = 0; c < cols; ++c)
        p[r * cols + c] = static_cast<float>((p[r * cols + c] - mean[c]) / stddev);
  }
}

BatchIterator::BatchIterator(const Tensor &x, const Tensor &y, int64_t batchSize, uint64_t seed,
                             bool shuffle)
    : x_(x), y_(y), rows_(x.shape()[0]), batch_(batchSize), shuffle_(shuffle), rng_(seed),
      order_(static_cast<size_t>(rows_)), ready_(kChunk), filling_(kChunk), taken_(kChunk) {
  std::iota(order_.begin(), order_.end(), 0);
}

BatchIterator::~BatchIterator() { job_.finish(); }

void BatchIterator::startEpoch() {
  wait();
  for (Batch &b : ready_)
    b.at = -1;
  taken_ = ready_.size();
  fillAt_ = -1;
  at_ = 0;
  if (shuffle_)
    std::shuffle(order_.begin(), order_.end(), rng_);
  launch(0);
}

void BatchIterator::shard(int index, int count) {
  wait();
  shardIndex_ = index;
  shardCount_ = count;
}

std::pair<int64_t, int64_t> BatchIterator::shardOf(int64_t at) const {
  int64_t n = std::min(batch_, rows_ - at);
  int64_t first = n * shardIndex_ / shardCount_, end = n * (shardIndex_ + 1) / shardCount_;
  return {first, end - first};
}

void BatchIterator::shape(int64_t at, Tensor &xb, Tensor &yb) const {
  int64_t n = shardOf(at).second;
  Shape xs = x_.shape(), ys = y_.shape();
  xs[0] = ys[0] = n;
  if (xb.shape() != xs || xb.dtype() != x_.dtype())
    xb = Tensor(x_.dtype(), xs);
  if (yb.shape() != ys || yb.dtype() != y_.dtype())
    yb = Tensor(y_.dtype(), ys);
}

void BatchIterator::copyRows(int64_t at, Tensor &xb, Tensor &yb, int64_t begin, int64_t end) const {
  end = std::min(end, xb.shape()[0]);
  int64_t xCols = x_.size() / rows_, yCols = y_.size() / rows_;
  size_t xRow = xCols * dtypeSize(x_.dtype()), yRow = yCols * dtypeSize(y_.dtype());
  int64_t first = shardOf(at).first;
  for (int64_t i = begin; i < end; ++i) {
    int64_t r = order_[at + first + i];
    std::memcpy(static_cast<char *>(xb.data()) + i * xRow,
                static_cast<const char *>(x_.data()) + r * xRow, xRow);
    std::memcpy(static_cast<char *>(yb.data()) + i * yRow,
                static_cast<const char *>(y_.data()) + r * yRow, yRow);
  }
}

void BatchIterator::gather(int64_t at, Tensor &xb, Tensor &yb) const {
  shape(at, xb, yb);
  copyRows(at, xb, yb, 0, xb.shape()[0]);
}

void BatchIterator::launch(int64_t at) {
  if (at >= rows_)
    return;
  fillAt_ = at;
  for (size_t i = 0; i < filling_.size(); ++i) {
    Batch &b = filling_[i];
    b.at = fillAt_ + static_cast<int64_t>(i) * batch_;
    if (b.at < rows_)
      shape(b.at, b.x, b.y);
    else
      b.at = -1;
  }
  // Pieces of kRowsPerPiece rows, so that a kernel never waits long for a
  // worker busy with them.
  int64_t perBatch = (batch_ + kRowsPerPiece - 1) / kRowsPerPiece;
  job_.start(
      [this, perBatch](int64_t piece) {
        Batch &b = filling_[piece / perBatch];
        int64_t first = piece % perBatch * kRowsPerPiece;
        if (b.at >= 0)
          copyRows(b.at, b.x, b.y, first, first + kRowsPerPiece);
      },
      static_cast<int64_t>(filling_.size()) * perBatch);
}

void BatchIterator::wait() { job_.finish(); }

bool BatchIterator::next(Tensor &xb, Tensor &yb) {
  if (at_ >= rows_ || rows_ - at_ < shardCount_)
    return false;
  if (taken_ >= ready_.size() || ready_[taken_].at != at_) {
    // This chunk is used up: take the one gathered in the background and
    // start on the next.
    wait();
    if (fillAt_ == at_) {
      std::swap(ready_, filling_);
      taken_ = 0;
      launch(at_ + static_cast<int64_t>(ready_.size()) * batch_);
    }
  }
  if (taken_ < ready_.size() && ready_[taken_].at == at_) {
    // Hand out a gathered batch; the caller's previous buffers take its
    // place, to be gathered into with the next chunk.
    Batch &b = ready_[taken_++];
    std::swap(xb, b.x);
    std::swap(yb, b.y);
    b.at = -1;
  } else {
    gather(at_, xb, yb);
  }
  at_ += std::min(batch_, rows_ - at_);
  return true;
}

} // namespace nncc::rt::data
