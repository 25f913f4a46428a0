// nncc run: compile (a .pbtxt) or load (a .nnx), feed, run, print or save.
#include "compiler/driver/Jit.h"
#include "runtime/Session.h"
#include "tools/nncc/Commands.h"
#include "tools/nncc/Feeds.h"

#include "llvm/ADT/StringRef.h"

#include <algorithm>
#include <iostream>

namespace nncc::tool {

static const exe::TensorSpec *findFeed(const exe::SignatureSpec &sig, const std::string &name) {
  for (const exe::TensorSpec &spec : sig.feeds())
    if (spec.name() == name)
      return &spec;
  return nullptr;
}

int runRun(const RunArgs &args) {
  std::shared_ptr<rt::Executable> exe;
  if (llvm::StringRef(args.model).ends_with(".nnx")) {
    auto loaded = rt::Executable::load(args.model);
    if (!loaded) {
      std::cerr << "error: " << loaded.error() << "\n";
      return 1;
    }
    exe = *loaded;
    if (args.checkNumerics && exe->proto().numeric_checks_size() == 0) {
      std::cerr << "error: " << args.model << " was compiled without numeric checks; "
                << "compile it with nncc compile --check-numerics\n";
      return 2;
    }
  } else {
    CompileOptions options;
    options.checkNumerics = args.checkNumerics;
    ReadOptions read;
    read.trainableInitializers = args.trainableInitializers;
    if (auto bound = readBindings(args.bindings); !bound) {
      std::cerr << "error: " << bound.error() << "\n";
      return 2;
    } else {
      read.constantInputs = std::move(*bound);
    }
    auto loaded = readGraphFile(args.model, read);
    if (!loaded) {
      std::cerr << llvm::toString(loaded.takeError()) << "\n";
      return 1;
    }
    auto compiled = compileAndLoad(*loaded, options);
    if (!compiled) {
      std::cerr << llvm::toString(compiled.takeError()) << "\n";
      return 1;
    }
    exe = *compiled;
  }
  const auto &sigs = exe->proto().signatures();
  std::string name = args.signature;
  if (name.empty()) {
    if (sigs.size() != 1) {
      std::cerr << "error: " << args.model << " has " << sigs.size() << " signatures ("
                << exe->signatureNames() << "); choose one with --signature\n";
      return 1;
    }
    name = sigs[0].name();
  }
  const exe::SignatureSpec *sig = exe->signature(name);
  if (!sig) {
    std::cerr << "error: unknown signature '" << name
              << "' (the model has: " << exe->signatureNames() << ")\n";
    return 1;
  }
  rt::TensorMap feeds;
  for (const std::string &feed : args.feeds) {
    size_t eq = feed.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "error: --feed '" << feed << "' is not name=value\n";
      return 1;
    }
    std::string feedName = feed.substr(0, eq), value = feed.substr(eq + 1);
    const exe::TensorSpec *spec = findFeed(*sig, feedName);
    rt::DType dtype = spec ? rt::toDType(spec->dtype()) : rt::DType::F32;
    auto tensor = readFeed(value, dtype);
    if (!tensor) {
      std::cerr << "error: --feed " << feedName << ": " << tensor.error() << "\n";
      return 1;
    }
    feeds[feedName] = tensor.take();
  }
  rt::Session session(exe);
  if (auto status = session.initialize(); !status.ok()) {
    std::cerr << "error: " << status.message() << "\n";
    return 1;
  }
  if (!args.checkpoint.empty())
    if (auto status = session.restore(args.checkpoint); !status.ok()) {
      std::cerr << "error: " << status.message() << "\n";
      return 1;
    }
  int repeat = std::max(1, args.repeat);
  for (int i = 1; i < repeat; ++i)
    if (auto out = session.run(name, feeds, args.fetches); !out) {
      std::cerr << "error: " << out.error() << "\n";
      return 1;
    }
  auto out = session.run(name, feeds, args.fetches);
  if (!out) {
    std::cerr << "error: " << out.error() << "\n";
    return 1;
  }
  std::vector<std::string> order = args.fetches;
  if (order.empty())
    for (const exe::TensorSpec &spec : sig->fetches())
      order.push_back(spec.name());
  if (!args.saveCheckpoint.empty())
    if (auto status = session.save(args.saveCheckpoint); !status.ok()) {
      std::cerr << "error: " << status.message() << "\n";
      return 1;
    }
  if (!args.output.empty()) {
    if (order.size() != 1) {
      std::cerr << "error: -o writes one tensor; fetch exactly one (" << order.size()
                << " fetched)\n";
      return 1;
    }
    if (auto status = writeFetch(args.output, out->at(order[0])); !status.ok()) {
      std::cerr << "error: " << status.message() << "\n";
      return 1;
    }
    return 0;
  }
  for (const std::string &f : order)
    std::cout << f << " = " << formatTensor(out->at(f), args.precision) << "\n";
  return 0;
}

} // namespace nncc::tool
