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

/// A loop signature (nn::kLoopsAttr): a kernel per dataset feed that
/// gathers a batch of its rows, `<loop>_gather<i>`, as the loop signature's
/// launches (their arguments: the table, the batch's entries of the order,
/// the batch, the last row; N is the batch's rows). The runtime runs the
/// step's plan on each batch (runtime/Executor.cpp).
LogicalResult addLoop(ModuleOp module, DictionaryAttr loop, exe::CudaProgram &program,
                      std::string &source) {
  std::string name = loop.getAs<StringAttr>("name").str();
  auto step = module.lookupSymbol<func::FuncOp>(loop.getAs<StringAttr>("step").getValue());
  if (!step)
    return module.emitError() << "loop signature '" << name << "': no step function";
  auto feeds = step->getAttrOfType<ArrayAttr>("nn.feeds");
  exe::CudaSignature &sig = *program.add_signatures();
  sig.set_name(name);
  for (size_t i = 0; feeds && i < feeds.size(); ++i) {
    auto type = dyn_cast<RankedTensorType>(step.getArgumentTypes()[i]);
    if (!type || type.getRank() == 0 ||
        llvm::any_of(type.getShape().drop_front(), ShapedType::isDynamic))
      return step.emitError() << "loop signature '" << name
                              << "': the CUDA target gathers rows of a known size, not "
                              << step.getArgumentTypes()[i];
    int64_t cols = 1;
    for (int64_t d : type.getShape().drop_front())
      cols *= d;
    std::string kernel = name + "_gather" + std::to_string(i), T = cType(type.getElementType());
    std::string C = std::to_string(cols) + "LL";
    source += "extern \"C\" __global__ void " + kernel + "(const " + abi::kKernelArgsName +
              " a) {\n"
              "  // Rows order[0, N) of the table (clamped into it), " + C + " elements each.\n"
              "  const " + T + " *__restrict__ table = (const " + T + " *)a.p[0];\n"
              "  const int *__restrict__ order = (const int *)a.p[1];\n"
              "  " + T + " *__restrict__ out = (" + T + " *)a.p[2];\n"
              "  const long long last = *(const long long *)a.p[3];\n"
              "  const long long total = a.n * " + C + ";\n"
              "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;\n"
              "       e += (long long)gridDim.x * blockDim.x) {\n"
              "    long long r = order[e / " + C + "];\n"
              "    r = r < 0 ? 0 : r > last ? last : r;\n"
              "    out[e] = table[r * " + C + " + e % " + C + "];\n"
              "  }\n"
              "}\n\n";
    exe::CudaLaunch &launch = *sig.add_launches();
    launch.set_kernel(kernel);
    launch.set_threads(256);
  }
  return success();
}

} // namespace

FailureOr<exe::CudaProgram> emitCudaProgram(ModuleOp module, Precision precision) {
  exe::CudaProgram program;
  program.set_precision(precisionName(precision));
  ProgramBuilder builder(program, precision);
  for (func::FuncOp func : module.getOps<func::FuncOp>())
    if (failed(builder.add(func)))
      return failure();
  if (auto loops = module->getAttrOfType<ArrayAttr>(nn::kLoopsAttr))
    for (Attribute loop : loops)
      if (failed(addLoop(module, cast<DictionaryAttr>(loop), program, builder.source)))
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
