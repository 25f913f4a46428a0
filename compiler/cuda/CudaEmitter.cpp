#include "compiler/cuda/CudaEmitter.h"
#include "compiler/cpu/Passes.h"
#include "compiler/cuda/FusedStep.h"
#include "compiler/cuda/KernelWriter.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/SetVector.h"

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

/// A kernel group (an nn.fusion's ops, or one op) as a function of its
/// inputs returning the values it computes, lowered to linalg by the CPU's
/// lowering, in the CPU's forms: the ops' one definition (a convolution a
/// product of its windows, which the tiled kernels run as implicit GEMM).
/// Constants the group reads are cloned in (kernels inline them).
FailureOr<OwningOpRef<ModuleOp>> lowerGroup(Operation *op, ArrayRef<Value> inputs,
                                            ArrayRef<Value> computed) {
  MLIRContext *ctx = op->getContext();
  OwningOpRef<ModuleOp> module = ModuleOp::create(op->getLoc());
  OpBuilder b(module->getBodyRegion());
  SmallVector<Type> argTypes, resultTypes;
  for (Value v : inputs)
    argTypes.push_back(v.getType());
  for (Value v : computed)
    resultTypes.push_back(v.getType());
  auto func =
      b.create<func::FuncOp>(op->getLoc(), "group", FunctionType::get(ctx, argTypes, resultTypes));
  b.setInsertionPointToStart(func.addEntryBlock());
  IRMapping map;
  for (auto [v, arg] : llvm::zip(inputs, func.getArguments()))
    map.map(v, arg);
  auto mapOperand = [&](Value v) {
    if (!map.contains(v))
      if (Operation *constant = v.getDefiningOp<nn::ConstantOp>())
        map.map(v, b.clone(*constant)->getResult(0));
    return map.lookup(v);
  };
  if (auto fusion = dyn_cast<nn::FusionOp>(op)) {
    Block &body = fusion.getBody().front();
    for (auto [operand, arg] : llvm::zip(fusion->getOperands(), body.getArguments()))
      map.map(arg, mapOperand(operand));
    for (Operation &inner : body.without_terminator())
      b.clone(inner, map);
  } else if (op->getNumOperands() || !isa<nn::ConstantOp>(op)) {
    for (Value operand : op->getOperands())
      mapOperand(operand);
    b.clone(*op, map);
  } else {
    mapOperand(op->getResult(0));
  }
  SmallVector<Value> results;
  for (Value v : computed)
    results.push_back(map.lookup(v));
  b.create<func::ReturnOp>(op->getLoc(), results);
  PassManager pm(ctx, ModuleOp::getOperationName());
  cpu::buildLinalgPipeline(pm);
  if (failed(pm.run(*module)))
    return failure();
  return module;
}

/// The values of a fusion group that its convolutions read, and those
/// its products (convolutions, matmuls) compute other than for one
/// elementwise epilogue, in the group's order: each a kernel of its own,
/// so that a convolution's operands are buffers and its result the output
/// of its kernel, where the tiled product kernels run it (its gradients
/// after a max-pool's gradient, in a training step's group), and a product
/// that several of the group's results read (Adam's two slots of one
/// gradient) is multiplied once.
SmallVector<Value> stagedValues(nn::FusionOp fusion) {
  Block &body = fusion.getBody().front();
  llvm::SetVector<Value> staged;
  auto computedHere = [&](Value v) {
    Operation *def = v.getDefiningOp();
    return def && def->getBlock() == &body && !isa<nn::ConstantOp>(def);
  };
  for (Operation &op : body.without_terminator()) {
    bool convolution = isa<nn::Conv2DOp, nn::Conv2DBackpropInputOp, nn::Conv2DBackpropFilterOp>(op);
    if (!convolution && !isa<nn::MatMulOp>(op))
      continue;
    if (convolution)
      for (Value operand : op.getOperands())
        if (computedHere(operand))
          staged.insert(operand);
    // Its result, unless one elementwise epilogue (a bias, an activation)
    // reads it: the product once, not once per reader (an optimizer's
    // slots and weights).
    Value result = op.getResult(0);
    if (!result.hasOneUse() || llvm::any_of(result.getUsers(), [&](Operation *user) {
          return !user->hasTrait<nn::Elementwise>() && !isa<nn::YieldOp>(user);
        }))
      staged.insert(result);
  }
  // In the body's order: a staged value's kernel reads those before it.
  SmallVector<Value> ordered(staged.begin(), staged.end());
  llvm::sort(ordered, [](Value a, Value b) {
    return a.getDefiningOp()->isBeforeInBlock(b.getDefiningOp());
  });
  // Those the group yields are computed as its results anyway.
  llvm::erase_if(
      ordered, [&](Value v) { return llvm::is_contained(body.getTerminator()->getOperands(), v); });
  return ordered;
}

