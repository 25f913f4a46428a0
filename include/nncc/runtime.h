// The nncc runtime's C++ API in one include: load an executable made by
// `nncc compile` (Executable), run its signatures on a device (Session,
// Device), tensors and their files (Tensor, .npy), statuses, idx datasets.
// Links nncc::runtime (pkg-config nncc-runtime), never LLVM or MLIR.
//   auto exe = nncc::rt::Executable::load("e1.nnx");
//   nncc::rt::Session session(*exe);
//   session.initialize();
//   auto out = session.run("predict", {{"x", x}}, {"z"});
#ifndef NNCC_RUNTIME_API_H
#define NNCC_RUNTIME_API_H

#include "runtime/Device.h"
#include "runtime/Executable.h"
#include "runtime/Npy.h"
#include "runtime/Session.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"
#include "runtime/data/Idx.h"

#endif
