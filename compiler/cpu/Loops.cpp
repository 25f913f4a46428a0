// nn-cpu-loops: each loop signature of the module (nn::kLoopsAttr) becomes
// a function that runs its step's function `steps` times in a native loop,
// each time on a batch of rows gathered from the fed dataset in the fed
// order and batch size, with the variables carried from step to step
// (graph.proto: Loop).
#include "compiler/cpu/Passes.h"
#include "nn/IR/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DEF_LOOPS
#include "compiler/cpu/Passes.h.inc"

namespace {

SmallVector<StringRef> names(func::FuncOp func, StringRef attr) {
  SmallVector<StringRef> list;
  if (auto array = func->getAttrOfType<ArrayAttr>(attr))
    for (Attribute a : array)
      list.push_back(cast<StringAttr>(a).getValue());
  return list;
}

/// The rows `indices` (i32, clamped into the table) of `table`: a batch
/// gathered from the dataset, as a linalg.generic whose first loop runs
/// over the batch's rows (a row kernel, split over the pool). With `ahead`
/// it is the next step's batch, gathered while the current step runs
/// (kRowAheadAttr).
Value gatherRows(OpBuilder &b, Location loc, Value table, Value indices, Value rows, bool ahead) {
  auto type = cast<RankedTensorType>(table.getType());
  SmallVector<Value> dynamic{rows};
  for (int64_t d = 1; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamic.push_back(b.create<tensor::DimOp>(loc, table, d));
  Value init = b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(), dynamic);
  SmallVector<AffineMap> maps{
      AffineMap::get(type.getRank(), 0, b.getAffineDimExpr(0), b.getContext()),
      b.getMultiDimIdentityMap(type.getRank())};
  SmallVector<utils::IteratorType> iterators(type.getRank(), utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{init.getType()}, ValueRange{indices}, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value zero = nb.create<arith::ConstantIndexOp>(nloc, 0);
        Value one = nb.create<arith::ConstantIndexOp>(nloc, 1);
        Value lastRow = nb.create<arith::MaxSIOp>(
            nloc, nb.create<arith::SubIOp>(nloc, nb.create<tensor::DimOp>(nloc, table, zero), one),
            zero);
        Value row = nb.create<arith::IndexCastOp>(nloc, nb.getIndexType(), args[0]);
        SmallVector<Value> at{
            nb.create<arith::MinSIOp>(nloc, nb.create<arith::MaxSIOp>(nloc, row, zero), lastRow)};
        for (int64_t d = 1; d < type.getRank(); ++d)
          at.push_back(nb.create<linalg::IndexOp>(nloc, d));
        nb.create<linalg::YieldOp>(nloc, ValueRange{nb.create<tensor::ExtractOp>(nloc, table, at)});
      });
  if (ahead)
    generic->setAttr(kRowAheadAttr, b.getUnitAttr());
  return generic.getResult(0);
}