class ProgramBuilder {
public:
  ProgramBuilder(exe::CudaProgram &program, Precision precision, bool wgmma)
      : program_(program), precision_(precision), wgmma_(wgmma) {}

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
      // A feed's unknown dimension is N.
      SymShape dims(cast<RankedTensorType>(arg.getType()).getShape());
      for (int64_t &d : dims)
        d = ShapedType::isDynamic(d) ? -1 : d;
      buffers_[arg] = newBuffer(arg, dims);
      i < numFeeds ? sig.add_feeds(buffers_[arg]) : sig.add_variables(buffers_[arg]);
    }
    unsigned group = 0;
    for (Operation &op : func.getBody().getOps()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
          auto found = buffers_.find(v);
          if (found == buffers_.end()) { // a constant returned as it is
            if (failed(addGroup(sig, v.getDefiningOp(), group++)))
              return failure();
            found = buffers_.find(v);
          }
          i < numFetches ? sig.add_fetches(found->second) : sig.add_updates(found->second);
        }
        continue;
      }
      if (isa<nn::ConstantOp>(op))
        continue; // inlined where used
      if (auto reduce = dyn_cast<nn::AllReduceOp>(op)) {
        if (failed(addAllReduce(sig, reduce)))
          return failure();
        continue;
      }
      if (failed(addGroup(sig, &op, group++)))
        return failure();
    }
    return success();
  }

  std::string source;
  std::string globals;

