// The nncc compiler's C++ API in one include: read a model (graph.proto
// .pbtxt/.pb or ONNX), compile it for the CPU or CUDA (compileModel), or
// compile and load it in process (compileAndLoad, the JIT path). Links
// nncc::compiler (LLVM and MLIR 19 come with it).
#ifndef NNCC_COMPILER_API_H
#define NNCC_COMPILER_API_H

#include "compiler/driver/Compiler.h"
#include "compiler/driver/Jit.h"
#include "compiler/import/GraphReader.h"

#endif
