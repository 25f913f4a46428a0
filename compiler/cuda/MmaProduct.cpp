// The tensor-core product kernels (--cuda-precision=tf32|bf16) for sm_80 and
// later: mma.sync (m16n8k8 TF32, m16n8k16 BF16, fp32 accumulators), the
// fragments read from shared memory by ldmatrix where a slice is K-major
// there, a multi-stage cp.async pipeline for plain operands, the epilogue
// applied from the accumulator registers in the PTX ISA's layout.
#include "compiler/cuda/KernelWriter.h"

namespace nncc::cuda {

// 8 warps in wm x wn x splits: a warp computes a (bm/wm) x (bn/wn) part of
// the tile over 1/splits of each slice (splits > 1: the tiny outputs).
const MmaTiling kMmaTilings[] = {
    {128, 128, 2, 4, 1},
    {64, 64, 2, 4, 1},
    {16, 16, 1, 2, 4},
};

namespace {

std::string str(long long v) { return std::to_string(v); }

/// Statically allocated shared memory is at most 48 KiB a block.
constexpr int kSharedBytes = 48 * 1024;

/// The kernel of one tiling. Shared memory holds the operands in fp32 as
/// they are in memory (so cp.async copies plain operands as they are, 16
/// bytes where their rows allow): K-major (A's rows, B^T's rows: the
/// contraction along a row, padded by 4 floats so ldmatrix's eight 16-byte
/// rows fall on distinct banks) or MN-major (A^T, B: padded by 8 floats, so
/// the fragments' scalar loads, 4 k by 8 rows a warp, are on distinct
/// banks; the 128x128 tiles swizzle instead of padding, which makes room
/// for a third stage: swizzled()). Operands read through a loader (a
/// convolution's windows) are staged through registers into K-major
/// slices. TF32 and BF16 are rounded as the fragments are loaded
/// (cvt.rna.tf32.f32, cvt.rn.bf16x2.f32): BF16 operands are fp32 in memory,
/// and converting them on the way into shared memory would need the
/// registers' round trip cp.async avoids.
///
/// Fragments: ldmatrix.x4 of four 8x4 fp32 blocks (8x8 of b16 each) of a
/// K-major slice gives lane l the element (l/4, l%4) of each: exactly the
/// TF32 A fragment (a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4)),
/// and with two blocks the B fragment (b0 (k t, n g), b1 (t+4, g)). An
/// MN-major slice is read element by element into the same layout. BF16
/// fragments hold pairs (2t, 2t+1) along k; they are made from two such
/// TF32-layout fragments (k 0-7 and 8-15 of the step) by pairing the
/// elements at t and t+4 (cvt.rn.bf16x2.f32): the step's k are permuted
/// (k 8h + 2t + j is read at 8h + t + 4j), the same way for A and B, so the
/// sum of products is the same sum.
struct Mma {
  const MmaTiling &t;
  bool bf16;
  const ProductOperands &o;
  bool slab;
  int kstep = bf16 ? 16 : 8;
  /// A slice's depth: 16 for the 128x128 tiles, 32 for 64x64 (both 3
  /// stages, swizzled, in 48 KiB), a step per split otherwise.
  int bk = t.splits > 1 ? t.splits *kstep : t.bm >= 128 ? 16 : 32;
  int fm = t.bm / t.wm / 16, fn = t.bn / t.wn / 8;

  std::string kBegin() const { return slab ? "kBegin" : "0LL"; }
  std::string kEnd() const { return slab ? "kEnd" : "K"; }