private:
  /// A new buffer for v's elements.
  unsigned newBuffer(Value v, ArrayRef<int64_t> dims) {
    exe::CudaBuffer &b = *program_.add_buffers();
    b.set_dtype(dataType(cast<RankedTensorType>(v.getType()).getElementType()));
    for (int64_t d : dims)
      b.add_dims(d);
    return program_.buffers_size() - 1;
  }

  /// A data-parallel step's all-reduce: a collective launch from the
  /// bucket's buffers into new ones (the runtime queues it on the step's
  /// stream: NCCL, one group call per bucket).
  LogicalResult addAllReduce(exe::CudaSignature &sig, nn::AllReduceOp op) {
    exe::CudaLaunch &l = *sig.add_launches();
    l.set_collective(("all_reduce_" + op.getReduction()).str());
    SmallVector<unsigned> outs;
    for (Value v : op.getValues()) {
      auto found = buffers_.find(v);
      if (found == buffers_.end())
        return op.emitOpError("reduces a value without a buffer (a constant?): the CUDA target "
                              "all-reduces computed values"),
               failure();
      l.add_args(found->second);
    }
    for (Value r : op.getResults()) {
      unsigned out = newBuffer(r, cast<RankedTensorType>(r.getType()).getShape());
      buffers_[r] = out;
      outs.push_back(out);
    }
    for (unsigned out : outs)
      l.add_args(out);
    return success();
  }

  /// The kernels of a group: one per value it computes.
  LogicalResult addGroup(exe::CudaSignature &sig, Operation *op, unsigned number) {
    std::vector<Value> inputs;
    for (Value operand : op->getOperands())
      if (!operand.getDefiningOp<nn::ConstantOp>() && !llvm::is_contained(inputs, operand))
        inputs.push_back(operand);
    SmallVector<Value> computed(op->getResults());
    // Values of the group computed by kernels of their own before its
    // results (each in a buffer that the later kernels read).
    unsigned staged = 0;
    if (auto fusion = dyn_cast<nn::FusionOp>(op)) {
      computed = stagedValues(fusion);
      staged = computed.size();
      computed.append(fusion.getBody().front().getTerminator()->operand_begin(),
                      fusion.getBody().front().getTerminator()->operand_end());
    }
    auto lowered = lowerGroup(op, inputs, computed);
    if (failed(lowered))
      return failure();
    auto func = *(*lowered)->getOps<func::FuncOp>().begin();
    Operation *ret = func.getBody().front().getTerminator();
    Shapes shapes;
    std::vector<Value> kernelInputs;
    std::vector<unsigned> args;
    for (auto [outer, arg] : llvm::zip(inputs, func.getArguments())) {
      const exe::CudaBuffer &b = program_.buffers(buffers_.lookup(outer));
      shapes.set(arg, SymShape(b.dims().begin(), b.dims().end()));
      kernelInputs.push_back(arg);
      args.push_back(buffers_.lookup(outer));
    }
    std::string stem = sig.name() + "_k" + std::to_string(number);
    for (auto [j, v] : llvm::enumerate(ret->getOperands())) {
      std::string name = computed.size() > 1 ? stem + "_" + std::to_string(j) : stem;
      if (kernelInputs.size() + 1 > kMaxKernelArgs)
        return op->emitOpError() << "needs " << kernelInputs.size() + 1
                                 << " buffers, more than the CUDA target's " << kMaxKernelArgs
                                 << " per kernel",
               failure();
      auto dims = shapes.of(v);
      if (failed(dims))
        return failure();
      std::string kernel = identifier(name);
      KernelWriter writer(kernel, kernelInputs, shapes, precision_, wgmma_);
      LaunchShape shape;
      auto text = writer.write(v, shape);
      if (failed(text))
        return failure();
      source += *text + "\n";
      globals += writer.globals();
      std::vector<unsigned> launchArgs = args;
      if (shape.splitRows) {
        if (kernelInputs.size() + 2 > kMaxKernelArgs)
          return op->emitOpError()
                     << "needs " << kernelInputs.size() + 2
                     << " buffers, more than the CUDA target's " << kMaxKernelArgs << " per kernel",
                 failure();
        // The partial products of the contraction's slabs first, into a
        // buffer of their own; then the kernel that adds them.
        unsigned part = newBuffer(v, {shape.splitRows, dims->back()});
        exe::CudaLaunch &partial = *sig.add_launches();
        partial.set_kernel(shape.tilings.front().kernel);
        for (const TiledVariant &t : shape.tilings) {
          exe::CudaTiling &tiling = *partial.add_tilings();
          tiling.set_kernel(t.kernel);
          tiling.set_tile_m(t.tileM);
          tiling.set_tile_n(t.tileN);
        }
        partial.set_threads(shape.threads);
        for (unsigned a : args)
          partial.add_args(a);
        partial.add_args(part);
        launchArgs.push_back(part);
        shape.tilings.clear();
        shape.threads = 256;
      }
      // sm_90a's kernel: its operands' pre-passes first, each into a
      // scratch buffer of its own.
      std::vector<exe::CudaWgmmaKernel> wgmma = addWgmma(sig, shape.wgmma, args);
      exe::CudaLaunch &l = *sig.add_launches();
      for (exe::CudaWgmmaKernel &k : wgmma)
        *l.add_wgmma() = std::move(k);
      l.set_kernel(shape.tilings.empty() ? (shape.splitRows ? shape.reduce : kernel)
                                         : shape.tilings.front().kernel);
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
      for (unsigned a : launchArgs)
        l.add_args(a);
      unsigned out = newBuffer(v, *dims);
      l.add_args(out);
      if (j >= staged)
        buffers_[op->getNumResults() ? op->getResult(j - staged) : computed[j]] = out;
      // The group's later kernels read this value where they need it
      // rather than compute it again (a momentum update's new velocity
      // in the new weights: its product once, not twice).
      if (j + 1 < computed.size() && !llvm::is_contained(kernelInputs, v) &&
          kernelInputs.size() + 2 <= kMaxKernelArgs) {
        kernelInputs.push_back(v);
        args.push_back(out);
      }
    }
    return success();
  }

  /// The launches of the wgmma kernels' pre-passes (the same for each of
  /// them), and the kernels' records (their tensor maps: an operand's input
  /// buffer where it is read as it is, else its scratch); `args` are the
  /// product kernel's buffers.
  std::vector<exe::CudaWgmmaKernel> addWgmma(exe::CudaSignature &sig,
                                             const std::vector<WgmmaShape> &shapes,
                                             const std::vector<unsigned> &args) {
    std::vector<exe::CudaWgmmaKernel> kernels;
    if (shapes.empty())
      return kernels;
    const WgmmaShape &first = shapes.front();
    struct Read {
      unsigned buffer;
      int64_t rows, depth;
    } reads[2];
    for (int i = 0; i < 2; ++i) {
      const WgmmaShape::Operand &o = i ? first.b : first.a;
      unsigned input = args[o.input];
      const exe::CudaBuffer &b = program_.buffers(input);
      Read r{input, b.dims(o.kMajor ? 0 : 1), b.dims(o.kMajor ? 1 : 0)};
      if (!o.prepass.empty()) {
        exe::CudaBuffer &scratch = *program_.add_buffers();
        scratch.set_dtype(graph::F32);
        scratch.add_dims(r.rows);
        scratch.add_dims(r.depth);
        scratch.set_element_bytes(first.bf16 ? 2 : 4);
        scratch.set_row_align(o.rowAlign);
        r.buffer = program_.buffers_size() - 1;
        exe::CudaLaunch &pre = *sig.add_launches();
        pre.set_kernel(o.prepass);
        pre.set_threads(256);
        pre.set_for_wgmma(true);
        pre.add_args(input);
        pre.add_args(r.buffer);
      }
      reads[i] = r;
    }
    for (const WgmmaShape &w : shapes) {
      exe::CudaWgmmaKernel &k = kernels.emplace_back();
      k.set_kernel(w.kernel);
      k.set_threads(w.threads);
      k.set_shared_bytes(w.sharedBytes);
      k.set_tile_m(w.tileM);
      k.set_tile_n(w.tileN);
      for (int i = 0; i < 2; ++i) {
        exe::CudaTensorMap &m = *k.add_maps();
        m.set_buffer(reads[i].buffer);
        m.set_element(w.bf16 ? "bf16" : "f32");
        m.add_dims(reads[i].depth);
        m.add_dims(reads[i].rows);
        m.set_row_align((i ? w.b : w.a).rowAlign);
        m.add_box(w.depth);
        m.add_box(i ? w.tileN : w.tileM);
        m.set_swizzle(128);
      }
    }
    return kernels;
  }

  exe::CudaProgram &program_;
  Precision precision_;
  bool wgmma_;
  llvm::DenseMap<Value, unsigned> buffers_;
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
              "  // Rows order[0, N) of the table (clamped into it), " +
              C +
              " elements each.\n"
              "  const " +
              T + " *__restrict__ table = (const " + T +
              " *)a.p[0];\n"
              "  const int *__restrict__ order = (const int *)a.p[1];\n"
              "  " +
              T + " *__restrict__ out = (" + T +
              " *)a.p[2];\n"
              "  const long long last = *(const long long *)a.p[3];\n"
              "  const long long total = a.n * " +
              C +
              ";\n"
              "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;\n"
              "       e += (long long)gridDim.x * blockDim.x) {\n"
              "    long long r = order[e / " +
              C +
              "];\n"
              "    r = r < 0 ? 0 : r > last ? last : r;\n"
              "    out[e] = table[r * " +
              C + " + e % " + C +
              "];\n"
              "  }\n"
              "}\n\n";
    exe::CudaLaunch &launch = *sig.add_launches();
    launch.set_kernel(kernel);
    launch.set_threads(256);
  }
  return success();
}

} // namespace

