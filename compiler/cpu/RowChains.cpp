// nn-cpu-row-chains: a run of row kernels over the same rows becomes one.
//
// A network's forward pass is row by row: x . W1, its bias and activation,
// h1 . W2, ..., softmax, each a row kernel (nn-cpu-matmul-to-vector,
// nn-cpu-parallel-rows) that the runtime splits by rows on its own. Called
// one after the other, each kernel writes its whole result (10000 images x
// 50 floats: 2 MB) before the next reads it back, and each is a separate
// split of the pool. When every buffer that one kernel writes and a later
// one reads is used row-wise by both, the later kernel's rows depend only on
// the same rows of the earlier ones, so the run can go tile by tile of rows:
// `kRowKernelPrefix`chain_N(buffers..., begin, end) calls each kernel on a
// tile (a few dozen rows whose intermediate rows fit in the L1 cache) before
// the next tile, and the runtime splits the chain once. Each row is computed
// by the same code as before, so the results do not change by a bit.
//
// A chain is made of consecutive kernel calls in a block whose row ranges
// are all the rows of the same count (a static size or the same dynamic
// size, traced through allocations and memref.dim), with only pure ops and
// allocations between them. Fills of a row-indexed buffer with a constant
// (a reduction's initial value) join as members too, and so do the
// row-splittable linalg.generic ops nn-cpu-parallel-rows left inline (too
// small to split alone: the optimizer's update of a 784x50 weight after the
// product that computes its gradient).
//
// A buffer allocated for the chain alone (used by its members, then freed)
// whose rows the first member to touch them writes whole never needs to
// exist beyond a tile: the chain gets a scratch of one tile's rows on its
// stack instead (the 10000 images' hidden layers: 2 MB each written back to
// memory, now 10 KB that stay in L1), and its members run on views of the
// tile, rows [0, tile) (their row-wise parameters become strided views).
#include "compiler/cpu/Passes.h"
#include "compiler/cpu/RowKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace nncc::cpu {

#define GEN_PASS_DECL_ROWCHAINS
#define GEN_PASS_DEF_ROWCHAINS
#include "compiler/cpu/Passes.h.inc"

