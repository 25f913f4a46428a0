// Convolution ops: 2-D convolution of NHWC images with HWIO filters
// (TensorFlow's layouts) and its two gradients.
#ifndef NNCC_NN_CONV_OPS_TD
#define NNCC_NN_CONV_OPS_TD

include "NNBase.td"

// A window sliding over the rows and columns of NHWC images: strides and
// dilations [rows, columns], TensorFlow's padding ("SAME": out = ceil(in /
// stride), the odd padding row or column after; "VALID": no padding).
class NN_WindowOp<string mnemonic, list<Trait> traits, dag operands, dag sizes = (ins)>
    : NN_InferredOp<mnemonic, !listconcat([Pure], traits)> {
  let arguments = !con(operands, sizes,
                       (ins DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                            DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                            DefaultValuedAttr<StrAttr, "\"VALID\"">:$padding));
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def NN_Conv2DOp : NN_WindowOp<"conv2d",
    [NN_Contraction, DeclareOpInterfaceMethods<NN_GradientOpInterface>],
    (ins NN_FloatTensor:$x, NN_FloatTensor:$filter)> {
  let summary = "2-D convolution: x [N, H, W, C] with filter [KH, KW, C, F] -> [N, OH, OW, F]";
}

def NN_Conv2DBackpropInputOp : NN_WindowOp<"conv2d_backprop_input", [NN_Reduction],
    (ins NN_FloatTensor:$dy, NN_FloatTensor:$filter), (ins DenseI64ArrayAttr:$input_size)> {
  let summary = "the gradient of conv2d with respect to x [N, H, W, C], `input_size` = [H, W]";
}

def NN_Conv2DBackpropFilterOp : NN_WindowOp<"conv2d_backprop_filter", [NN_Reduction],
    (ins NN_FloatTensor:$x, NN_FloatTensor:$dy), (ins DenseI64ArrayAttr:$filter_size)> {
  let summary = "the gradient of conv2d with respect to its filter [KH, KW, C, F], "
                "`filter_size` = [KH, KW]";
}

// Pooling: the window's max or mean per channel, `ksize` [rows, columns];
// the padding is never part of a window (TensorFlow's: the mean divides by
// the elements inside the image).
def NN_MaxPoolOp : NN_WindowOp<"max_pool",
    [NN_Reduction, DeclareOpInterfaceMethods<NN_GradientOpInterface>],
    (ins NN_FloatTensor:$x), (ins DenseI64ArrayAttr:$ksize)> {
  let summary = "the max of each window of x [N, H, W, C] (NaN wins)";
}

def NN_AvgPoolOp : NN_WindowOp<"avg_pool",
    [NN_Reduction, DeclareOpInterfaceMethods<NN_GradientOpInterface>],
    (ins NN_FloatTensor:$x), (ins DenseI64ArrayAttr:$ksize)> {
  let summary = "the mean of each window of x [N, H, W, C], padding excluded";
}

def NN_MaxPoolGradOp : NN_WindowOp<"max_pool_grad", [NN_Reduction],
    (ins NN_FloatTensor:$x, NN_FloatTensor:$y, NN_FloatTensor:$dy),
    (ins DenseI64ArrayAttr:$ksize)> {
  let summary = "the gradient of max_pool: dy to the first position of each window "
                "holding its max y";
}

def NN_AvgPoolGradOp : NN_WindowOp<"avg_pool_grad", [NN_Reduction],
    (ins NN_FloatTensor:$dy), (ins DenseI64ArrayAttr:$ksize, DenseI64ArrayAttr:$input_size)> {
  let summary = "the gradient of avg_pool: dy spread evenly over each window's elements";
}

#endif // NNCC_NN_CONV_OPS_TD
