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

std::string hostTriple() { return llvm::sys::getProcessTriple(); }

bool isHostTriple(llvm::StringRef triple) {
  if (triple.empty())
    return true;
  llvm::Triple given(llvm::Triple::normalize(triple)), host(hostTriple());
  return given.getArch() == host.getArch() && given.getOS() == host.getOS();
}

/// The target of `triple`: the host's is initialized alone, another needs
/// all of LLVM's (the shared libLLVM has them all).
static const llvm::Target *initializeTarget(llvm::StringRef triple, bool host, std::string &error) {
  if (host) {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  } else {
    static bool once = [] {
      llvm::InitializeAllTargetInfos();
      llvm::InitializeAllTargets();
      llvm::InitializeAllTargetMCs();
      llvm::InitializeAllAsmPrinters();
      return true;
    }();
    (void)once;
  }
  return llvm::TargetRegistry::lookupTarget(triple.str(), error);
}

llvm::Expected<TargetCpu> resolveTargetCpu(llvm::StringRef name, llvm::StringRef triple) {
  TargetCpu out;
  bool host = isHostTriple(triple);
  out.triple = host ? hostTriple() : llvm::Triple::normalize(triple);
  std::string error;
  const llvm::Target *target = initializeTarget(out.triple, host, error);
  if (!target)
    return fail("no LLVM target for --triple=" + out.triple + ": " + error);
  // The runtime loads the kernels as an ELF shared object.
  if (!llvm::Triple(out.triple).isOSBinFormatELF())
    return fail("--triple=" + out.triple + " is not an ELF target; nncc's runtime loads ELF " +
                "shared objects (e.g. aarch64-linux-gnu)");
  if (!host && name == "native")
    return fail("--cpu=native is this machine's CPU, not one of " + out.triple +
                "; give --cpu=<an LLVM CPU of that target> or leave --cpu out (generic)");
  if (host && (name.empty() || name == "native")) {
    out.cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures features;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.first(), feature.second);
    out.features = features.getString();
  } else {
    // A named CPU gets LLVM's features for it and none of this machine's;
    // another triple's default is its generic CPU.
    std::unique_ptr<llvm::MCSubtargetInfo> generic(
        target->createMCSubtargetInfo(out.triple, "", ""));
    llvm::StringRef cpu = name.empty() ? "generic" : name;
    if (!generic || !generic->isCPUStringValid(cpu))
      return fail("unknown CPU '" + cpu + "' for --cpu (target " + out.triple + "); expected " +
                  (host ? kCpuForms.str()
                        : "an LLVM CPU name of that target (`llc-19 -mtriple=" + out.triple +
                              " -mcpu=help` lists them)"));
    out.cpu = cpu.str();
  }
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      target->createMCSubtargetInfo(out.triple, out.cpu, out.features));
  if (!info)
    return fail("LLVM has no subtarget for CPU '" + out.cpu + "' of " + out.triple);
  // Only x86 knows these names (others would warn of each one); other
  // targets' code is for their baseline vectors (AArch64's NEON: 128 bits).
  if (llvm::Triple(out.triple).isX86()) {
    for (const char *feature : rt::kCpuFeatureNames)
      if (info->checkFeatures(std::string("+") + feature))
        out.requiredFeatures.push_back(feature);
    auto has = [&](const char *f) { return info->checkFeatures(std::string("+") + f); };
    out.vectorBits = has("avx512f") ? 512 : has("avx2") && has("fma") ? 256 : 128;
  } else if (llvm::Triple(out.triple).isAArch64()) {
    out.vectorRegisters = 32;
  }
  return out;
}

} // namespace nncc::cpu
