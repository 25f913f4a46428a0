// Shared by the textbook example programs: compile a model in process (the
// JIT path) and print tensors compactly.
#ifndef NNCC_EXAMPLES_EXAMPLEUTIL_H
#define NNCC_EXAMPLES_EXAMPLEUTIL_H

#include "compiler/driver/Jit.h"
#include "runtime/Session.h"
#include "runtime/plot/Svg.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace nncc::examples {

/// The example's model: argv[1] if given, else the .pbtxt beside the source.
inline std::string modelPath(int argc, char **argv, const char *name) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--plots" || std::string(argv[i]) == "--device") {
      ++i;
      continue;
    }
    return argv[i];
  }
  return std::string(NNCC_EXAMPLES_DIR) + "/" + name + "/" + name + ".pbtxt";
}

/// The directory of `--plots DIR` on the command line, or "" (no pictures).
inline std::string plotDir(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--plots")
      return argv[i + 1];
  return "";
}

/// The device of `--device cpu|cuda|best` (default cpu), or exits with
/// the reason it is not there.
inline rt::Device deviceOf(const std::string &name) {
  auto device = rt::Device::named(name);
  if (!device) {
    std::fprintf(stderr, "error: --device %s: %s\n", name.c_str(), device.error().c_str());
    std::exit(1);
  }
  return *device;
}
inline rt::Device deviceOf(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--device")
      return deviceOf(argv[i + 1]);
  return rt::Device::cpu();
}

/// Writes `chart` as DIR/FILE (an SVG picture) when DIR is set, or exits
/// with the error.
inline void writePicture(const std::string &dir, const std::string &file,
                         const plot::Chart &chart) {
  if (dir.empty())
    return;
  std::string path = dir + "/" + file;
  if (auto s = plot::writeSvg(chart, path); !s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    std::exit(1);
  }
  std::printf("wrote %s\n", path.c_str());
}

/// Compiles the model for `device`, loads and initializes it, or exits
/// with the error.
inline rt::Session openSession(const std::string &path,
                               const rt::Device &device = rt::Device::cpu()) {
  auto exe = compileAndLoad(path, onDevice(device));
  if (!exe) {
    std::fprintf(stderr, "%s\n", llvm::toString(exe.takeError()).c_str());
    std::exit(1);
  }
  rt::Session session(*exe, device);
  if (auto s = session.initialize(); !s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    std::exit(1);
  }
  return session;
}

/// Runs or exits with the error.
inline rt::TensorMap run(rt::Session &s, const std::string &sig, const rt::TensorMap &feeds) {
  auto out = s.run(sig, feeds);
  if (!out) {
    std::fprintf(stderr, "error: %s\n", out.error().c_str());
    std::exit(1);
  }
  return *out;
}

/// A float the way NumPy prints it: at most 8 decimals, no trailing zeros.
inline std::string numpyFloat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.8f", v);
  std::string s = buf;
  while (s.back() == '0')
    s.pop_back();
  if (s.back() == '.')
    s.push_back(' ');
  return s == "-0. " ? "0. " : s;
}

/// Prints the elements of `t` as [a b c] with printf `format` each.
inline void print(const char *label, const rt::Tensor &t, const char *format = "%g") {
  std::printf("%s", label);
  auto values = t.toDoubles();
  if (t.rank() == 0) {
    std::printf(format, values[0]);
  } else {
    std::printf("[");
    for (size_t i = 0; i < values.size(); ++i) {
      if (i)
        std::printf(" ");
      std::printf(format, values[i]);
    }
    std::printf("]");
  }
  std::printf("\n");
}

} // namespace nncc::examples

#endif
