// nncc: the command-line compiler. `nncc import model.pbtxt --emit=nn`
// prints the model in the nn dialect with its inferred shapes.
#include "compiler/driver/Diagnostics.h"
#include "compiler/import/GraphImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>
#include <google/protobuf/text_format.h>

#include <iostream>

namespace {

int runImport(const std::string &path, const std::string &emit,
              bool debugInfo) {
  auto loaded = nncc::readGraphFile(path);
  if (!loaded) {
    llvm::errs() << llvm::toString(loaded.takeError());
    return 1;
  }
  if (emit == "proto") {
    std::string text;
    google::protobuf::TextFormat::PrintToString(loaded->graph, &text);
    std::cout << text;
    return 0;
  }
  mlir::MLIRContext ctx;
  nncc::DiagnosticPrinter printer(ctx);
  auto module = nncc::importGraph(ctx, *loaded);
  if (!module)
    return 1;
  mlir::OpPrintingFlags flags;
  if (debugInfo)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  module->print(llvm::outs(), flags);
  llvm::outs() << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"nncc: a neural-network graph compiler"};
  app.set_version_flag("--version", std::string("nncc ") + NNCC_VERSION +
                                        " (LLVM/MLIR " LLVM_VERSION_STRING ")");
  app.require_subcommand(1);

  std::string importPath, emit = "nn";
  bool debugInfo = false;
  CLI::App *import = app.add_subcommand(
      "import", "read a model (.pbtxt or .pb) and print it at a stage");
  import->add_option("model", importPath, "model file (.pbtxt text, .pb binary)")
      ->required();
  import->add_option("--emit", emit, "what to print: nn (the nn dialect) or "
                                     "proto (the parsed graph)")
      ->check(CLI::IsMember({"nn", "proto"}));
  import->add_flag("--debug-info", debugInfo,
                   "print locations (node names, lines) with the IR");

  CLI11_PARSE(app, argc, argv);
  if (*import)
    return runImport(importPath, emit, debugInfo);
  return 1;
}
