// The fp32 kernels of the big tilings (128x128, 64x64) over plain operands,
// pipelined: 3 or 4 stages of the operands' slices in shared memory, the one
// stages - 1 ahead copied in (cp.async, 16 bytes at a time where the
// operand's rows allow) while this one multiplies, and both read back with
// 128-bit shared loads.
#include "compiler/cuda/KernelWriter.h"

#include <tuple>

namespace nncc::cuda {
namespace {
/// The fp32 kernel of a big tiling (128x128, 64x64) over plain operands: a
/// thread's outputs are 4x4 squares (rows ty*4.. and ty*4 + 64.., columns
/// likewise), so that it reads its slice of A (staged transposed: As[k][row])
/// and of B (Bs[k][col]) with 128-bit shared loads. Shared memory holds
/// t.stages slices: the one stages - 1 ahead is copied in while this one
/// multiplies, one barrier a slice. An operand laid out as its slice (A^T's or B's rows along the
/// tile) is copied by cp.async (16 bytes where its rows are whole float4s,
/// element by element at the edges); one to be transposed on the way (A's
/// or B^T's rows along the contraction) is read 16 bytes at a time into
/// registers before the FMAs and stored after them. Rows are padded by 4
/// floats: 16-byte aligned, the transposing stores of a warp on other banks.
struct Pipelined {
  const Tiling &t;
  const ProductOperands &o;
  bool slab;
  std::string kBegin() const { return slab ? "kBegin" : "0LL"; }
  std::string kEnd() const { return slab ? "kEnd" : "K"; }
  static std::string str(long long v) { return std::to_string(v); }
  /// One operand: A (rows) or B (columns).
  struct Side {
    std::string S, P, origin, bound, vec, regs;
    int width;
    bool direct; // its slice's layout: cp.async copies it as it is
  };
  Side side(bool a) const {
    return a ? Side{"As", o.A, "row0", "M", "vecA", "ra", t.bm, o.ta}
             : Side{"Bs", o.B, "col0", "C", "vecB", "rb", t.bn, !o.tb};
  }
  int chunks(const Side &x) const { return x.width * t.bk / 4 / 256; }
  /// Whether a side's 4-element chunks may be read 16 bytes at a time: rows
  /// whole float4s at an aligned base (and a slab starting on one).
  std::string vectorizable(const Side &x) const {
    std::string ld = x.direct ? x.bound : "K";
    std::string s = "  const bool " + x.vec + " = " + ld + " % 4 == 0 && ((unsigned long long)" +
                    x.P + " & 15) == 0";
    return s + (x.direct || !slab ? "" : " && kBegin % 4 == 0") + ";\n";
  }
  /// A chunk's place: `o` along the tile, `kk` along the slice; the chunk
  /// runs 4 elements along the operand's rows in memory.
  std::string place(const Side &x) const {
    std::string e = "(threadIdx.x + l * 256)";
    if (x.direct)
      return "const int kk = " + e + " / " + str(x.width / 4) + ", o = " + e + " % " +
             str(x.width / 4) + " * 4;";
    return "const int o = " + e + " / " + str(t.bk / 4) + ", kk = " + e + " % " + str(t.bk / 4) +
           " * 4;";
  }
  static std::string loop(int n, const std::string &body) {
    return "#pragma unroll\n    for (int l = 0; l < " + std::to_string(n) + "; ++l) {\n" + body +
           "    }\n";
  }
  /// Issues the copies (or register loads) of the slice at k0 into `buf`.
  std::string load(const Side &x, const std::string &buf, const std::string &k0) const {
    std::string b = "      " + place(x) + "\n      const long long go = " + x.origin +
                    " + o, gk = " + k0 + " + kk;\n";
    if (x.direct) {
      b += "      float *dst = &" + x.S + "[" + buf + "][kk][o];\n";
      b += "      const float *src = " + x.P + " + gk * " + x.bound + " + go;\n";
      b += "      if (gk < " + kEnd() + " && " + x.vec + " && go + 3 < " + x.bound + ")\n";
      b += "        __pipeline_memcpy_async(dst, src, 16);\n";
      b += "      else\n";
      b += "#pragma unroll\n        for (int q = 0; q < 4; ++q)\n";
      b += "          if (gk < " + kEnd() + " && go + q < " + x.bound + ")\n";
      b += "            __pipeline_memcpy_async(dst + q, src + q, 4);\n";
      b += "          else\n            dst[q] = 0.0f;\n";
      return loop(chunks(x), b);
    }
    b += "      const float *src = " + x.P + " + go * K + gk;\n";
    b += "      if (go < " + x.bound + " && " + x.vec + " && gk + 3 < " + kEnd() + ") {\n";
    b += "        const float4 v = *reinterpret_cast<const float4 *>(src);\n";
    b += "        " + x.regs + "[l][0] = v.x, " + x.regs + "[l][1] = v.y, " + x.regs +
         "[l][2] = v.z, " + x.regs + "[l][3] = v.w;\n";
    b += "      } else {\n";
    b += "#pragma unroll\n        for (int q = 0; q < 4; ++q)\n";
    b += "          " + x.regs + "[l][q] = go < " + x.bound + " && gk + q < " + kEnd() +
         " ? src[q] : 0.0f;\n";
    b += "      }\n";
    return loop(chunks(x), b);
  }
  /// Stores a transposing side's registers into `buf`.
  std::string store(const Side &x, const std::string &buf) const {
    if (x.direct)
      return "";
    return loop(chunks(x),
                "      " + place(x) + "\n#pragma unroll\n      for (int q = 0; q < 4; ++q)\n" +
                    "        " + x.S + "[" + buf + "][kk + q][o] = " + x.regs + "[l][q];\n");
  }
  /// `text` two spaces deeper (pragmas stay where they are).
  static std::string deeper(const std::string &text) {
    std::string s;
    for (size_t at = 0, end; at < text.size(); at = end + 1) {
      end = text.find('\n', at);
      s += (text[at] == '#' ? "" : "  ") + text.substr(at, end - at + 1);
    }
    return s;
  }
  std::string loads(const std::string &buf, const std::string &k0) const {
    return load(side(true), buf, k0) + load(side(false), buf, k0);
  }
  std::string stores(const std::string &buf) const {
    return store(side(true), buf) + store(side(false), buf);
  }
  /// Rows (columns) of a thread's i-th output: 4x4 squares 64 apart.
  static std::string at(const std::string &lane, const std::string &i) {
    return lane + " * 4 + (" + i + " >> 2) * 64 + (" + i + " & 3)";
  }

