// E2: reshape a (None, 2, 3) batch to (-1, 6), then column sums and means.
#include "examples/ExampleUtil.h"

using namespace nncc;

int main(int argc, char **argv) {
  rt::Session s = examples::openSession(examples::modelPath(argc, argv, "e2_array_structures"),
                                        examples::deviceOf(argc, argv));
  std::vector<float> x(18);
  for (int i = 0; i < 18; ++i)
    x[i] = static_cast<float>(i);
  auto out = examples::run(s, "predict", {{"input_x", rt::Tensor::of<float>({3, 2, 3}, x)}});
  const rt::Tensor &x2 = out.at("x2");
  std::printf("x2 (shape %s):\n", rt::shapeString(x2.shape()).c_str());
  for (int64_t r = 0; r < x2.shape()[0]; ++r) {
    std::printf(" [");
    for (int64_t c = 0; c < 6; ++c)
      std::printf(c ? " %g" : "%g", x2.data<float>()[r * 6 + c]);
    std::printf("]\n");
  }
  examples::print("col_sum  = ", out.at("col_sum"));
  examples::print("col_mean = ", out.at("col_mean"));
  std::printf("flat has shape %s\n", rt::shapeString(out.at("flat").shape()).c_str());
  return 0;
}
