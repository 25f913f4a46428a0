#include "compiler/driver/Jit.h"

#include "compiler/driver/Compiler.h"
#include "compiler/driver/Diagnostics.h"

namespace nncc {

llvm::Expected<std::shared_ptr<rt::Executable>> compileAndLoad(const LoadedGraph &graph,
                                                               const CompileOptions &options) {
  mlir::MLIRContext ctx;
  std::vector<std::string> diagnostics;
  DiagnosticPrinter printer(ctx, &diagnostics);
  auto proto = compileModel(ctx, graph, options);
  if (!proto) {
    std::string all;
    for (const auto &d : diagnostics)
      all += d + "\n";
    all += llvm::toString(proto.takeError());
    return llvm::createStringError(llvm::inconvertibleErrorCode(), all);
  }
  auto exe = rt::Executable::fromProto(std::move(*proto), graph.path);
  if (!exe)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), exe.error());
  return *exe;
}

llvm::Expected<std::shared_ptr<rt::Executable>> compileAndLoad(const std::string &path,
                                                               const CompileOptions &options) {
  auto loaded = readGraphFile(path);
  if (!loaded)
    return loaded.takeError();
  return compileAndLoad(*loaded, options);
}

} // namespace nncc
