// Prints MLIR diagnostics the way nncc users read them:
//   model.pbtxt:12:1: error: node 'z': 'nn.add' op cannot broadcast ...
// The node comes from the op's NameLoc, the line from the model text.
#ifndef NNCC_COMPILER_DRIVER_DIAGNOSTICS_H
#define NNCC_COMPILER_DRIVER_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"

#include <string>
#include <vector>

namespace nncc {

/// One diagnostic (and its notes) as text, without a trailing newline.
std::string formatDiagnostic(mlir::Diagnostic &diag);

/// While alive, formats every diagnostic of `ctx` and hands it to `sink`
/// (stderr when none is given).
class DiagnosticPrinter {
public:
  explicit DiagnosticPrinter(mlir::MLIRContext &ctx, std::vector<std::string> *sink = nullptr);

private:
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace nncc

#endif
