"""Keras layers with Keras's arguments, as nncc's C++ Sequential takes them."""
from .. import _compiler
from ..errors import InvalidArgument

_k = _compiler.keras


def _activation(a):
    if a is None or a == "linear":
        return ""
    if a in ("tanh", "sigmoid", "relu", "softmax"):
        return a
    raise InvalidArgument(f"unknown activation {a!r} (tanh, sigmoid, relu, softmax, linear)")


class Layer:
    """A layer of a Sequential model; _cpp(model) gives the C++ API's layer."""

    def _cpp(self, model):
        raise NotImplementedError


class Dense(Layer):
    def __init__(self, units, activation=None, input_dim=None, input_shape=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros"):
        self.units = int(units)
        self.activation = _activation(activation)
        if input_shape is not None:
            input_dim = input_shape[-1]
        self.input_dim = int(input_dim or 0)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def _cpp(self, model):
        return _k.Dense(self.units, self.activation, self.input_dim,
                        model._initializer(self.kernel_initializer, default="glorot_uniform"),
                        model._initializer(self.bias_initializer, default="zeros"))


class Conv2D(Layer):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", activation=None,
                 input_shape=None):
        self.args = (int(filters), _pair(kernel_size), _activation(activation), _pair(strides),
                     padding.lower(), list(input_shape or []))

    def _cpp(self, model):
        return _k.Conv2D(*self.args)


def _pair(v):
    return [int(v)] * 2 if isinstance(v, int) else [int(d) for d in v]


class MaxPooling2D(Layer):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid"):
        self.args = (_pair(pool_size), _pair(strides) if strides else [], padding.lower())

    def _cpp(self, model):
        return _k.MaxPooling2D(*self.args)


class AveragePooling2D(MaxPooling2D):
    def _cpp(self, model):
        return _k.AveragePooling2D(*self.args)


class Flatten(Layer):
    def _cpp(self, model):
        return _k.Flatten()


class GlobalAveragePooling2D(Layer):
    def _cpp(self, model):
        return _k.GlobalAveragePooling2D()


class Dropout(Layer):
    def __init__(self, rate):
        self.rate = float(rate)

    def _cpp(self, model):
        return _k.Dropout(self.rate)


class BatchNormalization(Layer):
    def __init__(self, momentum=0.99, epsilon=1e-3):
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def _cpp(self, model):
        return _k.BatchNormalization(self.momentum, self.epsilon)