namespace {

/// Bytes of a tile's rows that the chain writes: tiles are sized so these
/// stay in the L1 cache (32 KiB on the reference Zen 4, 48 on newer cores).
constexpr int64_t kTileBytes = 24 << 10;

/// A row count: a static size, or the value (or buffer dimension) a dynamic
/// one comes from.
struct RowCount {
  const void *source = nullptr;
  int64_t size = 0;
  bool operator==(const RowCount &o) const { return source == o.source && size == o.size; }
};

RowCount rowCountOf(Value buffer, int64_t dim);

RowCount rowCountOf(Value size) {
  if (auto c = getConstantIntValue(size))
    return {nullptr, *c};
  if (auto d = size.getDefiningOp<memref::DimOp>())
    if (auto index = getConstantIntValue(d.getIndex()))
      return rowCountOf(d.getSource(), *index);
  return {size.getAsOpaquePointer(), -1};
}

RowCount rowCountOf(Value buffer, int64_t dim) {
  auto type = cast<MemRefType>(buffer.getType());
  if (!type.isDynamicDim(dim))
    return {nullptr, type.getDimSize(dim)};
  if (auto alloc = buffer.getDefiningOp<memref::AllocOp>())
    return rowCountOf(alloc.getDynamicSizes()[type.getDynamicDimIndex(dim)]);
  return {buffer.getAsOpaquePointer(), dim};
}

/// The allocation (or argument) a buffer is a view of.
Value rootOf(Value buffer) {
  while (auto view = buffer.getDefiningOp<ViewLikeOpInterface>())
    buffer = view.getViewSource();
  return buffer;
}

struct Access {
  Value buffer;
  int64_t flags;
};

/// A kernel call or a fill, with its buffers and the rows per task it is
/// worth a thread at.
struct Member {
  Operation *op;
  RowCount rows;
  SmallVector<Access> accesses;
  int64_t grain;
};

/// The functions of a module by name, kept as the pass adds them (a lookup
/// in the module itself walks it: quadratic over a deep network's calls).
class Kernels {
public:
  explicit Kernels(ModuleOp module) : ctx(module.getContext()) {
    for (auto func : module.getOps<func::FuncOp>())
      byName[func.getSymNameAttr()] = func;
  }
  /// Every function the pass adds must be added here too.
  void add(func::FuncOp func) { byName[func.getSymNameAttr()] = func; }
  func::FuncOp lookup(StringAttr name) const { return byName.lookup(name); }
  /// `base`, or `base`_N, a name no function has.
  std::string uniqueName(StringRef base) const {
    std::string name = base.str();
    for (int i = 1; lookup(StringAttr::get(ctx, name)); ++i)
      name = (base + "_" + std::to_string(i)).str();
    return name;
  }
  void erase(func::FuncOp func) {
    byName.erase(func.getSymNameAttr());
    func->erase();
  }

private:
  MLIRContext *ctx;
  llvm::DenseMap<StringAttr, func::FuncOp> byName;
};

std::optional<Member> asMember(Operation *op, int64_t minElements, Kernels &kernels) {
  if (auto call = dyn_cast<func::CallOp>(op)) {
    if (!call.getCallee().starts_with(kRowKernelPrefix))
      return std::nullopt;
    func::FuncOp callee = kernels.lookup(call.getCalleeAttr().getAttr());
    auto flags = callee ? callee->getAttrOfType<DenseI64ArrayAttr>(kRowArgsAttr) : nullptr;
    auto grain = callee ? callee->getAttrOfType<IntegerAttr>(kRowGrainAttr) : nullptr;
    auto operands = call.getArgOperands();
    if (!flags || !grain || callee->hasAttr(kRowUnchainedAttr) ||
        operands.size() != static_cast<size_t>(flags.size()) + 2 ||
        getConstantIntValue(operands[flags.size()]) != 0)
      return std::nullopt;
    Member m{op, rowCountOf(operands.back()), {}, std::max<int64_t>(1, grain.getInt())};
    for (auto [buffer, f] : llvm::zip(operands.drop_back(2), flags.asArrayRef()))
      m.accesses.push_back({buffer, f});
    return m;
  }
  if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
    auto perRow = rowIterations(generic);
    if (!perRow)
      return std::nullopt;
    Member m{op, {}, {}, rowGrain(*perRow, minElements)};
    for (auto [operand, f] : llvm::zip(op->getOperands(), rowArgFlags(generic))) {
      if ((f & kRowWise) && !m.rows.source && !m.rows.size)
        m.rows = rowCountOf(operand, 0);
      m.accesses.push_back({operand, f});
    }
    return m;
  }
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    Value out = fill.getDpsInitOperand(0)->get();
    auto type = dyn_cast<MemRefType>(out.getType());
    if (!type || type.getRank() == 0 || !type.getLayout().isIdentity() ||
        !fill.getDpsInputOperand(0)->get().getDefiningOp<arith::ConstantOp>())
      return std::nullopt;
    int64_t perRow = 1;
    for (int64_t d = 1; d < type.getRank(); ++d) {
      if (type.isDynamicDim(d))
        return std::nullopt;
      perRow *= type.getDimSize(d);
    }
    return Member{op,
                  rowCountOf(out, 0),
                  {{out, kRowWise | kWrites}},
                  std::max<int64_t>(1, minElements / std::max<int64_t>(1, perRow))};
  }
  return std::nullopt;
}

/// Whether `m` may run tile by tile with the chain's members before it: a
/// buffer one writes and the other uses must be the same buffer, used
/// row-wise by both.
bool fitsAfter(ArrayRef<Member> chain, const Member &m) {
  for (const Member &earlier : chain)
    for (const Access &a : earlier.accesses)
      for (const Access &b : m.accesses) {
        if (!((a.flags | b.flags) & kWrites) || rootOf(a.buffer) != rootOf(b.buffer))
          continue;
        if (a.buffer != b.buffer || !(a.flags & b.flags & kRowWise))
          return false;
      }
  return true;
}

