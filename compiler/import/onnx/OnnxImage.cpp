// ONNX image rearrangements and transposed convolution -> nn ops:
// DepthToSpace and SpaceToDepth as reshape / transpose / reshape of static
// NCHW shapes, ConvTranspose as nn.conv2d_backprop_input (the gradient of a
// convolution is a transposed convolution) in NHWC, cropped to ONNX's pads.
#include "compiler/import/onnx/Translator.h"

namespace nncc::onnximport {
namespace {

/// The dims of a rank-4 NCHW input whose C, H and W are known (N may not be:
/// it becomes the reshapes' -1).
std::vector<int64_t> imageDims(Translator &t, const Val &x) {
  std::vector<int64_t> d = t.dims(x);
  if (d.size() != 4)
    t.fail("needs 2-D images (rank 4: N, C, H, W), got rank " + std::to_string(d.size()));
  if (d[1] < 0 || d[2] < 0 || d[3] < 0)
    t.fail("needs the channels, height and width of the input known");
  return d;
}

int64_t blockSize(Translator &t) {
  int64_t b = t.intAttrOr("blocksize", 0);
  if (b < 1)
    t.fail("blocksize must be positive, got " + std::to_string(b));
  return b;
}

Val rearrange(Translator &t, const Val &x, const std::vector<int64_t> &split,
              const std::vector<int64_t> &perm, const std::vector<int64_t> &joined) {
  Val y = t.emit("reshape", {x}, {{"shape", fe::attrInts(split)}});
  y = t.emit("transpose", {y}, {{"perm", fe::attrInts(perm)}});
  return t.emit("reshape", {y}, {{"shape", fe::attrInts(joined)}});
}

/// Channels to blocks of b x b pixels; mode DCR takes the block index from
/// the channel's high part (depth, column, row), CRD from its low part.
void depthToSpace(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> d = imageDims(t, x);
  int64_t b = blockSize(t);
  int64_t n = d[0] < 0 ? -1 : d[0], c = d[1], h = d[2], w = d[3];
  if (c % (b * b))
    t.fail("the channels (" + std::to_string(c) + ") are not a multiple of blocksize^2 (" +
           std::to_string(b * b) + ")");
  std::string mode = t.stringAttrOr("mode", "DCR");
  std::vector<int64_t> joined = {n, c / (b * b), h * b, w * b};
  if (mode == "DCR")
    t.out(0, rearrange(t, x, {n, b, b, c / (b * b), h, w}, {0, 3, 4, 1, 5, 2}, joined));
  else if (mode == "CRD")
    t.out(0, rearrange(t, x, {n, c / (b * b), b, b, h, w}, {0, 1, 4, 2, 5, 3}, joined));
  else
    t.fail("mode '" + mode + "' is not supported (DCR or CRD)");
}

void spaceToDepth(Translator &t) {
  Val x = t.in(0);
  std::vector<int64_t> d = imageDims(t, x);
  int64_t b = blockSize(t);
  int64_t n = d[0] < 0 ? -1 : d[0], c = d[1], h = d[2], w = d[3];
  if (h % b || w % b)
    t.fail("the height and width (" + std::to_string(h) + ", " + std::to_string(w) +
           ") are not multiples of blocksize " + std::to_string(b));
  t.out(0, rearrange(t, x, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4},
                     {n, c * b * b, h / b, w / b}));
}

/// The 2-D transposed convolution of x [N, C_in, H, W] with W [C_in, C_out,
/// kH, kW]: nn.conv2d_backprop_input computes its full output (no pads, up
/// to stride - 1 more rows and columns of zeros at the end), from which the
/// pads crop ONNX's.
void convTranspose(Translator &t) {
  if (t.intAttrOr("group", 1) != 1)
    t.fail("grouped transposed convolutions (group != 1) are not supported");
  Val x = t.in(0), w = t.in(1);
  std::vector<int64_t> xd = t.dims(x), wd = t.dims(w);
  // 1-D as 2-D with images of height 1.
  bool oneD = xd.size() == 3 && wd.size() == 3;
  int64_t n = oneD ? 1 : 2;
  if (oneD) {
    x = t.emit("expand_dims", {x}, {{"axes", fe::attrInts({2})}});
    w = t.emit("expand_dims", {w}, {{"axes", fe::attrInts({2})}});
    xd = t.dims(x);
    wd = t.dims(w);
  }
  if (xd.size() != 4 || wd.size() != 4)
    t.fail("only 1-D and 2-D transposed convolutions (images N, C, [H,] W) are supported");
  if (xd[2] < 0 || xd[3] < 0 || wd[2] < 0 || wd[3] < 0)
    t.fail("needs the image and kernel sizes known");
  /// A per-axis attribute of n values, as 2 (1-D ones after a `pad` for H).
  auto spatial = [&](const std::string &name, std::vector<int64_t> v, int64_t pad) {
    if (auto a = t.intsAttr(name))
      v = *a;
    if (static_cast<int64_t>(v.size()) != n)
      t.fail(name + " must have " + std::to_string(n) + " values");
    if (oneD)
      v.insert(v.begin(), pad);
    return v;
  };
  std::vector<int64_t> kernel = spatial("kernel_shape", {wd.begin() + 4 - n, wd.end()}, 1);
  if (kernel != std::vector<int64_t>{wd[2], wd[3]})
    t.fail("kernel_shape differs from the filter's size");
  std::vector<int64_t> strides = spatial("strides", std::vector<int64_t>(n, 1), 1),
                       dilations = spatial("dilations", std::vector<int64_t>(n, 1), 1),
                       outputPadding = spatial("output_padding", std::vector<int64_t>(n, 0), 0);
  std::vector<int64_t> pads = t.intsAttr("pads").value_or(std::vector<int64_t>(2 * n, 0));
  if (static_cast<int64_t>(pads.size()) != 2 * n)
    t.fail("pads must have " + std::to_string(2 * n) + " values");
  if (oneD)
    pads = {0, pads[0], 0, pads[1]};
  std::string autoPad = t.stringAttrOr("auto_pad", "NOTSET");
  auto outputShape = t.intsAttr("output_shape");
  if (outputShape && static_cast<int64_t>(outputShape->size()) == n + 2)
    outputShape = std::vector<int64_t>(outputShape->begin() + 2, outputShape->end());
  if (outputShape && static_cast<int64_t>(outputShape->size()) != n)
    t.fail("output_shape must have " + std::to_string(n) + " (or " + std::to_string(n + 2) +
           ") values");
  if (outputShape && oneD)
    outputShape->insert(outputShape->begin(), 1);
  if (autoPad != "NOTSET" && autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER" &&
      autoPad != "VALID")
    t.fail("auto_pad '" + autoPad + "' is not supported");

  std::vector<int64_t> full(2), begin(2), size(2);
  for (int i = 0; i < 2; ++i) {
    if (strides[i] < 1 || dilations[i] < 1 || outputPadding[i] < 0)
      t.fail("strides and dilations must be positive, output_padding not negative");
    full[i] = strides[i] * (xd[2 + i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1;
    int64_t out;
    if (outputShape || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      // ONNX's rule: the pads that give the wanted size (the odd one at the
      // end for SAME_UPPER, else at the start; Python's floor division).
      out = outputShape ? (*outputShape)[i] : xd[2 + i] * strides[i];
      int64_t total = full[i] - out;
      auto floorHalf = [](int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
      begin[i] = autoPad == "SAME_UPPER" ? floorHalf(total) : total - floorHalf(total);
    } else if (autoPad == "VALID") {
      out = full[i];
      begin[i] = 0;
    } else {
      if (pads[i] < 0 || pads[i + 2] < 0)
        t.fail("negative pads are not supported");
      out = full[i] - pads[i] - pads[i + 2];
      begin[i] = pads[i];
    }
    if (out < 1)
      t.fail("the output would be empty");
    if (begin[i] < 0)
      t.fail("an output that starts before the full transposed convolution (padding " +
             std::to_string(-begin[i]) + " before) is not supported");
    size[i] = out;
  }
  // The backprop's image size: the full output without output_padding, plus
  // up to stride - 1 rows of zeros that cover the output's end.
  std::vector<int64_t> image(2);
  for (int i = 0; i < 2; ++i) {
    int64_t base = full[i] - outputPadding[i];
    image[i] = std::max(full[i], begin[i] + size[i]);
    if (image[i] - base > strides[i] - 1)
      t.fail("an output that extends " + std::to_string(image[i] - base) +
             " past the full transposed convolution (more than stride - 1) is not supported");
  }
  Val dy = t.emit("transpose", {x}, {{"perm", fe::attrInts({0, 2, 3, 1})}});
  Val filter = t.emit("transpose", {w}, {{"perm", fe::attrInts({2, 3, 1, 0})}});
  Val y = t.emit("conv2d_backprop_input", {dy, filter},
                 {{"input_size", fe::attrInts(image)},
                  {"strides", fe::attrInts(strides)},
                  {"dilations", fe::attrInts(dilations)},
                  {"padding", fe::attrString("VALID")}});
  if (begin[0] || begin[1] || size[0] != image[0] || size[1] != image[1])
    y = t.emit("slice", {y},
               {{"begins", fe::attrInts({0, begin[0], begin[1], 0})},
                {"sizes", fe::attrInts({-1, size[0], size[1], -1})}});
  if (t.has(2))
    y = t.emit("bias_add", {y, t.in(2)});
  y = t.emit("transpose", {y}, {{"perm", fe::attrInts({0, 3, 1, 2})}});
  if (oneD)
    y = t.emit("squeeze", {y}, {{"axes", fe::attrInts({2})}});
  t.out(0, y);
}

} // namespace

void addImageRules(std::map<std::string, Rule> &r) {
  r["DepthToSpace"] = depthToSpace;
  r["SpaceToDepth"] = spaceToDepth;
  r["ConvTranspose"] = convTranspose;
}

} // namespace nncc::onnximport