  std::string write(const std::string &origin, const std::string &epilogue) const {
    Side a = side(true), b = side(false);
    std::string bk = str(t.bk), stages = str(t.stages), ahead = str(t.stages - 1), s;
    s += "  // " + str(t.bm) + "x" + str(t.bn) + " tiles, " + str(t.tm) + "x" + str(t.tn) +
         " outputs per thread, slices " + bk + " deep in " + stages + " stages: the slice " +
         ahead + " ahead copied in (cp.async) while this one multiplies.\n";
    s += "  __shared__ __align__(16) float As[" + stages + "][" + bk + "][" + str(t.bm + 4) +
         "]; // A transposed: As[k][row]\n";
    s +=
        "  __shared__ __align__(16) float Bs[" + stages + "][" + bk + "][" + str(t.bn + 4) + "];\n";
    s += "  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;\n";
    s += origin;
    s += vectorizable(a) + vectorizable(b);
    for (const Side *x : {&a, &b})
      if (!x->direct)
        s += "  float " + x->regs + "[" + str(chunks(*x)) + "][4];\n";
    s += "  float acc[" + str(t.tm) + "][" + str(t.tn) + "];\n";
    s += "#pragma unroll\n  for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
    s += "#pragma unroll\n    for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
    s += "      acc[i][j] = 0.0f;\n";
    s += "  const long long slices = (" + kEnd() + " - " + kBegin() + " + " + bk + " - 1) / " + bk +
         ";\n";
    // Slices 0 .. stages - 2 first, a commit group each (empty past the
    // end); slice s + stages - 1 then into the stage slice s - 1 left, and
    // each slice's group waited for (all but the newest stages - 2) at the
    // barrier before it multiplies.
    s += "  for (int p = 0; p < " + ahead + "; ++p) {\n";
    s += "    if (p < slices) {\n" + deeper(loads("p", kBegin() + " + (long long)p * " + bk)) +
         "    }\n";
    s += "    __pipeline_commit();\n";
    s += "    if (p < slices) {\n" + deeper(stores("p")) + "    }\n  }\n";
    s += "  __pipeline_wait_prior(" + str(t.stages - 2) + ");\n  __syncthreads();\n";
    s += "  for (long long slice = 0; slice < slices; ++slice) {\n";
    s += "    const int buf = slice % " + stages + ", nbuf = (slice + " + ahead + ") % " + stages +
         ";\n";
    s += "    const bool next = slice + " + ahead + " < slices;\n";
    s += "    if (next) {\n" +
         deeper(loads("nbuf", kBegin() + " + (slice + " + ahead + ") * " + bk)) + "    }\n";
    s += "    __pipeline_commit();\n";
    s += "#pragma unroll\n    for (int k = 0; k < " + bk + "; ++k) {\n";
    s += "      float x[" + str(t.tm) + "], y[" + str(t.tn) + "];\n";
    for (auto [v, S, lane, n] :
         {std::tuple{"x", "As", "ty", t.tm}, std::tuple{"y", "Bs", "tx", t.tn}}) {
      s += "#pragma unroll\n      for (int g = 0; g < " + str(n / 4) + "; ++g) {\n";
      s += "        const float4 q = *reinterpret_cast<const float4 *>(&" + std::string(S) +
           "[buf][k][" + lane + " * 4 + g * 64]);\n";
      s += "        " + std::string(v) + "[g * 4] = q.x, " + v + "[g * 4 + 1] = q.y, " + v +
           "[g * 4 + 2] = q.z, " + v + "[g * 4 + 3] = q.w;\n";
      s += "      }\n";
    }
    s += "#pragma unroll\n      for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
    s += "#pragma unroll\n        for (int j = 0; j < " + str(t.tn) + "; ++j)\n";
    s += "          acc[i][j] = fmaf(x[i], y[j], acc[i][j]);\n";
    s += "    }\n";
    s += "    if (next) {\n" + deeper(stores("nbuf")) + "    }\n";
    s += "    __pipeline_wait_prior(" + str(t.stages - 2) + ");\n";
    s += "    __syncthreads();\n";
    s += "  }\n";
    s += "#pragma unroll\n  for (int i = 0; i < " + str(t.tm) + "; ++i)\n";
    s += "#pragma unroll\n    for (int j = 0; j < " + str(t.tn) + "; ++j) {\n";
    s += storeElement(6, "row0 + " + at("ty", "i"), "col0 + " + at("tx", "j"), "float", "acc[i][j]",
                      epilogue);
    s += "    }\n}\n";
    return s;
  }
};

} // namespace

bool pipelines(const Tiling &t, const std::string &T, const ProductOperands &o) {
  return T == "float" && t.splits == 1 && o.loadA.empty() && o.loadB.empty() && t.bm / t.tm == 16 &&
         t.bn / t.tn == 16 && t.tm % 4 == 0 && t.tn % 4 == 0 && t.bm * t.bk % 1024 == 0 &&
         t.bn * t.bk % 1024 == 0;
}

std::string pipelinedProduct(const Tiling &t, const ProductOperands &o, bool slab,
                             const std::string &origin, const std::string &epilogue) {
  return Pipelined{t, o, slab}.write(origin, epilogue);
}

} // namespace nncc::cuda
