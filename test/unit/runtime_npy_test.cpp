// .npy reading and writing: round trips, numpy's exact bytes, and an error
// naming the file and the problem for every kind of bad input.
#include "runtime/Npy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <dirent.h>
#include <fstream>

using namespace nncc::rt;

namespace {

/// numpy's header for `dict`, version 1.0, padded to 64 bytes.
std::string npyHeader(const std::string &dict, int version = 1) {
  size_t pre = version == 1 ? 10 : 12;
  size_t len = (pre + dict.size() + 1 + 63) / 64 * 64 - pre;
  std::string h = std::string("\x93NUMPY", 6) + char(version) + '\0';
  for (size_t i = 0; i < pre - 8; ++i)
    h += char((len >> (8 * i)) & 0xff);
  return h + dict + std::string(len - dict.size() - 1, ' ') + "\n";
}

std::string f4Dict(const std::string &shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

std::string floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * 4);
}

class NpyFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/npy_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    DIR *d = ::opendir(dir_.c_str());
    while (dirent *e = d ? ::readdir(d) : nullptr)
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
        names.push_back(e->d_name);
    if (d)
      ::closedir(d);
    return names;
  }
  void put(const std::string &name, const std::string &bytes) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
  }
  std::string dir_;
};

void expectError(const Expected<Tensor> &r, const std::string &name, const std::string &what) {
  ASSERT_FALSE(r.ok()) << "expected an error about: " << what;
  EXPECT_NE(r.error().find(name), std::string::npos) << r.error();
  EXPECT_NE(r.error().find(what), std::string::npos) << r.error();
}

} // namespace

TEST(NpyTest, WritesNumpysExactBytes) {
  Tensor t = Tensor::of<float>({2, 2}, {1, 2, 3, 4});
  auto bytes = writeNpyBytes(t);
  ASSERT_TRUE(bytes.ok()) << bytes.error();
  EXPECT_EQ(*bytes, npyHeader(f4Dict("(2, 2)")) + floats({1, 2, 3, 4}));
  EXPECT_EQ(bytes->size(), 144u); // as np.save writes it
  auto scalar = writeNpyBytes(Tensor::of<bool>({}, {true}));
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(*scalar, npyHeader("{'descr': '|b1', 'fortran_order': False, 'shape': (), }") + "\x01");
}

TEST(NpyTest, RoundTripsEveryDType) {
  std::vector<Tensor> tensors = {
      Tensor::of<float>({3}, {1.5f, -2, 3e-8f}),
      Tensor::of<double>({2, 1}, {0.1, -1e300}),
      Tensor::of<int32_t>({2, 2}, {1, -2, 2147483647, -2147483647 - 1}),
      Tensor::of<int64_t>({}, {int64_t(1) << 62}),
      Tensor::of<bool>({1, 3}, {true, false, true}),
      Tensor(DType::F32, {0, 5}),
  };
  for (const Tensor &t : tensors) {
    auto bytes = writeNpyBytes(t);
    ASSERT_TRUE(bytes.ok()) << bytes.error();
    auto back = readNpyBytes(*bytes, "mem.npy");
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->dtype(), t.dtype());
    EXPECT_EQ(back->shape(), t.shape());
    EXPECT_EQ(back->toDoubles(), t.toDoubles()) << dtypeName(t.dtype());
  }
}

TEST(NpyTest, ReadsVersion2AndPython2Longs) {
  auto v2 = readNpyBytes(npyHeader(f4Dict("(2,)"), 2) + floats({7, 8}), "v2.npy");
  ASSERT_TRUE(v2.ok()) << v2.error();
  EXPECT_EQ(v2->shape(), Shape({2}));
  EXPECT_EQ(v2->toDoubles(), std::vector<double>({7, 8}));
  auto longs = readNpyBytes(npyHeader(f4Dict("(1L, 2L)")) + floats({1, 2}), "py2.npy");
  ASSERT_TRUE(longs.ok()) << longs.error();
  EXPECT_EQ(longs->shape(), Shape({1, 2}));
}

TEST(NpyTest, BoolBytesOtherThanOneAreTrue) {
  auto r = readNpyBytes(npyHeader("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }") +
                            std::string("\x00\x02\x01", 3),
                        "b.npy");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->toDoubles(), std::vector<double>({0, 1, 1}));
}

TEST(NpyTest, BadMagicAndVersion) {
  expectError(readNpyBytes("hello world, not numpy", "x.npy"), "x.npy", "bad magic");
  expectError(readNpyBytes("", "empty.npy"), "empty.npy", "bad magic");
  expectError(readNpyBytes(std::string("\x93NUM", 4), "t.npy"), "t.npy", "truncated header");
  std::string v3 = npyHeader(f4Dict("(1,)"), 2);
  v3[6] = 3;
  expectError(readNpyBytes(v3 + floats({1}), "v3.npy"), "v3.npy", "unsupported .npy version 3.0");
}

