"""tf.layers over the C++ layers (compiler/frontend/Layers.h): variables
"<name>/kernel" (glorot_uniform) and "<name>/bias" (zeros)."""
from . import _compiler, ops
from .graph import Initializer, _graph_of

_ACTIVATIONS = {None: "", ops.tanh: "tanh", ops.sigmoid: "sigmoid", ops.relu: "relu",
                ops.softmax: "softmax"}


def _activation(activation):
    """The C++ layer's activation name, or a callable applied after it."""
    if isinstance(activation, str):
        return activation, None
    if activation in _ACTIVATIONS:
        return _ACTIVATIONS[activation], None
    return "", activation


def _init(graph, init):
    return None if init is None else init._build(graph) if isinstance(init, Initializer) else init


def dense(inputs, units, activation=None, name=None, kernel_initializer=None,
          bias_initializer=None):
    g = _graph_of(inputs)
    act, after = _activation(activation)
    out = g._add(_compiler.layers.dense(inputs._out, int(units), act, g._fresh(name, "dense"),
                                        _init(g, kernel_initializer), _init(g, bias_initializer)))
    return after(out) if after else out


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", activation=None,
           name=None):
    g = _graph_of(inputs)
    act, after = _activation(activation)
    out = g._add(_compiler.layers.conv2d(inputs._out, int(filters), ops._hw(kernel_size),
                                         ops._hw(strides), padding, act,
                                         g._fresh(name, "conv2d")))
    return after(out) if after else out


def max_pooling2d(inputs, pool_size, strides, padding="valid", name=None):
    g = _graph_of(inputs)
    return g._add(_compiler.layers.max_pooling2d(inputs._out, ops._hw(pool_size),
                                                 ops._hw(strides), padding,
                                                 g._fresh(name, "max_pooling2d")))


def average_pooling2d(inputs, pool_size, strides, padding="valid", name=None):
    g = _graph_of(inputs)
    return g._add(_compiler.layers.average_pooling2d(inputs._out, ops._hw(pool_size),
                                                     ops._hw(strides), padding,
                                                     g._fresh(name, "average_pooling2d")))


def dropout(inputs, rate=0.5, name=None):
    g = _graph_of(inputs)
    return g._add(_compiler.layers.dropout(inputs._out, float(rate), g._fresh(name, "dropout")))


def batch_normalization(inputs, momentum=0.99, epsilon=1e-3, name=None):
    g = _graph_of(inputs)
    return g._add(_compiler.layers.batch_normalization(inputs._out, momentum, epsilon,
                                                       g._fresh(name, "batch_normalization")))


def flatten(inputs, name=None):
    g = _graph_of(inputs)
    return g._add(_compiler.layers.flatten(inputs._out, g._fresh(name, "flatten")))
