"""The op set as functions (tf.reduce_sum, tf.tanh, tf.nn.softmax, ...); each
takes tensors, numbers or arrays and an optional `name` for the result's node."""
from . import _compiler
from .dtypes import code
from .graph import Tensor, _graph_of


def _node(fn, inputs, name=None, *args):
    g = _graph_of(*inputs)
    outs = [g._as_tensor(x)._out for x in inputs]
    out = fn(*outs, *args)
    if name:
        out = g._fe.name(out, g._fresh(name, name))
    return g._add(out)


def _axes(axis):
    if axis is None:
        return []
    return [int(axis)] if isinstance(axis, int) else [int(a) for a in axis]


def add(x, y, name=None):
    return _node(_compiler.add, [x, y], name)


def subtract(x, y, name=None):
    return _node(_compiler.sub, [x, y], name)


def multiply(x, y, name=None):
    return _node(_compiler.mul, [x, y], name)


def divide(x, y, name=None):
    return _node(_compiler.div, [x, y], name)


def negative(x, name=None):
    return _node(_compiler.neg, [x], name)


def square(x, name=None):
    return _node(_compiler.square, [x], name)


def exp(x, name=None):
    return _node(_compiler.exp, [x], name)


def log(x, name=None):
    return _node(_compiler.log, [x], name)


def tanh(x, name=None):
    return _node(_compiler.tanh, [x], name)


def sqrt(x, name=None):
    return _node(_compiler.sqrt, [x], name)


def sigmoid(x, name=None):
    return _node(_compiler.sigmoid, [x], name)


def relu(x, name=None):
    return _node(_compiler.relu, [x], name)


def matmul(a, b, transpose_a=False, transpose_b=False, name=None):
    return _node(_compiler.matmul, [a, b], name, transpose_a, transpose_b)


def bias_add(x, bias, name=None):
    return _node(_compiler.bias_add, [x, bias], name)


def softmax(logits, axis=-1, name=None):
    return _node(_compiler.softmax, [logits], name, axis)


def log_softmax(logits, axis=-1, name=None):
    return _node(_compiler.log_softmax, [logits], name, axis)


def softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Per example: -sum(labels * log_softmax(logits)); labels one-hot or class indices."""
    return _node(_compiler.softmax_cross_entropy, [logits, labels], name)


def reshape(tensor, shape, name=None):
    return _node(_compiler.reshape, [tensor], name, [int(d) for d in shape])


def squeeze(x, axis=None, name=None):
    return _node(_compiler.squeeze, [x], name, _axes(axis))


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    return _node(_compiler.reduce_sum, [input_tensor], name, _axes(axis), keepdims)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    return _node(_compiler.reduce_mean, [input_tensor], name, _axes(axis), keepdims)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    return _node(_compiler.reduce_max, [input_tensor], name, _axes(axis), keepdims)


def argmax(input, axis, name=None):  # noqa: A002
    return _node(_compiler.argmax, [input], name, int(axis))


def one_hot(indices, depth, dtype="float32", name=None):
    return _node(_compiler.one_hot, [indices], name, int(depth), code(dtype))


def cast(x, dtype, name=None):
    return _node(_compiler.cast, [x], name, code(dtype))


def equal(x, y, name=None):
    return _node(_compiler.equal, [x, y], name)


def conv2d(input, filter, strides=(1, 1), padding="VALID", dilations=(1, 1), name=None):  # noqa: A002
    return _node(_compiler.conv2d, [input, filter], name, _hw(strides), padding.upper(),
                 _hw(dilations))


def max_pool(value, ksize, strides, padding="VALID", name=None):
    return _node(_compiler.max_pool, [value], name, _hw(ksize), _hw(strides), padding.upper())


def avg_pool(value, ksize, strides, padding="VALID", name=None):
    return _node(_compiler.avg_pool, [value], name, _hw(ksize), _hw(strides), padding.upper())


def dropout(x, rate, seed=0, name=None):
    return _node(_compiler.dropout, [x], name, float(rate), int(seed))


def _hw(v):
    """[rows, columns] from TF's [1, r, c, 1] or (r, c) or r."""
    v = [int(v)] * 2 if isinstance(v, int) else [int(d) for d in v]
    return v[1:3] if len(v) == 4 else v


def gradients(ys, xs, name=None):
    """d(ys)/d(x) for each x of xs (tf.gradients): a list of tensors."""
    single = isinstance(xs, Tensor)
    xs = [xs] if single else list(xs)
    g = _graph_of(ys)
    outs = _compiler.gradients(g._as_tensor(ys)._out, [x._out for x in xs])
    return [g._add(o) for o in outs]


def mean_squared_error(labels, predictions, name=None):
    return _node(_compiler.mean_squared_error, [predictions, labels], name)


class nn:  # noqa: N801 - tf.nn
    softmax = staticmethod(softmax)
    log_softmax = staticmethod(log_softmax)
    relu = staticmethod(relu)
    sigmoid = staticmethod(sigmoid)
    tanh = staticmethod(tanh)
    bias_add = staticmethod(bias_add)
    softmax_cross_entropy_with_logits = staticmethod(softmax_cross_entropy_with_logits)
    conv2d = staticmethod(conv2d)
    max_pool = staticmethod(max_pool)
    avg_pool = staticmethod(avg_pool)
    dropout = staticmethod(dropout)


class losses:  # noqa: N801 - tf.losses: the mean over the batch
    @staticmethod
    def softmax_cross_entropy(onehot_labels, logits, name=None):
        return reduce_mean(softmax_cross_entropy_with_logits(onehot_labels, logits), name=name)

    @staticmethod
    def sparse_softmax_cross_entropy(labels, logits, name=None):
        return reduce_mean(softmax_cross_entropy_with_logits(labels, logits), name=name)

    @staticmethod
    def mean_squared_error(labels, predictions, name=None):
        return mean_squared_error(labels, predictions, name=name)