TEST(NpyTest, TruncatedHeader) {
  std::string h = npyHeader(f4Dict("(2,)"));
  expectError(readNpyBytes(h.substr(0, 9), "a.npy"), "a.npy", "truncated header");
  expectError(readNpyBytes(h.substr(0, 40), "b.npy"), "b.npy", "truncated header");
}

TEST(NpyTest, MalformedDict) {
  auto bad = [](const std::string &dict) { return readNpyBytes(npyHeader(dict), "m.npy"); };
  expectError(bad("{'descr': '<f4', 'fortran_order': False}"), "m.npy", "missing key 'shape'");
  expectError(bad("{'descr': '<f4' 'fortran_order': False, 'shape': ()}"), "m.npy",
              "expected ',' or '}'");
  expectError(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x)}"), "m.npy",
              "expected a non-negative dimension");
  expectError(bad("{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}"), "m.npy",
              "expected True or False");
  expectError(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}"), "m.npy",
              "unexpected key 'x'");
  expectError(bad("['descr', '<f4']"), "m.npy", "expected '{'");
}

TEST(NpyTest, UnsupportedDTypeAndFortranOrder) {
  auto r = readNpyBytes(
      npyHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }") + "abcd", "big.npy");
  expectError(r, "big.npy", "unsupported dtype '>f4'");
  expectError(r, "big.npy", "'<f4', '<f8', '<i4', '<i8', '|b1'");
  expectError(readNpyBytes(npyHeader("{'descr': '<u1', 'fortran_order': False, "
                                     "'shape': (1,), }") +
                               "a",
                           "u.npy"),
              "u.npy", "unsupported dtype '<u1'");
  expectError(readNpyBytes(npyHeader("{'descr': '<f4', 'fortran_order': True, "
                                     "'shape': (2, 2), }") +
                               floats({1, 2, 3, 4}),
                           "f.npy"),
              "f.npy", "Fortran order");
}

TEST(NpyTest, DataMustMatchTheShape) {
  expectError(readNpyBytes(npyHeader(f4Dict("(3, 2)")) + floats({1, 2, 3, 4, 5}), "s.npy"), "s.npy",
              "data shorter than the shape says: (3, 2) of f32 needs 24 bytes, "
              "the file has 20");
  expectError(readNpyBytes(npyHeader(f4Dict("(1,)")) + floats({1, 2}), "l.npy"), "l.npy",
              "4 bytes of unexpected data");
}

TEST(NpyTest, HugeShapesAreRefusedBeforeAllocating) {
  expectError(readNpyBytes(npyHeader(f4Dict("(4294967296, 4294967296)")), "o.npy"), "o.npy",
              "more than 2^34 elements");
  expectError(readNpyBytes(npyHeader(f4Dict("(34359738368,)")), "b.npy"), "b.npy",
              "exceeds 2^34 elements");
  expectError(readNpyBytes(npyHeader(f4Dict("(99999999999999999999999,)")), "d.npy"), "d.npy",
              "exceeds 2^34 elements");
  // 2^34 elements fit the limit but not the (empty) data.
  expectError(readNpyBytes(npyHeader(f4Dict("(131072, 131072)")), "z.npy"), "z.npy",
              "data shorter than the shape says");
}

TEST_F(NpyFileTest, FileRoundTripLeavesNoTemporaryFile) {
  std::string path = dir_ + "/x.npy";
  Tensor t = Tensor::of<double>({2, 3}, {1, 2, 3, 4, 5, 6});
  ASSERT_TRUE(writeNpy(path, t).ok());
  // Overwriting replaces the file.
  Tensor u = Tensor::of<int32_t>({2}, {9, 10});
  Status st = writeNpy(path, u);
  ASSERT_TRUE(st.ok()) << st.message();
  auto back = readNpy(path);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->dtype(), DType::I32);
  EXPECT_EQ(back->toDoubles(), std::vector<double>({9, 10}));
  EXPECT_EQ(files(), std::vector<std::string>({"x.npy"}));
}

TEST_F(NpyFileTest, FileErrorsNameTheFile) {
  expectError(readNpy(dir_ + "/missing.npy"), dir_ + "/missing.npy", "No such file or directory");
  expectError(readNpy(dir_), dir_, "not a regular file");
  put("short.npy", npyHeader(f4Dict("(4,)")) + floats({1, 2}));
  expectError(readNpy(dir_ + "/short.npy"), "short.npy", "data shorter than the shape says");
  put("magic.npy", "PK\x03\x04 a zip file");
  expectError(readNpy(dir_ + "/magic.npy"), "magic.npy", "bad magic");
  put("trunc.npy", npyHeader(f4Dict("(4,)")).substr(0, 30));
  expectError(readNpy(dir_ + "/trunc.npy"), "trunc.npy", "truncated header");
  Status st = writeNpy(dir_ + "/no/such/dir/y.npy", Tensor::of<float>({1}, {1}));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no/such/dir/y.npy"), std::string::npos) << st.message();
}
