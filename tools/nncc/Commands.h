// The nncc subcommands, one function each (flags parsed in nncc.cpp).
#ifndef NNCC_TOOLS_NNCC_COMMANDS_H
#define NNCC_TOOLS_NNCC_COMMANDS_H

#include <string>
#include <vector>

namespace nncc::tool {

std::string versionString();

struct ImportArgs {
  std::string model, emit = "nn";
  bool debugInfo = false;
};
int runImport(const ImportArgs &args);

struct CompileArgs {
  std::string model, output, target = "cpu", emit;
};
int runCompile(const CompileArgs &args);

int runInfo(const std::string &path);

struct RunArgs {
  std::string model, signature, output, checkpoint, saveCheckpoint;
  int repeat = 1;
  std::vector<std::string> feeds, fetches;
  int precision = -1;
};
int runRun(const RunArgs &args);

} // namespace nncc::tool

#endif
