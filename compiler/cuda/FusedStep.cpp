// A signature's launches as one persistent kernel. Each kernel of the
// signature keeps its one definition: its body becomes a __device__
// function whose parameters `blockIdx` and `gridDim` shadow the built-ins,
// which its __global__ kernel calls with the real ones and the fused kernel
// once per virtual block it owns: a tiled product's tiles looped over the
// fused grid, a grid-stride or cooperative body with the fused grid as it
// is (those are right for any grid). Each launch runs in the phase after
// the latest launch it depends on, with the others of that phase, their
// blocks spread over the grid; a grid-wide barrier (cooperative groups'
// arrive-and-flip counter, in a buffer that the runtime zeroes once)
// separates the phases.
#include "compiler/cuda/FusedStep.h"
#include "runtime/Abi.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace nncc::cuda {
namespace {

/// Small: what the fused kernel is for. A step is fused where every buffer
/// of it, counting the batch as one row, has at most this many elements (the
/// textbook MLP's largest, W1, has 39200; a 4096-wide layer's 16.8M are
/// big products, whose own tilings fill the device). Whether a run's batch
/// keeps every launch small is the runtime's call: it takes the fused
/// kernel only where each launch's grid fits the blocks resident at once.
constexpr int64_t kMaxFixedElements = 1 << 20;
/// The static shared memory of all bodies together (each __device__
/// function's __shared__ arrays are its own, in every kernel that calls
/// it).
constexpr int64_t kMaxSharedBytes = 48 * 1024;
constexpr unsigned kThreads = 256;

std::string str(int64_t v) { return std::to_string(v); }

/// Bytes of the static __shared__ arrays declared in `body`.
int64_t sharedBytes(const std::string &body) {
  static const std::regex decl(R"(__shared__\s+(?:__align__\(\d+\)\s+)?([A-Za-z_][A-Za-z_ ]*?)\s+)"
                               R"(\w+((?:\[\d+\])+);)");
  int64_t bytes = 0;
  for (std::sregex_iterator it(body.begin(), body.end(), decl), end; it != end; ++it) {
    std::string type = (*it)[1];
    int64_t n = type == "double" || type == "long long"                       ? 8
                : type == "bool" || type == "char" || type == "unsigned char" ? 1
                : type == "float" || type == "int" || type == "unsigned"      ? 4
                                                                              : 8;
    std::string dims = (*it)[2];
    for (size_t at = dims.find('['); at != std::string::npos; at = dims.find('[', at + 1))
      n *= std::stoll(dims.substr(at + 1));
    bytes += n;
  }
  return bytes;
}

std::string header(const std::string &kernel) {
  return "extern \"C\" __global__ void " + kernel + "(const " + abi::kKernelArgsName + " a) {\n";
}

/// The text of `kernel` in `source` (from its header to the next kernel's
/// or the end), or "".
std::string kernelText(const std::string &source, const std::string &kernel) {
  size_t at = source.find(header(kernel));
  if (at == std::string::npos)
    return "";
  size_t end = source.find("extern \"C\" __global__", at + 1);
  return source.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

/// C expressions of a buffer's rows (all dimensions but the last) and
/// columns for a run of size N.
std::pair<std::string, std::string> matrixOf(const exe::CudaBuffer &b) {
  auto dim = [](int64_t d) { return d >= 0 ? str(d) + "LL" : str(-d) + "LL * N"; };
  std::string rows = "1LL";
  for (int i = 0; i + 1 < b.dims_size(); ++i)
    rows += " * " + dim(b.dims(i));
  return {rows, b.dims_size() ? dim(b.dims(b.dims_size() - 1)) : "1LL"};
}

} // namespace

std::string fusedPrelude() {
  return R"(// A fused step's grid-wide barrier (cooperative groups' grid sync): every
// block's first thread adds 1, block 0's 2^31 - (blocks - 1), so the word's
// top bit flips once all have arrived, leaving its other bits as they were
// (zero: the runtime zeroes it once). Release on arrival, acquire while
// polling; the block's barriers on either side order its other threads.
struct )" +
         std::string(abi::kFusedArgsName) + " { void *p[" + str(abi::kMaxFusedArgs) +
         R"(]; long long n; };
#ifndef NNCC_HOST_EMULATOR
static __device__ __forceinline__ void nncc_grid_sync(unsigned *arrived) {
  __syncthreads();
  if (threadIdx.x == 0) {
    const unsigned add = blockIdx.x == 0 ? 0x80000000u - (gridDim.x - 1) : 1u;
    unsigned old, now;
    asm volatile("atom.add.release.gpu.u32 %0, [%1], %2;" : "=r"(old) : "l"(arrived), "r"(add) : "memory");
    do
      asm volatile("ld.acquire.gpu.u32 %0, [%1];" : "=r"(now) : "l"(arrived) : "memory");
    while (((old ^ now) & 0x80000000u) == 0);
  }
  __syncthreads();
}
#endif

)";
}

