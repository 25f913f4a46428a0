// Shared by the textbook example programs: compile a model in process (the
// JIT path) and print tensors compactly.
#ifndef NNCC_EXAMPLES_EXAMPLEUTIL_H
#define NNCC_EXAMPLES_EXAMPLEUTIL_H

#include "compiler/driver/Jit.h"
#include "runtime/Session.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace nncc::examples {

/// The example's model: argv[1] if given, else the .pbtxt beside the source.
inline std::string modelPath(int argc, char **argv, const char *name) {
  if (argc > 1)
    return argv[1];
  return std::string(NNCC_EXAMPLES_DIR) + "/" + name + "/" + name + ".pbtxt";
}

/// Compiles, loads and initializes the model, or exits with the error.
inline rt::Session openSession(const std::string &path) {
  auto exe = compileAndLoad(path);
  if (!exe) {
    std::fprintf(stderr, "%s\n", llvm::toString(exe.takeError()).c_str());
    std::exit(1);
  }
  rt::Session session(*exe);
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
