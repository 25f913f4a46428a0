#include "compiler/cuda/CudaEmitter.h"
#include "compiler/cuda/KernelWriter.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace nncc::cuda {
namespace {

graph::DataType dataType(Type elt) {
  if (elt.isF64())
    return graph::F64;
  if (elt.isInteger(1))
    return graph::BOOL;
  if (elt.isInteger(32))
    return graph::I32;
  if (elt.isInteger(64))
    return graph::I64;
  return graph::F32;
}

std::string identifier(StringRef name) {
  std::string s;
  for (char c : name)
    s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return s;
}

/// Every unknown dimension is a whole multiple of the run's N: feeds have
/// at most one, which is N.
LogicalResult checkFeeds(func::FuncOp func) {
  for (auto [i, t] : llvm::enumerate(func.getArgumentTypes()))
    if (auto r = dyn_cast<RankedTensorType>(t); r && r.getNumDynamicDims() > 1)
      return func.emitError("the CUDA target needs at most one unknown dimension per "
                            "feed (the batch size); argument ")
             << i << " is " << t;
  return success();
}

class ProgramBuilder {
public:
  ProgramBuilder(exe::CudaProgram &program, Precision precision)
      : program_(program), precision_(precision) {}

  LogicalResult add(func::FuncOp func) {
    if (failed(checkFeeds(func)))
      return failure();
    exe::CudaSignature &sig = *program_.add_signatures();
    sig.set_name(func.getSymName().str());
    auto feeds = func->getAttrOfType<ArrayAttr>("nn.feeds");
    auto fetches = func->getAttrOfType<ArrayAttr>("nn.fetches");
    size_t numFeeds = feeds ? feeds.size() : 0, numFetches = fetches ? fetches.size() : 0;
    buffers_.clear();
    for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
      auto b = newBuffer(arg);
      if (failed(b))
        return failure();
      buffers_[arg] = *b;
      i < numFeeds ? sig.add_feeds(*b) : sig.add_variables(*b);
    }
    unsigned group = 0;
    for (Operation &op : func.getBody().getOps()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
          auto found = buffers_.find(v);
          unsigned b = 0;
          if (found != buffers_.end()) {
            b = found->second;
          } else { // a constant returned as it is
            auto made = launch(sig, sig.name() + "_k" + std::to_string(group++), {}, v);
            if (failed(made))
              return failure();
            b = *made;
          }
          i < numFetches ? sig.add_fetches(b) : sig.add_updates(b);
        }
        continue;
      }
      if (isa<nn::ConstantOp>(op))
        continue; // inlined where used
      std::vector<Value> inputs;
      for (Value operand : op.getOperands())
        if (!operand.getDefiningOp<nn::ConstantOp>() && !llvm::is_contained(inputs, operand))
          inputs.push_back(operand);
      SmallVector<Value> computed;
      if (auto fusion = dyn_cast<nn::FusionOp>(op))
        computed.append(fusion.getBody().front().getTerminator()->operand_begin(),
                        fusion.getBody().front().getTerminator()->operand_end());
      else
        computed.append(op.result_begin(), op.result_end());
      std::string stem = sig.name() + "_k" + std::to_string(group++);
      for (auto [j, v] : llvm::enumerate(computed)) {
        auto made = launch(sig, computed.size() > 1 ? stem + "_" + std::to_string(j) : stem,
                           inputs, v);
        if (failed(made))
          return failure();
        buffers_[op.getResult(j)] = *made;
        // The group's later kernels read this value where they need it
        // rather than compute it again (a momentum update's new velocity
        // in the new weights: its product once, not twice).
        if (v.getDefiningOp() && j + 1 < computed.size() && inputs.size() + 2 <= kMaxKernelArgs) {
          buffers_[v] = *made;
          inputs.push_back(v);
        }
      }
    }
    return success();
  }

  std::string source;
  std::string globals;

private:
  /// A new buffer for v's elements.
  FailureOr<unsigned> newBuffer(Value v) {
    auto dims = symbolicShape(v, shapes_);
    if (failed(dims))
      return failure();
    exe::CudaBuffer &b = *program_.add_buffers();
    b.set_dtype(dataType(cast<RankedTensorType>(v.getType()).getElementType()));
    for (int64_t d : *dims)
      b.add_dims(d);
    return program_.buffers_size() - 1;
  }

  FailureOr<unsigned> launch(exe::CudaSignature &sig, const std::string &name,
                             const std::vector<Value> &inputs, Value result) {
    if (inputs.size() + 1 > kMaxKernelArgs)
      return (result.getDefiningOp() ? result.getDefiningOp()->emitOpError()
                                     : emitError(result.getLoc()))
                 << "needs " << inputs.size() + 1 << " buffers, more than the CUDA target's "
                 << kMaxKernelArgs << " per kernel",
             failure();
    std::string kernel = identifier(name);
    KernelWriter writer(kernel, inputs, shapes_, precision_);
    LaunchShape shape;
    auto text = writer.write(result, shape);
    if (failed(text))
      return failure();
    source += *text + "\n";
    globals += writer.globals();
    exe::CudaLaunch &l = *sig.add_launches();
    l.set_kernel(shape.tilings.empty() ? kernel : shape.tilings.front().kernel);
    l.set_tile(shape.tile);
    for (const TiledVariant &t : shape.tilings) {
      exe::CudaTiling &tiling = *l.add_tilings();
      tiling.set_kernel(t.kernel);
      tiling.set_tile_m(t.tileM);
      tiling.set_tile_n(t.tileN);
    }
    l.set_threads(shape.threads);
    if (shape.lanes > 1)
      l.set_lanes(shape.lanes);
    for (Value in : inputs)
      l.add_args(buffers_.lookup(in));
    auto out = newBuffer(result);
    if (failed(out))
      return failure();
    l.add_args(*out);
    return *out;
  }

  exe::CudaProgram &program_;
  Precision precision_;
  llvm::DenseMap<Value, unsigned> buffers_;
  ShapeCache shapes_;
};

} // namespace

FailureOr<exe::CudaProgram> emitCudaProgram(ModuleOp module, Precision precision) {
  exe::CudaProgram program;
  program.set_precision(precisionName(precision));
  ProgramBuilder builder(program, precision);
  for (func::FuncOp func : module.getOps<func::FuncOp>())
    if (failed(builder.add(func)))
      return failure();
  std::string name = module.getSymName() ? module.getSymName()->str() : "model";
  // The tensor cores' WMMA API; BF16 also needs its type.
  std::string includes;
  if (precision != Precision::FP32)
    includes = std::string("#include <mma.h>\n") +
               (precision == Precision::BF16 ? "#include <cuda_bf16.h>\n" : "") +
               "namespace wmma = nvcuda::wmma;\n\n";
  program.set_source("// CUDA kernels of model '" + name + "', generated by nncc.\n"
                     "// Every kernel takes its buffers (the output last) and N, the run's\n"
                     "// unknown size, and covers its output with a grid-stride loop or,\n"
                     "// for a product, one block per tile of it.\n" + includes +
                     "struct " + abi::kKernelArgsName + " { void *p[" +
                     std::to_string(kMaxKernelArgs) + "]; long long n; };\n\n" + builder.globals +
                     (builder.globals.empty() ? "" : "\n") + builder.source);
  return program;
}

} // namespace nncc::cuda