struct LoopsPass : impl::LoopsBase<LoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto loops = module->getAttrOfType<ArrayAttr>(nn::kLoopsAttr);
    if (!loops)
      return;
    for (Attribute a : loops) {
      auto loop = dyn_cast<DictionaryAttr>(a);
      if (!loop || !loop.getAs<StringAttr>("name") || !loop.getAs<StringAttr>("step") ||
          !loop.getAs<IntegerAttr>("steps") || loop.getAs<IntegerAttr>("steps").getInt() < 1) {
        module.emitError() << nn::kLoopsAttr << " holds " << a
                           << ", not a {name, step, steps >= 1} dictionary";
        return signalPassFailure();
      }
      if (failed(build(module, loop)))
        return signalPassFailure();
    }
    module->removeAttr(nn::kLoopsAttr);
  }

  LogicalResult build(ModuleOp module, DictionaryAttr loop) {
    StringRef name = loop.getAs<StringAttr>("name").getValue();
    StringRef stepName = loop.getAs<StringAttr>("step").getValue();
    int64_t steps = loop.getAs<IntegerAttr>("steps").getInt();
    auto step = module.lookupSymbol<func::FuncOp>(stepName);
    if (!step)
      return module.emitError() << "loop signature '" << name << "': no step function '" << stepName
                                << "'";
    auto feeds = names(step, "nn.feeds"), fetches = names(step, "nn.fetches");
    auto variables = names(step, "nn.variables"), updates = names(step, "nn.updates");
    FunctionType stepType = step.getFunctionType();
    if (stepType.getNumInputs() != feeds.size() + variables.size() ||
        stepType.getNumResults() != fetches.size() + updates.size())
      return step.emitError() << "the function does not match its signature's feeds, "
                                 "variables, fetches and updates";
    Location loc = step.getLoc();
    OpBuilder b(module.getContext());
    Type i32 = b.getI32Type(), index = b.getIndexType();

    // (dataset feeds..., order, first, variables...) ->
    //     (per-step fetches..., updates...)
    SmallVector<Type> inputs, results;
    for (size_t i = 0; i < feeds.size(); ++i) {
      auto type = dyn_cast<RankedTensorType>(stepType.getInput(i));
      if (!type || type.getRank() == 0)
        return step.emitError() << "loop signature '" << name << "': the step's feed '" << feeds[i]
                                << "' is not a batch of rows";
      SmallVector<int64_t> shape(type.getShape());
      shape[0] = ShapedType::kDynamic;
      inputs.push_back(RankedTensorType::get(shape, type.getElementType()));
    }
    inputs.push_back(RankedTensorType::get({ShapedType::kDynamic}, i32));
    inputs.push_back(RankedTensorType::get({}, i32));
    inputs.push_back(RankedTensorType::get({}, i32));
    for (size_t i = 0; i < variables.size(); ++i)
      inputs.push_back(stepType.getInput(feeds.size() + i));
    for (size_t i = 0; i < fetches.size(); ++i) {
      auto type = dyn_cast<RankedTensorType>(stepType.getResult(i));
      if (!type || type.getRank() != 0)
        return step.emitError() << "loop signature '" << name << "': the step's fetch '"
                                << fetches[i] << "' is not a scalar";
      results.push_back(RankedTensorType::get({steps}, type.getElementType()));
    }
    for (size_t i = 0; i < updates.size(); ++i)
      results.push_back(stepType.getResult(fetches.size() + i));

    b.setInsertionPointAfter(step);
    auto func = b.create<func::FuncOp>(loc, name, b.getFunctionType(inputs, results));
    for (StringRef attr : {"nn.fetches", "nn.variables", "nn.updates", "nn.loss"})
      if (Attribute value = step->getAttr(attr))
        func->setAttr(attr, value);
    SmallVector<Attribute> feedNames(step->getAttrOfType<ArrayAttr>("nn.feeds").getValue());
    feedNames.push_back(b.getStringAttr("order"));
    feedNames.push_back(b.getStringAttr("first"));
    feedNames.push_back(b.getStringAttr("batch"));
    func->setAttr("nn.feeds", b.getArrayAttr(feedNames));
    Block *entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    ValueRange args = entry->getArguments();
    ValueRange data = args.take_front(feeds.size());
    Value order = args[feeds.size()];
    Value firstTensor = args[feeds.size() + 1];
    Value batchTensor = args[feeds.size() + 2];
    ValueRange vars = args.drop_front(feeds.size() + 3);

    // count = min(steps, max(ceil(rows / batch) - first, 0))
    auto constant = [&](int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); };
    Value zero = constant(0), one = constant(1);
    Value batchSize = b.create<arith::IndexCastOp>(
        loc, index, b.create<tensor::ExtractOp>(loc, batchTensor, ValueRange{}));
    Value rows = b.create<tensor::DimOp>(loc, data[0], 0);
    Value first = b.create<arith::IndexCastOp>(
        loc, index, b.create<tensor::ExtractOp>(loc, firstTensor, ValueRange{}));
    Value batches = b.create<arith::DivUIOp>( // rows >= 0; arith.ceildivsi has no LLVM lowering
        loc, b.create<arith::AddIOp>(loc, rows, b.create<arith::SubIOp>(loc, batchSize, one)),
        batchSize);
    Value left = b.create<arith::MaxSIOp>(loc, b.create<arith::SubIOp>(loc, batches, first), zero);
    Value count = b.create<arith::MinSIOp>(loc, left, constant(steps));

    // The rows of batch `k` (a step index, from `first`): [start, start +
    // taken), none past the dataset's end.
    auto rowsOf = [&](OpBuilder &lb, Location lloc, Value k) {
      Value start = lb.create<arith::MinSIOp>(
          lloc, lb.create<arith::MulIOp>(lloc, lb.create<arith::AddIOp>(lloc, first, k), batchSize),
          rows);
      Value taken =
          lb.create<arith::MinSIOp>(lloc, batchSize, lb.create<arith::SubIOp>(lloc, rows, start));
      return std::make_pair(start, taken);
    };
    auto gatherBatch = [&](OpBuilder &lb, Location lloc, Value k, bool ahead) {
      auto [start, taken] = rowsOf(lb, lloc, k);
      Value indices = lb.create<tensor::ExtractSliceOp>(lloc, order, ValueRange{start},
                                                        ValueRange{taken}, ValueRange{one});
      SmallVector<Value> batch;
      for (Value table : data)
        batch.push_back(gatherRows(lb, lloc, table, indices, taken, ahead));
      return batch;
    };

    // The loop carries the fetches per step, the variables and the batch
    // of the step it runs: each step gathers the next step's batch ahead
    // (on the pool's idle threads while it runs; none after the last).
    SmallVector<Value> carried;
    for (Type t : TypeRange(results).take_front(fetches.size())) {
      auto type = cast<RankedTensorType>(t);
      Value empty = b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
      Value zeroValue = b.create<arith::ConstantOp>(loc, b.getZeroAttr(type.getElementType()));
      carried.push_back(b.create<linalg::FillOp>(loc, zeroValue, empty).getResult(0));
    }
    carried.append(vars.begin(), vars.end());
    SmallVector<Value> firstBatch = gatherBatch(b, loc, zero, /*ahead=*/false);
    carried.append(firstBatch.begin(), firstBatch.end());
    auto wait = module.lookupSymbol<func::FuncOp>(kWaitAheadFunction);
    if (!wait) {
      OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
      wait = top.create<func::FuncOp>(loc, kWaitAheadFunction, top.getFunctionType({}, {}));
      wait.setPrivate();
    }
    auto forOp = b.create<scf::ForOp>(
        loc, zero, count, one, carried,
        [&](OpBuilder &lb, Location lloc, Value k, ValueRange state) {
          ValueRange stateVars = state.slice(fetches.size(), variables.size());
          ValueRange batch = state.take_back(data.size());
          SmallVector<Value> next =
              gatherBatch(lb, lloc, lb.create<arith::AddIOp>(lloc, k, one), /*ahead=*/true);
          SmallVector<Value> operands;
          for (auto [i, rowsOf] : llvm::enumerate(batch))
            operands.push_back(
                rowsOf.getType() == stepType.getInput(i)
                    ? rowsOf
                    : lb.create<tensor::CastOp>(lloc, stepType.getInput(i), rowsOf).getResult());
          operands.append(stateVars.begin(), stateVars.end());
          auto call = lb.create<func::CallOp>(lloc, step, operands);
          SmallVector<Value> yielded;
          for (size_t i = 0; i < fetches.size(); ++i) {
            Value value = lb.create<tensor::ExtractOp>(lloc, call.getResult(i), ValueRange{});
            yielded.push_back(lb.create<tensor::InsertOp>(lloc, value, state[i], ValueRange{k}));
          }
          for (auto [i, v] : llvm::enumerate(variables)) {
            Value value = stateVars[i];
            for (auto [u, updated] : llvm::enumerate(updates))
              if (updated == v)
                value = call.getResult(fetches.size() + u);
            if (value.getType() != stateVars[i].getType())
              value = lb.create<tensor::CastOp>(lloc, stateVars[i].getType(), value);
            yielded.push_back(value);
          }
          yielded.append(next.begin(), next.end());
          lb.create<func::CallOp>(lloc, wait, ValueRange{});
          lb.create<scf::YieldOp>(lloc, yielded);
        });
    SmallVector<Value> returned(forOp.getResults().take_front(fetches.size()));
    for (StringRef u : updates) {
      auto *at = llvm::find(variables, u);
      if (at == variables.end())
        return step.emitError() << "update '" << u << "' is not among the step's variables";
      returned.push_back(forOp.getResult(fetches.size() + (at - variables.begin())));
    }
    b.create<func::ReturnOp>(loc, returned);
    return success();
  }
};

} // namespace

std::unique_ptr<Pass> createLoopsPass() { return std::make_unique<LoopsPass>(); }

} // namespace nncc::cpu