struct RowChainsPass : impl::RowChainsBase<RowChainsPass> {
  using RowChainsBase::RowChainsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Block *> blocks;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.getName().starts_with(kRowKernelPrefix))
        func.walk([&](Block *block) { blocks.push_back(block); });
    tiledKernels.clear();
    Kernels table(module);
    kernels = &table;
    for (Block *block : blocks)
      chainBlock(module, *block);
    // Kernels now called only on tiles go, and copies no chain called; not
    // before, or a kernel outlined later could take a gone kernel's name
    // and find its copy.
    llvm::DenseSet<StringAttr> called;
    module.walk([&](func::CallOp call) { called.insert(call.getCalleeAttr().getAttr()); });
    for (auto &entry : tiledKernels) {
      for (StringRef name : {entry.first(), entry.second.getName()})
        if (auto kernel = table.lookup(StringAttr::get(module.getContext(), name)))
          if (!called.contains(kernel.getSymNameAttr()))
            table.erase(kernel);
    }
    kernels = nullptr;
    module->removeAttr(kNextRowMapAttr);
  }

  void chainBlock(ModuleOp module, Block &block) {
    SmallVector<Member> chain;
    SmallVector<SmallVector<Member>> chains;
    auto close = [&] {
      if (chain.size() >= 2 &&
          llvm::any_of(chain, [](const Member &m) { return isa<func::CallOp>(m.op); }))
        chains.push_back(chain);
      chain.clear();
    };
    for (Operation &op : block) {
      if (auto m = asMember(&op, minElements, *kernels)) {
        if (chain.empty() || !(chain.front().rows == m->rows) || !fitsAfter(chain, *m))
          close();
        chain.push_back(std::move(*m));
      } else if (!isMemoryEffectFree(&op) && !isa<memref::AllocOp>(op)) {
        close();
      }
    }
    close();
    for (auto &c : chains)
      build(module, c);
  }

  /// The chain's function, called where its last member was.
  void build(ModuleOp module, MutableArrayRef<Member> chain) {
    // Its generic ops become row kernels first (their accesses stay).
    for (Member &m : chain)
      if (auto generic = dyn_cast<linalg::GenericOp>(m.op)) {
        m.op = outlineRowKernel(module, generic, m.grain);
        kernels->add(cast<func::FuncOp>(module.getBody()->back()));
      }
    Location loc = chain.back().op->getLoc();
    // Its buffers, in order of first use, what it does with each, and what
    // the first member to use each does with it.
    llvm::SetVector<Value> buffers;
    SmallVector<int64_t> flags, first;
    for (const Member &m : chain) {
      llvm::SmallDenseMap<Value, int64_t> own;
      for (const Access &a : m.accesses)
        own[a.buffer] = own.count(a.buffer) ? combine(own[a.buffer], a.flags) : a.flags;
      for (const Access &a : m.accesses) {
        if (buffers.insert(a.buffer)) {
          flags.push_back(a.flags);
          first.push_back(own[a.buffer]);
        } else {
          size_t i = llvm::find(buffers, a.buffer) - buffers.begin();
          flags[i] = combine(flags[i], a.flags);
        }
      }
    }
    // Tiles whose written rows take about kTileBytes; a multiple of 24 rows
    // (the matmul kernels' row blocks are 3, 6 or 8).
    int64_t rowBytes = 0;
    for (auto [buffer, f] : llvm::zip(buffers, flags))
      if ((f & kWrites) && (f & kRowWise)) {
        auto type = cast<MemRefType>(buffer.getType());
        int64_t bytes = type.getElementTypeBitWidth() / 8;
        for (int64_t d = 1; d < type.getRank(); ++d)
          bytes *= type.isDynamicDim(d) ? 64 : type.getDimSize(d);
        rowBytes += bytes;
      }
    int64_t tile = std::clamp<int64_t>(kTileBytes / std::max<int64_t>(rowBytes, 1), 8, 1024);
    tile = tile >= 24 ? tile / 24 * 24 : tile;
    // A task's rows are worth a thread when their work in all the members is.
    double perRow = 0;
    for (const Member &m : chain)
      perRow += 1.0 / m.grain;
    int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(1.0 / perRow)));

    // The buffers that live in a tile's scratch, and the members' kernels
    // on views of the tile (all their calls must take them).
    llvm::SmallPtrSet<Operation *, 8> members;
    for (const Member &m : chain)
      members.insert(m.op);
    SmallVector<bool> scratch(buffers.size(), false);
    for (auto [i, buffer] : llvm::enumerate(buffers))
      scratch[i] = isPrivate(buffer, flags[i], first[i], members);
    llvm::StringMap<func::FuncOp> tiled;
    if (llvm::is_contained(scratch, true)) {
      for (const Member &m : chain)
        if (auto call = dyn_cast<func::CallOp>(m.op)) {
          func::FuncOp kernel = tiledKernel(module, call);
          if (!kernel) {
            scratch.assign(buffers.size(), false);
            break;
          }
          tiled[call.getCallee()] = kernel;
        }
    }
    bool onTiles = llvm::is_contained(scratch, true);

    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    SmallVector<Type> types;
    for (auto [i, v] : llvm::enumerate(buffers))
      if (!scratch[i])
        types.push_back(v.getType());
    Type index = b.getIndexType();
    types.append({index, index});
    SmallVector<int64_t> argFlags;
    for (auto [i, f] : llvm::enumerate(flags))
      if (!scratch[i])
        argFlags.push_back(f);
    auto func =
        b.create<func::FuncOp>(loc, (kRowKernelPrefix + "chain_" + std::to_string(count++)).str(),
                               b.getFunctionType(types, {}));
    func.setPrivate();
    kernels->add(func);
    func->setAttr(kRowGrainAttr, b.getI64IntegerAttr(grain));
    func->setAttr(kRowArgsAttr, b.getDenseI64ArrayAttr(argFlags));
    Block *body = func.addEntryBlock();
    b.setInsertionPointToStart(body);
    IRMapping args;
    unsigned arg = 0;
    for (auto [i, v] : llvm::enumerate(buffers)) {
      if (!scratch[i]) {
        args.map(v, body->getArgument(arg++));
        continue;
      }
      auto type = cast<MemRefType>(v.getType());
      SmallVector<int64_t> shape(type.getShape());
      shape[0] = tile;
      args.map(v, b.create<memref::AllocaOp>(loc, MemRefType::get(shape, type.getElementType()),
                                             b.getI64IntegerAttr(64)));
    }
    Value begin = body->getArgument(arg), end = body->getArgument(arg + 1);
    auto tiles = b.create<scf::ForOp>(loc, begin, end, b.create<arith::ConstantIndexOp>(loc, tile));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(tiles.getBody());
      Value t = tiles.getInductionVar();
      Value tileEnd = b.create<arith::MinSIOp>(
          loc, b.create<arith::AddIOp>(loc, t, b.create<arith::ConstantIndexOp>(loc, tile)), end);
      Value rows = b.create<arith::SubIOp>(loc, tileEnd, t);
      // On tiles, a member's row-wise buffers are views of the tile's rows:
      // the scratch's first rows, or the buffer's rows from t.
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      llvm::DenseMap<Value, Value> views;
      auto tileOf = [&](Value v) {
        Value &view = views[v];
        if (!view) {
          size_t i = llvm::find(buffers, v) - buffers.begin();
          view =
              b.create<memref::CastOp>(loc, tiledType(cast<MemRefType>(v.getType())),
                                       rowsOf(b, loc, args.lookup(v), scratch[i] ? zero : t, rows));
        }
        return view;
      };
      for (const Member &m : chain) {
        if (auto call = dyn_cast<func::CallOp>(m.op)) {
          SmallVector<Value> operands;
          auto rowArgs = rowArgsOf(call);
          for (auto [v, f] : llvm::zip(call.getArgOperands().drop_back(2), rowArgs))
            operands.push_back(onTiles && (f & kRowWise) ? tileOf(v) : args.lookup(v));
          if (onTiles) {
            operands.append({zero, rows});
            b.create<func::CallOp>(call.getLoc(), tiled.lookup(call.getCallee()), operands);
          } else {
            operands.append({t, tileEnd});
            b.create<func::CallOp>(call.getLoc(), call.getCallee(), TypeRange{}, operands);
          }
          continue;
        }
        auto fill = cast<linalg::FillOp>(m.op);
        Value out = fill.getDpsInitOperand(0)->get();
        Value tileRows =
            onTiles ? tileOf(out) : rowsOf(b, fill.getLoc(), args.lookup(out), t, rows);
        Value value = b.clone(*fill.getDpsInputOperand(0)->get().getDefiningOp())->getResult(0);
        b.create<linalg::FillOp>(fill.getLoc(), value, tileRows);
      }
    }
    b.create<func::ReturnOp>(loc);

    // The call, where the last member was: every buffer and the row count
    // are defined by then.
    OpBuilder at(chain.back().op);
    SmallVector<Value> operands;
    for (auto [i, v] : llvm::enumerate(buffers))
      if (!scratch[i])
        operands.push_back(v);
    operands.push_back(at.create<arith::ConstantIndexOp>(loc, 0));
    if (auto call = dyn_cast<func::CallOp>(chain.back().op))
      operands.push_back(call.getArgOperands().back());
    else
      operands.push_back(
          at.createOrFold<memref::DimOp>(loc, chain.back().accesses.front().buffer, 0));
    at.create<func::CallOp>(loc, func, operands);
    for (const Member &m : chain)
      m.op->erase();
    // The scratch buffers' allocations go: their sizes replace their
    // dimensions.
    for (auto [i, v] : llvm::enumerate(buffers)) {
      if (!scratch[i])
        continue;
      auto alloc = v.getDefiningOp<memref::AllocOp>();
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers())) {
        if (auto dim = dyn_cast<memref::DimOp>(user)) {
          auto type = alloc.getType();
          int64_t d = *dim.getConstantIndex();
          OpBuilder here(dim);
          dim.replaceAllUsesWith(
              type.isDynamicDim(d)
                  ? alloc.getDynamicSizes()[type.getDynamicDimIndex(d)]
                  : here.create<arith::ConstantIndexOp>(dim.getLoc(), type.getDimSize(d))
                        .getResult());
        }
        user->erase();
      }
      alloc->erase();
    }
  }

  /// Whether `buffer` may live in a tile's scratch: allocated for the chain
  /// alone (its other users free it or ask its size) and written whole,
  /// row by row, by the first member to use it.
  static bool isPrivate(Value buffer, int64_t flags, int64_t first,
                        const llvm::SmallPtrSetImpl<Operation *> &members) {
    auto alloc = buffer.getDefiningOp<memref::AllocOp>();
    auto type = cast<MemRefType>(buffer.getType());
    if (!alloc || !(flags & kRowWise) || !(first & kWrites) || (first & kReads) ||
        !type.getLayout().isIdentity() || type.getRank() == 0)
      return false;
    for (int64_t d = 1; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        return false;
    return llvm::all_of(alloc->getUsers(), [&](Operation *user) {
      if (auto dim = dyn_cast<memref::DimOp>(user))
        return dim.getConstantIndex().has_value();
      return members.contains(user) || isa<memref::DeallocOp>(user);
    });
  }

  /// `buffer`'s `rows` rows from `from`, as a strided view.
  static Value rowsOf(OpBuilder &b, Location loc, Value buffer, Value from, Value rows) {
    auto type = cast<MemRefType>(buffer.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)), sizes{rows},
        strides(type.getRank(), b.getIndexAttr(1));
    offsets[0] = from;
    for (int64_t d = 1; d < type.getRank(); ++d)
      sizes.push_back(type.isDynamicDim(d)
                          ? OpFoldResult(b.createOrFold<memref::DimOp>(loc, buffer, d))
                          : OpFoldResult(b.getIndexAttr(type.getDimSize(d))));
    return b.create<memref::SubViewOp>(loc, buffer, offsets, sizes, strides);
  }

  /// A row-wise parameter's type on tiles: any offset.
  static MemRefType tiledType(MemRefType type) {
    SmallVector<int64_t> strides(type.getRank(), 1);
    for (int64_t d = type.getRank() - 2; d >= 0; --d)
      strides[d] = ShapedType::isDynamic(strides[d + 1]) || type.isDynamicDim(d + 1)
                       ? ShapedType::kDynamic
                       : strides[d + 1] * type.getDimSize(d + 1);
    SmallVector<int64_t> shape(type.getShape());
    shape[0] = ShapedType::kDynamic;
    return MemRefType::get(
        shape, type.getElementType(),
        StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic, strides));
  }

  ArrayRef<int64_t> rowArgsOf(func::CallOp call) {
    func::FuncOp callee = kernels->lookup(call.getCalleeAttr().getAttr());
    return callee->getAttrOfType<DenseI64ArrayAttr>(kRowArgsAttr).asArrayRef();
  }

  /// A copy of `call`'s kernel whose row-wise parameters are views of any
  /// offset, or null when its body uses one otherwise than through loads,
  /// stores, dimensions and subviews (whose types do not change).
  func::FuncOp tiledKernel(ModuleOp module, func::CallOp call) {
    if (auto it = tiledKernels.find(call.getCallee()); it != tiledKernels.end())
      return it->second;
    func::FuncOp kernel = kernels->lookup(call.getCalleeAttr().getAttr());
    if (!kernel || kernel.isExternal())
      return nullptr;
    ArrayRef<int64_t> rowArgs = rowArgsOf(call);
    auto keepsTypes = [&](Operation *user, MemRefType newType) {
      if (isa<memref::LoadOp, memref::StoreOp, memref::DimOp, vector::LoadOp, vector::StoreOp,
              vector::MaskedLoadOp, vector::MaskedStoreOp>(user))
        return true;
      auto view = dyn_cast<memref::SubViewOp>(user);
      return view && memref::SubViewOp::inferResultType(newType, view.getStaticOffsets(),
                                                        view.getStaticSizes(),
                                                        view.getStaticStrides()) == view.getType();
    };
    for (auto [i, f] : llvm::enumerate(rowArgs)) {
      if (!(f & kRowWise))
        continue;
      MemRefType newType = tiledType(cast<MemRefType>(kernel.getArgument(i).getType()));
      for (Operation *user : kernel.getArgument(i).getUsers())
        if (!keepsTypes(user, newType))
          return nullptr;
    }
    auto copy = cast<func::FuncOp>(kernel->clone());
    copy.setName((kernel.getName() + "_tiles").str());
    SymbolTable::setSymbolName(copy, kernels->uniqueName(copy.getName()));
    module.push_back(copy);
    kernels->add(copy);
    SmallVector<Type> types(copy.getArgumentTypes());
    for (auto [i, f] : llvm::enumerate(rowArgs))
      if (f & kRowWise) {
        types[i] = tiledType(cast<MemRefType>(types[i]));
        copy.getArgument(i).setType(types[i]);
      }
    copy.setType(FunctionType::get(module.getContext(), types, {}));
    tiledKernels[call.getCallee()] = copy;
    return copy;
  }

  /// One flag set for a buffer two members use: row-wise only when both
  /// use it so.
  static int64_t combine(int64_t a, int64_t b) {
    return ((a & b) & kRowWise) | ((a | b) & (kReads | kWrites));
  }

  int64_t count = 0;
  Kernels *kernels = nullptr; // during runOnOperation
  llvm::StringMap<func::FuncOp> tiledKernels;
};

} // namespace

std::unique_ptr<Pass> createRowChainsPass() { return std::make_unique<RowChainsPass>(); }

} // namespace nncc::cpu
