// nncc export: an inference signature as an ONNX model, with the variables'
// initial values or those of a checkpoint (e.g. written by nncc train).
#include "compiler/driver/Diagnostics.h"
#include "compiler/driver/Jit.h"
#include "compiler/export/OnnxExporter.h"
#include "runtime/Session.h"
#include "tools/nncc/Commands.h"
#include "tools/nncc/Feeds.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>
#include <iostream>

namespace nncc::tool {
namespace {

int fail(const std::string &message) {
  std::cerr << message << (message.empty() || message.back() != '\n' ? "\n" : "");
  return 1;
}

} // namespace

int runExport(const ExportArgs &args) {
  auto loaded = readGraphFile(args.model);
  if (!loaded)
    return fail(llvm::toString(loaded.takeError()));
  // The variables' values: their initializers (seeded), or the checkpoint.
  auto exe = compileAndLoad(*loaded);
  if (!exe)
    return fail(llvm::toString(exe.takeError()));
  rt::Session session(*exe);
  if (auto s = session.initialize(); !s.ok())
    return fail("error: " + s.message());
  if (!args.checkpoint.empty())
    if (auto s = session.restore(args.checkpoint); !s.ok())
      return fail("error: " + s.message());
  std::map<std::string, graph::Tensor> values;
  for (const auto &v : loaded->graph.variables()) {
    auto value = session.variable(v.name());
    if (!value)
      return fail("error: " + value.status().message());
    values[v.name()] = toGraphTensor(*value);
  }
  mlir::MLIRContext ctx;
  DiagnosticPrinter printer(ctx);
  auto model = exportOnnx(ctx, *loaded, args.signature, values);
  if (!model)
    return fail(llvm::toString(model.takeError()));
  std::string bytes;
  model->SerializeToString(&bytes);
  std::string temporary = args.output + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary);
    out << bytes;
    if (!out)
      return fail("error: cannot write " + args.output);
  }
  if (std::rename(temporary.c_str(), args.output.c_str()) != 0)
    return fail("error: cannot write " + args.output);
  return 0;
}

} // namespace nncc::tool
