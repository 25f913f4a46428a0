#include "compiler/cpu/TargetCpu.h"
#include "runtime/CpuFeatures.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>

namespace nncc::cpu {

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

llvm::Expected<TargetCpu> resolveTargetCpu(llvm::StringRef name) {
  llvm::InitializeNativeTarget();
  TargetCpu out;
  out.triple = llvm::sys::getProcessTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(out.triple, error);
  if (!target)
    return fail("no LLVM target for " + out.triple + ": " + error);
  if (name.empty() || name == "native") {
    out.cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures features;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.first(), feature.second);
    out.features = features.getString();
  } else {
    // A named CPU gets LLVM's features for it and none of this machine's.
    std::unique_ptr<llvm::MCSubtargetInfo> generic(
        target->createMCSubtargetInfo(out.triple, "", ""));
    if (!generic || !generic->isCPUStringValid(name))
      return fail("unknown CPU '" + name + "' for --cpu (target " + out.triple + "); expected " +
                  kCpuForms);
    out.cpu = name.str();
  }
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      target->createMCSubtargetInfo(out.triple, out.cpu, out.features));
  if (!info)
    return fail("LLVM has no subtarget for CPU '" + out.cpu + "' of " + out.triple);
  // Only x86 knows these names (others would warn of each one).
  if (llvm::Triple(out.triple).isX86()) {
    for (const char *feature : rt::kCpuFeatureNames)
      if (info->checkFeatures(std::string("+") + feature))
        out.requiredFeatures.push_back(feature);
    auto has = [&](const char *f) { return info->checkFeatures(std::string("+") + f); };
    out.vectorBits = has("avx512f") ? 512 : has("avx2") && has("fma") ? 256 : 128;
  }
  return out;
}

} // namespace nncc::cpu