void addFusedStep(exe::CudaProgram &program, exe::CudaSignature &sig, std::string &source) {
  if (sig.launches_size() < 2)
    return;
  struct Part {
    const exe::CudaLaunch *launch;
    unsigned index;
    std::string kernel;
    int64_t tileM = 0, tileN = 0;
    unsigned phase = 0;
  };
  std::vector<Part> parts;
  std::map<unsigned, unsigned> slot; // buffer -> the fused kernel's argument
  std::vector<unsigned> args;
  std::set<std::string> bodies;
  int64_t shared = 0;
  auto small = [&](unsigned id) {
    if (id >= static_cast<unsigned>(program.buffers_size()))
      return false;
    int64_t elements = 1;
    for (int64_t d : program.buffers(id).dims())
      elements *= d >= 0 ? d : -d;
    return elements <= kMaxFixedElements;
  };
  for (const exe::CudaLaunch &l : sig.launches()) {
    unsigned index = parts.size();
    if (!l.collective().empty() || l.wgmma_size() || l.for_wgmma() ||
        (l.threads() && l.threads() != kThreads) || l.args_size() == 0)
      return;
    Part p{&l, index, l.kernel()};
    if (l.tilings_size()) { // the smallest tiles: a small step spreads widest
      const exe::CudaTiling &t = l.tilings(l.tilings_size() - 1);
      p = {&l, index, t.kernel(), t.tile_m(), t.tile_n()};
    } else if (l.tile()) {
      p.tileM = p.tileN = l.tile();
    }
    std::string text = kernelText(source, p.kernel);
    if (text.empty())
      return;
    if (bodies.insert(p.kernel).second)
      shared += sharedBytes(text);
    for (unsigned a : l.args()) {
      if (!small(a))
        return;
      if (slot.emplace(a, args.size()).second)
        args.push_back(a);
    }
    parts.push_back(p);
  }
  if (shared > kMaxSharedBytes || args.size() + 1 > abi::kMaxFusedArgs)
    return;

  // Phases, as early as the launches' dependences allow: a launch runs
  // after every earlier launch that writes what it reads or writes, or reads
  // what it writes, one phase later than the latest of them (the first
  // where none). A kernel reads its input i where its body names in<i> past
  // the line that declares it (a group's later kernels are given its
  // earlier values whether they read them or not).
  std::vector<std::set<unsigned>> reads(parts.size());
  unsigned phases = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    Part &p = parts[k];
    const auto &a = p.launch->args();
    std::string text = kernelText(source, p.kernel);
    for (int i = 0; i + 1 < a.size(); ++i) {
      std::regex name("\\bin" + str(i) + "\\b");
      auto uses = std::distance(std::sregex_iterator(text.begin(), text.end(), name),
                                std::sregex_iterator());
      bool declared = text.find(" in" + str(i) + " = ") != std::string::npos;
      if (!declared || uses > 1)
        reads[k].insert(a[i]);
    }
    unsigned out = a[a.size() - 1];
    p.phase = 0;
    for (size_t j = 0; j < k; ++j) {
      const auto &b = parts[j].launch->args();
      unsigned written = b[b.size() - 1];
      if (reads[k].count(written) || written == out || reads[j].count(out))
        p.phase = std::max(p.phase, parts[j].phase + 1);
    }
    phases = std::max(phases, p.phase + 1);
  }
  // In phase order, each phase's launches in the signature's.
  std::stable_sort(parts.begin(), parts.end(),
                   [](const Part &x, const Part &y) { return x.phase < y.phase; });

  // The barrier's word.
  exe::CudaBuffer &barrier = *program.add_buffers();
  barrier.set_dtype(graph::I32);
  barrier.add_dims(1);
  unsigned barrierId = program.buffers_size() - 1;
  unsigned barrierSlot = args.size();
  args.push_back(barrierId);

  // Each body's kernel calls it; so does the fused kernel.
  const std::string params = "(const " + std::string(abi::kKernelArgsName) +
                             " a, const uint3 blockIdx, const dim3 gridDim)";
  for (const std::string &kernel : bodies) {
    std::string body = "static __device__ __forceinline__ void " + kernel + "_body" + params;
    source.replace(source.find(header(kernel)), header(kernel).size(),
                   body + ";\n" + header(kernel) + "  " + kernel +
                       "_body(a, blockIdx, gridDim);\n}\n" + body + " {\n");
  }

  std::string name = sig.name() + "_fused";
  std::string s = "// Signature '" + sig.name() + "' in one launch: its " +
                  str(sig.launches_size()) + " launches in " + str(phases) +
                  " phases, a grid barrier between them; every block resident.\n"
                  "extern \"C\" __global__ void __launch_bounds__(" +
                  str(kThreads) + ") " + name + "(const " + abi::kFusedArgsName +
                  " f) {\n"
                  "  const long long N = f.n;\n"
                  "  unsigned *const barrier = (unsigned *)f.p[" +
                  str(barrierSlot) +
                  "];\n"
                  "  const unsigned G = gridDim.x;\n"
                  "  long long spread = 0; // blocks given work in this phase so far\n"
                  "  (void)N;\n";
  unsigned current = 0;
  s += "  // phase 0\n";
  for (const Part &p : parts) {
    if (p.phase != current) {
      current = p.phase;
      s += "  nncc_grid_sync(barrier);\n  spread = 0;\n  // phase " + str(current) + "\n";
    }
    const auto &a = p.launch->args();
    auto [rows, cols] = matrixOf(program.buffers(a[a.size() - 1]));
    s += "  { // " + p.kernel + "\n    " + abi::kKernelArgsName + " a;\n    a.n = N;\n";
    for (int i = 0; i < a.size(); ++i)
      s += "    a.p[" + str(i) + "] = f.p[" + str(slot[a[i]]) + "];\n";
    s += "    const long long rows = " + rows + ", cols = " + cols +
         ";\n    (void)rows, (void)cols;\n";
    // Block b takes the virtual blocks congruent to b - spread: the phase's
    // launches start where the previous ones ended.
    s += "    const unsigned first = (unsigned)((blockIdx.x + G - spread % G) % G);\n";
    if (p.tileM) {
      s += "    const long long tm = (rows + " + str(p.tileM - 1) + ") / " + str(p.tileM) +
           ", tn = (cols + " + str(p.tileN - 1) + ") / " + str(p.tileN) +
           ";\n"
           "    for (long long t = first; t < tm * tn; t += G) {\n"
           "      " +
           p.kernel +
           "_body(a, uint3{(unsigned)(t % tn), (unsigned)(t / tn), 0u}, "
           "dim3{(unsigned)tn, (unsigned)tm, 1u});\n"
           "      __syncthreads(); // its shared memory free for the next tile\n"
           "    }\n"
           "    spread += tm * tn;\n";
    } else {
      int64_t lanes = std::max<int64_t>(p.launch->lanes(), 1);
      s += "    " + p.kernel + "_body(a, uint3{first, 0u, 0u}, gridDim);\n" +
           "    __syncthreads();\n"
           "    spread += (rows * cols * " +
           str(lanes) + " + " + str(kThreads - 1) + ") / " + str(kThreads) + ";\n";
    }
    s += "  }\n";
    exe::CudaFusedPart &part = *sig.mutable_fused()->add_parts();
    part.set_launch(p.index);
    part.set_phase(p.phase);
    part.set_tile_m(p.tileM);
    part.set_tile_n(p.tileN);
  }
  s += "}\n\n";
  source += s;
  exe::CudaFusedStep &fused = *sig.mutable_fused();
  fused.set_kernel(name);
  for (unsigned a : args)
    fused.add_args(a);
  fused.set_barrier(barrierId);
  fused.set_threads(kThreads);
}

} // namespace nncc::cuda