FailureOr<exe::CudaProgram> emitCudaProgram(ModuleOp module, Precision precision,
                                            const std::string &arch) {
  exe::CudaProgram program;
  program.set_precision(precisionName(precision));
  ProgramBuilder builder(program, precision, /*wgmma=*/arch == "90a");
  for (func::FuncOp func : module.getOps<func::FuncOp>())
    if (failed(builder.add(func)))
      return failure();
  // Small steps' launches as one kernel each (FusedStep.h).
  for (exe::CudaSignature &sig : *program.mutable_signatures())
    addFusedStep(program, sig, builder.source);
  if (auto loops = module->getAttrOfType<ArrayAttr>(nn::kLoopsAttr))
    for (Attribute loop : loops)
      if (failed(addLoop(module, cast<DictionaryAttr>(loop), program, builder.source)))
        return failure();
  std::string name = module.getSymName() ? module.getSymName()->str() : "model";
  // cp.async for the pipelined product kernels; the tensor-core kernels'
  // instructions (mma.sync, ldmatrix, the TF32 and BF16 conversions).
  std::string includes;
  if (builder.source.find("__pipeline_memcpy_async") != std::string::npos)
    includes += "#include <cuda_pipeline_primitives.h>\n\n";
  if (builder.source.find("nncc_mma_") != std::string::npos)
    includes += mmaPrelude();
  if (builder.source.find("nncc_wgmma_") != std::string::npos)
    includes += hopperPrelude();
  if (builder.source.find(abi::kFusedArgsName) != std::string::npos)
    includes += fusedPrelude();
  program.set_source("// CUDA kernels of model '" + name +
                     "', generated by nncc.\n"
                     "// Every kernel takes its buffers (the output last) and N, the run's\n"
                     "// unknown size, and covers its output with a grid-stride loop or,\n"
                     "// for a product, one block per tile of it.\n" +
                     includes + "struct " + abi::kKernelArgsName + " { void *p[" +
                     std::to_string(kMaxKernelArgs) + "]; long long n; };\n\n" + builder.globals +
                     (builder.globals.empty() ? "" : "\n") + builder.source);
  return program;
}

} // namespace nncc::cuda
