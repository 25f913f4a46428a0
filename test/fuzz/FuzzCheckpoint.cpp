// libFuzzer target: the checkpoint reader against a fixed model (an f32
// matrix, a bias and an i64 counter). Inputs whose first byte is odd are
// framed here first, so that the fuzzer reaches the contents past the
// CRC-32.
#include "runtime/Checkpoint.h"
#include "runtime/FramedFile.h"

#include "google/protobuf/stubs/logging.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const nncc::exe::Executable *model = [] {
    auto *m = new nncc::exe::Executable();
    m->set_model("fuzz");
    auto add = [&](const char *name, nncc::graph::DataType dtype,
                   std::initializer_list<int64_t> shape) {
      nncc::exe::VariableSpec *v = m->add_variables();
      v->set_name(name);
      v->set_dtype(dtype);
      for (int64_t d : shape)
        v->add_shape(d);
    };
    add("w", nncc::graph::F32, {3, 2});
    add("b", nncc::graph::F32, {2});
    add("iterations", nncc::graph::I64, {});
    return m;
  }();
  // Protobuf logs every string field with invalid UTF-8; the parse fails
  // (or not) all the same.
  static bool silenced = (google::protobuf::SetLogHandler(nullptr), true);
  (void)silenced;
  std::string bytes(reinterpret_cast<const char *>(data), size);
  if (!bytes.empty() && (bytes[0] & 1))
    bytes = nncc::rt::frame(nncc::rt::kCheckpointFile, bytes.substr(1));
  auto variables = nncc::rt::readCheckpointBytes(bytes, "fuzz.ckpt", *model);
  (void)variables;
  return 0;
}
