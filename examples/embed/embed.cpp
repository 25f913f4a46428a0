// A C++ app that embeds the nncc runtime: it links nncc_runtime (and
// protobuf) only — no compiler, no LLVM, no MLIR — and runs an executable
// made by `nncc compile`. Usage: embed model.nnx [x values...]
// With examples/e1_net_input: embed e1.nnx 1 2 3  ->  z = [2.7 4.7 6.7]
#include <nncc/runtime.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.nnx [x values...]\n", argv[0]);
    return 2;
  }
  auto exe = nncc::rt::Executable::load(argv[1]);
  if (!exe) {
    std::fprintf(stderr, "error: %s\n", exe.error().c_str());
    return 1;
  }
  nncc::rt::Session session(*exe);
  if (auto status = session.initialize(); !status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.message().c_str());
    return 1;
  }
  std::vector<float> x;
  for (int i = 2; i < argc; ++i)
    x.push_back(std::strtof(argv[i], nullptr));
  if (x.empty())
    x = {1.0f, 2.0f, 3.0f};
  auto x_tensor =
      nncc::rt::Tensor::borrow(nncc::rt::DType::F32, {static_cast<int64_t>(x.size())}, x.data());
  auto out = session.run("predict", {{"x", x_tensor}}, {"z"});
  if (!out) {
    std::fprintf(stderr, "error: %s\n", out.error().c_str());
    return 1;
  }
  const nncc::rt::Tensor &z = out->at("z");
  std::printf("z = [");
  for (int64_t i = 0; i < z.size(); ++i)
    std::printf(i ? " %g" : "%g", z.data<float>()[i]);
  std::printf("]\n");
  return 0;
}
