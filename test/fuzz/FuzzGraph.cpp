// libFuzzer target: a model, in protobuf text format (NNCC_FUZZ_BINARY
// undefined) or binary format, through the importer and the stages after it
// (optimizer expansion, autodiff, canonicalization, fusion). Any input must
// end in a module or in diagnostics; a crash, a sanitizer report or a
// verifier failure after a successful import is a bug.
#include "compiler/import/GraphImporter.h"
#include "compiler/transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include "google/protobuf/stubs/logging.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static MLIRContext *ctx = [] {
    auto *c = new MLIRContext(MLIRContext::Threading::DISABLED);
    nncc::loadImportDialects(*c);
    return c;
  }();
  // Protobuf logs every string field with invalid UTF-8; the parse fails
  // (or not) all the same.
  static bool silenced = (google::protobuf::SetLogHandler(nullptr), true);
  (void)silenced;
  std::string bytes(reinterpret_cast<const char *>(data), size);
#ifdef NNCC_FUZZ_BINARY
  nncc::graph::Graph g;
  if (!g.ParseFromString(bytes))
    return 0;
  nncc::LoadedGraph graph = nncc::fromProto(std::move(g), "fuzz.pb");
#else
  auto parsed = nncc::parseGraphText(bytes, "fuzz.pbtxt");
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return 0;
  }
  nncc::LoadedGraph graph = std::move(*parsed);
#endif
  // Diagnostics are the expected outcome of most inputs: keep them quiet.
  ScopedDiagnosticHandler quiet(ctx, [](Diagnostic &) { return success(); });
  OwningOpRef<ModuleOp> module = nncc::importGraph(*ctx, graph);
  if (!module)
    return 0;
  if (failed(verify(*module)))
    std::abort(); // the importer built IR that does not verify
  PassManager pm(ctx);
  nncc::addPreparationPasses(pm);
  pm.addNestedPass<func::FuncOp>(nncc::createFusePass());
  (void)pm.run(*module); // a failing pass reports through diagnostics
  return 0;
}
