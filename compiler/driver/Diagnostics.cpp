#include "compiler/driver/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace nncc {

static void describe(Location loc, std::string &file, std::string &node) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (node.empty())
      node = name.getName().str();
    describe(name.getChildLoc(), file, node);
  } else if (auto flc = dyn_cast<FileLineColLoc>(loc)) {
    file = flc.getFilename().str();
    if (flc.getLine())
      file += ":" + std::to_string(flc.getLine()) + ":" + std::to_string(flc.getColumn());
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    if (!fused.getLocations().empty())
      describe(fused.getLocations().front(), file, node);
  } else if (auto call = dyn_cast<CallSiteLoc>(loc)) {
    describe(call.getCallee(), file, node);
  }
}

static const char *severity(DiagnosticSeverity s) {
  switch (s) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  return "error";
}

std::string formatDiagnostic(Diagnostic &diag) {
  std::string file, node;
  describe(diag.getLocation(), file, node);
  std::string text;
  llvm::raw_string_ostream os(text);
  if (!file.empty())
    os << file << ": ";
  os << severity(diag.getSeverity()) << ": ";
  if (!node.empty())
    os << "node '" << node << "': ";
  os << diag.str();
  for (Diagnostic &note : diag.getNotes())
    os << "\n  " << formatDiagnostic(note);
  return os.str();
}

DiagnosticPrinter::DiagnosticPrinter(MLIRContext &ctx, std::vector<std::string> *sink)
    : handler(&ctx, [sink](Diagnostic &diag) {
        std::string text = formatDiagnostic(diag);
        if (sink)
          sink->push_back(text);
        else
          llvm::errs() << text << "\n";
        return success();
      }) {}

} // namespace nncc