  /// One operand: A (rows of the tile) or B (columns).
  struct Side {
    bool a;
    std::string S, P, origin, bound, vec, regs, loader;
    int width;
    bool kMajor; // the contraction along a row of its slice
    bool byRows; // a loader's elements: consecutive threads on consecutive rows
  };
  Side side(bool a) const {
    Side s{a,
           a ? "As" : "Bs",
           a ? o.A : o.B,
           a ? "row0" : "col0",
           a ? "M" : "C",
           a ? "vecA" : "vecB",
           a ? "ra" : "rb",
           a ? o.loadA : o.loadB,
           a ? t.bm : t.bn,
           a ? !o.ta : o.tb,
           a ? o.ta : !o.tb};
    if (!s.loader.empty())
      s.kMajor = true;
    return s;
  }
  /// Bytes of a side's slice: padded, or swizzled (no padding) where the
  /// padded slices leave room for fewer than 3 stages (the 128x128 tiles).
  int bytes(const Side &x, bool swizzle) const {
    if (swizzle)
      return 4 * x.width * bk;
    return 4 * (x.kMajor ? x.width * (bk + 4) : bk * (x.width + 8));
  }
  int partialBytes() const { return t.splits > 1 ? 4 * (t.splits - 1) * t.bm * t.bn : 0; }
  int stagesFor(bool swizzle) const {
    int perStage = bytes(side(true), swizzle) + bytes(side(false), swizzle);
    return std::min(3, (kSharedBytes - partialBytes()) / perStage);
  }
  /// A K-major slice swizzles its 16-byte chunks by row / 2 (rows of 16
  /// floats, 4 chunks) or by row (32 floats, 8 chunks), so ldmatrix's 8 rows
  /// hit 8 distinct 16-byte bank groups; an MN-major one (rows of 32 floats
  /// or more) its chunks by 2 (k % 4), so the fragments' scalar loads (k t,
  /// t + 4 by 8 columns) hit 32 distinct banks.
  bool swizzled() const {
    auto can = [&](const Side &x) { return x.kMajor ? bk == 16 || bk == 32 : x.width % 32 == 0; };
    return stagesFor(false) < 3 && can(side(true)) && can(side(false)) && stagesFor(true) >= 3;
  }
  /// As many stages (up to 3) as static shared memory holds.
  int stages() const { return std::max(2, stagesFor(swizzled())); }
  std::string declare(const Side &x) const {
    bool swz = swizzled();
    std::string dims = x.kMajor ? "[" + str(x.width) + "][" + str(bk + (swz ? 0 : 4)) + "]"
                                : "[" + str(bk) + "][" + str(x.width + (swz ? 0 : 8)) + "]";
    return "  __shared__ __align__(16) float " + x.S + "[" + str(stages()) + "]" + dims + ";\n";
  }
  /// The element (o, k) of a side's slice in stage `st`.
  std::string at(const Side &x, const std::string &st, const std::string &o,
                 const std::string &k) const {
    bool swz = swizzled();
    if (x.kMajor)
      return x.S + "[" + st + "][" + o + "][" +
             (!swz       ? k
              : bk == 16 ? "(" + k + ") ^ ((((" + o + ") >> 1) & 3) << 2)"
                         : "(" + k + ") ^ (((" + o + ") & 7) << 2)") +
             "]";
    return x.S + "[" + st + "][" + k + "][" + (swz ? "(" + o + ") ^ (((" + k + ") & 3) << 3)" : o) +
           "]";
  }
  static std::string loop(int n, const std::string &body) {
    return "#pragma unroll\n    for (int l = 0; l < " + str(n) + "; ++l) {\n" + body + "    }\n";
  }

