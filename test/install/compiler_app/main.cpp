// Compiles a model in process (the JIT path) and runs its predict signature
// on x = [1, 2, 3], printing z: with E1, z = [2.7 4.7 6.7].
#include <nncc/compiler.h>
#include <nncc/runtime.h>

#include <cstdio>

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  auto exe = nncc::compileAndLoad(argv[1]);
  if (!exe) {
    std::fprintf(stderr, "%s\n", llvm::toString(exe.takeError()).c_str());
    return 1;
  }
  nncc::rt::Session session(*exe);
  if (!session.initialize().ok())
    return 1;
  auto x = nncc::rt::Tensor::of<float>({3}, {1, 2, 3});
  auto out = session.run("predict", {{"x", x}}, {"z"});
  if (!out) {
    std::fprintf(stderr, "%s\n", out.error().c_str());
    return 1;
  }
  const float *z = out->at("z").data<float>();
  std::printf("z = [%g %g %g]\n", z[0], z[1], z[2]);
  return 0;
}