  /// A plain side: 4-element chunks along its rows in memory, copied by
  /// cp.async (16 bytes where the rows are whole float4s at an aligned
  /// base, 4 at a time at the edges, zeros past them).
  int chunks(const Side &x) const { return x.width * bk / 4; }
  std::string vectorizable(const Side &x) const {
    if (!x.loader.empty())
      return "";
    std::string ld = x.kMajor ? "K" : x.bound;
    return "  const bool " + x.vec + " = " + ld + " % 4 == 0 && ((unsigned long long)" + x.P +
           " & 15) == 0" + (x.kMajor && slab ? " && kBegin % 4 == 0" : "") + ";\n";
  }
  std::string copy(const Side &x, const std::string &st, const std::string &k0) const {
    std::string e = "(threadIdx.x + l * 256)";
    std::string b;
    int n = (chunks(x) + 255) / 256;
    std::string guard =
        chunks(x) % 256 ? "      if (" + e + " >= " + str(chunks(x)) + ")\n" + "        break;\n"
                        : "";
    b += guard;
    if (x.kMajor)
      b += "      const int o = " + e + " / " + str(bk / 4) + ", kk = " + e + " % " + str(bk / 4) +
           " * 4;\n";
    else
      b += "      const int kk = " + e + " / " + str(x.width / 4) + ", o = " + e + " % " +
           str(x.width / 4) + " * 4;\n";
    b += "      const long long go = " + x.origin + " + o, gk = " + k0 + " + kk;\n";
    b += "      float *dst = &" + at(x, st, "o", "kk") + ";\n";
    if (x.kMajor) {
      b += "      const float *src = " + x.P + " + go * K + gk;\n";
      b += "      if (go < " + x.bound + " && " + x.vec + " && gk + 3 < " + kEnd() + ")\n";
    } else {
      b += "      const float *src = " + x.P + " + gk * " + x.bound + " + go;\n";
      b += "      if (gk < " + kEnd() + " && " + x.vec + " && go + 3 < " + x.bound + ")\n";
    }
    b += "        __pipeline_memcpy_async(dst, src, 16);\n";
    b += "      else\n";
    b += "#pragma unroll\n        for (int q = 0; q < 4; ++q)\n";
    b += "          if (" +
         (x.kMajor ? "go < " + x.bound + " && gk + q < " + kEnd()
                   : "gk < " + kEnd() + " && go + q < " + x.bound) +
         ")\n";
    if (x.kMajor)
      b += "            __pipeline_memcpy_async(dst + q, src + q, 4);\n";
    else
      b += "            __pipeline_memcpy_async(dst + q, src + q, 4);\n";
    b += "          else\n            dst[q] = 0.0f;\n";
    return loop(n, b);
  }

  /// A loader's side: elements read into registers, stored after the
  /// slice in use is multiplied.
  int elements(const Side &x) const { return x.width * bk / 256; }
  std::string place(const Side &x) const {
    std::string e = "(threadIdx.x + l * 256)";
    if (x.byRows)
      return "      const int kk = " + e + " / " + str(x.width) + ", o = " + e + " % " +
             str(x.width) + ";\n";
    return "      const int o = " + e + " / " + str(bk) + ", kk = " + e + " % " + str(bk) + ";\n";
  }
  std::string fetch(const Side &x, const std::string &k0) const {
    std::string read = x.a ? x.loader + "(go, gk)" : x.loader + "(gk, go)";
    return loop(elements(x), place(x) + "      const long long go = " + x.origin +
                                 " + o, gk = " + k0 + " + kk;\n      " + x.regs + "[l] = go < " +
                                 x.bound + " && gk < " + kEnd() + " ? " + read + " : 0.0f;\n");
  }
  std::string keep(const Side &x, const std::string &st) const {
    return loop(elements(x),
                place(x) + "      " + at(x, st, "o", "kk") + " = " + x.regs + "[l];\n");
  }

  /// Issues a slice's copies and loads (into stage `st`, from depth k0).
  std::string issue(const std::string &st, const std::string &k0) const {
    std::string s;
    for (bool a : {true, false}) {
      Side x = side(a);
      s += x.loader.empty() ? copy(x, st, k0) : fetch(x, k0);
    }
    return s;
  }
  std::string keepAll(const std::string &st) const {
    std::string s;
    for (bool a : {true, false})
      if (Side x = side(a); !x.loader.empty())
        s += keep(x, st);
    return s;
  }
  static std::string deeper(const std::string &text) {
    std::string s;
    for (size_t at = 0, end; at < text.size(); at = end + 1) {
      end = text.find('\n', at);
      s += (text[at] == '#' ? "" : "  ") + text.substr(at, end - at + 1);
    }
    return s;
  }

  /// `fragA(st, r0, kb, x)`: the TF32-layout fragment (fp32 bits) of rows
  /// r0.. and k kb.. of A's slice in stage st; `fragB(st, c0, kb, x)` that
  /// of columns c0.. of B's (x[0..1]), and with fn even also of c0 + 8..
  /// (x[2..3]).
  std::string fragments() const {
    std::string s;
    Side a = side(true), b = side(false);
    s += "  auto fragA = [&](const int st, const int r0, const int kb, unsigned (&x)[4]) {\n";
    auto load = [&](const Side &x, int r, const std::string &o, const std::string &k) {
      return "    x[" + str(r) + "] = __float_as_uint(" + at(x, "st", o, k) + ");\n";
    };
    if (a.kMajor) {
      s += "    nncc_ldmatrix_x4(x, &" +
           at(a, "st", "r0 + (lane & 7) + ((lane >> 3) & 1) * 8", "kb + (lane >> 4) * 4") + ");\n";
    } else {
      s += load(a, 0, "r0 + g", "kb + t") + load(a, 1, "r0 + g + 8", "kb + t") +
           load(a, 2, "r0 + g", "kb + t + 4") + load(a, 3, "r0 + g + 8", "kb + t + 4");
    }
    s += "  };\n";
    bool pairs = fn % 2 == 0;
    s += "  auto fragB = [&](const int st, const int c0, const int kb, unsigned (&x)[" +
         str(pairs ? 4 : 2) + "]) {\n";
    if (b.kMajor && pairs) {
      s += "    nncc_ldmatrix_x4(x, &" +
           at(b, "st", "c0 + (lane & 7) + (lane >> 4) * 8", "kb + ((lane >> 3) & 1) * 4") + ");\n";
    } else if (b.kMajor) {
      s += "    nncc_ldmatrix_x2(x, &" +
           at(b, "st", "c0 + (lane & 7)", "kb + ((lane >> 3) & 1) * 4") + ");\n";
    } else {
      s += load(b, 0, "c0 + g", "kb + t") + load(b, 1, "c0 + g", "kb + t + 4");
      if (pairs)
        s += load(b, 2, "c0 + g + 8", "kb + t") + load(b, 3, "c0 + g + 8", "kb + t + 4");
    }
    s += "  };\n";
    return s;
  }

  /// One k step of a warp on stage st at depth kb: its fragments loaded,
  /// rounded, multiplied.
  std::string step() const {
    std::string s;
    bool pairs = fn % 2 == 0;
    std::string bw = str(pairs ? 4 : 2);
    s += "      unsigned fa[" + str(fm) + "][4], fb[" + str(fn) + "][2];\n";
    s += "#pragma unroll\n      for (int i = 0; i < " + str(fm) + "; ++i) {\n";
    if (bf16) {
      s += "        unsigned x[4], y[4];\n";
      s += "        fragA(st, wr + i * 16, kb, x);\n";
      s += "        fragA(st, wr + i * 16, kb + 8, y);\n";
      s += "        fa[i][0] = nncc_bf16x2(x[0], x[2]), fa[i][1] = nncc_bf16x2(x[1], x[3]);\n";
      s += "        fa[i][2] = nncc_bf16x2(y[0], y[2]), fa[i][3] = nncc_bf16x2(y[1], y[3]);\n";
    } else {
      s += "        unsigned x[4];\n";
      s += "        fragA(st, wr + i * 16, kb, x);\n";
      s += "#pragma unroll\n        for (int r = 0; r < 4; ++r)\n";
      s += "          fa[i][r] = nncc_tf32(x[r]);\n";
    }
    s += "      }\n";
    int per = pairs ? 2 : 1;
    s += "#pragma unroll\n      for (int j = 0; j < " + str(fn) + "; j += " + str(per) + ") {\n";
    if (bf16) {
      s += "        unsigned p[" + bw + "], q[" + bw + "];\n";
      s += "        fragB(st, wc + j * 8, kb, p);\n";
      s += "        fragB(st, wc + j * 8, kb + 8, q);\n";
      s += "#pragma unroll\n        for (int h = 0; h < " + str(per) + "; ++h)\n";
      s += "          fb[j + h][0] = nncc_bf16x2(p[2 * h], p[2 * h + 1]), fb[j + h][1] = "
           "nncc_bf16x2(q[2 * h], q[2 * h + 1]);\n";
    } else {
      s += "        unsigned p[" + bw + "];\n";
      s += "        fragB(st, wc + j * 8, kb, p);\n";
      s += "#pragma unroll\n        for (int h = 0; h < " + str(per) + "; ++h)\n";
      s +=
          "          fb[j + h][0] = nncc_tf32(p[2 * h]), fb[j + h][1] = nncc_tf32(p[2 * h + 1]);\n";
    }
    s += "      }\n";
    s += "#pragma unroll\n      for (int i = 0; i < " + str(fm) + "; ++i)\n";
    s += "#pragma unroll\n        for (int j = 0; j < " + str(fn) + "; ++j)\n";
    s += std::string("          ") + (bf16 ? "nncc_mma_bf16" : "nncc_mma_tf32") +
         "(acc[i][j], fa[i], fb[j]);\n";
    return s;
  }

  /// Accumulator register c of fragment (i, j): row g (+8 for c >= 2),
  /// columns 2t, 2t + 1.
  std::string store(const std::string &epilogue) const {
    std::string s;
    s += "#pragma unroll\n  for (int i = 0; i < " + str(fm) + "; ++i)\n";
    s += "#pragma unroll\n    for (int j = 0; j < " + str(fn) + "; ++j)\n";
    s += "#pragma unroll\n      for (int c = 0; c < 4; ++c) {\n";
    s += storeElement(8, "row0 + wr + i * 16 + g + (c >> 1) * 8",
                      "col0 + wc + j * 8 + 2 * t + (c & 1)", "float", "acc[i][j][c]", epilogue);
    s += "      }\n}\n";
    return s;
  }

  std::string write(const std::string &origin, const std::string &epilogue) const {
    const int S = stages(), perSplit = bk / t.splits;
    Side a = side(true), b = side(false);
    std::string s;
    s += "  // Tensor cores (mma.sync " + std::string(bf16 ? "m16n8k16 BF16" : "m16n8k8 TF32") +
         ", fp32 accumulators): " + str(t.bm) + "x" + str(t.bn) + " tiles, 8 warps of " +
         str(t.bm / t.wm) + "x" + str(t.bn / t.wn) +
         (t.splits > 1 ? " each over 1/" + str(t.splits) + " of each slice" : "") + ", slices " +
         str(bk) + " deep in " + str(S) + " stages.\n";
    s += declare(a) + declare(b);
    s += "  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane >> 2, t = lane & "
         "3;\n";
    int within = t.wm * t.wn;
    s += "  const int wr = (warp % " + str(within) + " / " + str(t.wn) + ") * " + str(t.bm / t.wm) +
         ", wc = (warp % " + str(t.wn) + ") * " + str(t.bn / t.wn) + ";\n";
    if (t.splits > 1)
      s += "  const int split = warp / " + str(within) + ";\n";
    s += origin;
    s += vectorizable(a) + vectorizable(b);
    for (const Side *x : {&a, &b})
      if (!x->loader.empty())
        s += "  float " + x->regs + "[" + str(elements(*x)) + "];\n";
    s += fragments();
    s += "  float acc[" + str(fm) + "][" + str(fn) + "][4];\n";
    s += "#pragma unroll\n  for (int i = 0; i < " + str(fm) + "; ++i)\n";
    s += "#pragma unroll\n    for (int j = 0; j < " + str(fn) + "; ++j)\n";
    s += "#pragma unroll\n      for (int c = 0; c < 4; ++c)\n";
    s += "        acc[i][j][c] = 0.0f;\n";
    s += "  const long long slices = (" + kEnd() + " - " + kBegin() + " + " + str(bk) + " - 1) / " +
         str(bk) + ";\n";
    // The first S - 1 slices in flight; then each slice waits for its own
    // copies (the block meets: everyone's have landed, and everyone is done
    // with the stage the copies S - 1 slices ahead go to), issues them and
    // multiplies. One barrier a slice.
    s += "#pragma unroll\n  for (int p = 0; p < " + str(S - 1) + "; ++p) {\n";
    s += "    if (p < slices) {\n" +
         deeper(deeper(issue("p", kBegin() + " + p * " + str(bk)) + keepAll("p"))) + "    }\n";
    s += "    __pipeline_commit();\n  }\n";
    s += "  for (long long slice = 0; slice < slices; ++slice) {\n";
    s += "    __pipeline_wait_prior(" + str(S - 2) + ");\n";
    s += "    __syncthreads();\n";
    s += "    const int st = (int)(slice % " + str(S) + "), ahead = (int)((slice + " + str(S - 1) +
         ") % " + str(S) + ");\n";
    s += "    const bool next = slice + " + str(S - 1) + " < slices;\n";
    s += "    if (next) {\n" +
         deeper(issue("ahead", kBegin() + " + (slice + " + str(S - 1) + ") * " + str(bk))) +
         "    }\n";
    s += "    __pipeline_commit();\n";
    s += "#pragma unroll\n    for (int ks = 0; ks < " + str(perSplit / kstep) + "; ++ks) {\n";
    s += "      const int kb = " +
         std::string(t.splits > 1 ? "split * " + str(perSplit) + " + " : "") + "ks * " +
         str(kstep) + ";\n";
    s += step();
    s += "    }\n";
    std::string kept = keepAll("ahead");
    if (!kept.empty())
      s += "    if (next) {\n" + deeper(kept) + "    }\n";
    s += "  }\n";
    if (t.splits > 1) {
      // The splits' partial sums added in a fixed order: the same result
      // every run.
      s += "  __shared__ float partial[" + str(t.splits - 1) + "][" + str(t.bm * t.bn) + "];\n";
      std::string element =
          "(wr + i * 16 + g + (c >> 1) * 8) * " + str(t.bn) + " + wc + j * 8 + 2 * t + (c & 1)";
      auto each = [&](const std::string &body) {
        return "#pragma unroll\n    for (int i = 0; i < " + str(fm) + "; ++i)\n" +
               "#pragma unroll\n      for (int j = 0; j < " + str(fn) + "; ++j)\n" +
               "#pragma unroll\n        for (int c = 0; c < 4; ++c)\n          " + body + "\n";
      };
      s += "  if (split > 0) {\n" + each("partial[split - 1][" + element + "] = acc[i][j][c];") +
           "  }\n";
      s += "  __syncthreads();\n";
      s += "  if (split > 0)\n    return;\n";
      s += "  for (int p = 0; p < " + str(t.splits - 1) + "; ++p) {\n" +
           each("acc[i][j][c] += partial[p][" + element + "];") + "  }\n";
    }
    s += store(epilogue);
    return s;
  }
};

} // namespace

std::string mmaProduct(const MmaTiling &t, bool bf16, const ProductOperands &o, bool slab,
                       const std::string &origin, const std::string &epilogue) {
  return Mma{t, bf16, o, slab}.write(origin, epilogue);
}

// Each PTX instruction behind a function, so that the host emulator
// (test/e2e/CudaHostEmulator.h), which defines NNCC_HOST_EMULATOR, can
// give its own with the same semantics.
std::string mmaPrelude() {
  return R"(#ifndef NNCC_HOST_EMULATOR
// TF32: 10 mantissa bits, rounded to nearest, ties away from zero.
__device__ __forceinline__ unsigned nncc_tf32(unsigned x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(__uint_as_float(x)));
  return r;
}
// Two BF16 (round to nearest even), lo in the low half.
__device__ __forceinline__ unsigned nncc_bf16x2(unsigned lo, unsigned hi) {
  unsigned r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(__uint_as_float(hi)), "f"(__uint_as_float(lo)));
  return r;
}
// Lane l gives the row address (16 bytes, shared memory) of row l % 8 of
// matrix l / 8; register i gets 32 bits at row lane / 4, word lane % 4 of
// matrix i.
__device__ __forceinline__ void nncc_ldmatrix_x4(unsigned (&d)[4], const void *row) {
  const unsigned p = (unsigned)__cvta_generic_to_shared(row);
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3]) : "r"(p) : "memory");
}
__device__ __forceinline__ void nncc_ldmatrix_x2(unsigned (&d)[2], const void *row) {
  const unsigned p = (unsigned)__cvta_generic_to_shared(row);
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];"
               : "=r"(d[0]), "=r"(d[1]) : "r"(p) : "memory");
}
// d += a.b, a 16x8 (TF32) or 16x16 (BF16), b 8x8 or 16x8, fp32 accumulators.
__device__ __forceinline__ void nncc_mma_tf32(float (&d)[4], const unsigned (&a)[4],
                                              const unsigned (&b)[2]) {
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, "
               "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
__device__ __forceinline__ void nncc_mma_bf16(float (&d)[4], const unsigned (&a)[4],
                                              const unsigned (&b)[2]) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
               "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#endif

)";
}

} // namespace nncc::cuda
