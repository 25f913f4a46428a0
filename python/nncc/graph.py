"""TF1-style graphs over the C++ graph builder (compiler/frontend/Graph.h).

    g = nncc.Graph()
    with g.as_default():
        x = nncc.placeholder(nncc.float32, shape=None, name="x")
        w = nncc.Variable(2.0, name="weight")
        z = w * x + 0.7
"""
import contextlib
import threading

import numpy as np

from . import _compiler
from .dtypes import as_dtype, code
from .errors import InvalidArgument

_local = threading.local()


def _stack():
    if not hasattr(_local, "graphs"):
        _local.graphs = []
    return _local.graphs


_default = None


def get_default_graph():
    """The graph of the innermost `with g.as_default()`, else a global one."""
    global _default
    if _stack():
        return _stack()[-1]
    if _default is None:
        _default = Graph()
    return _default


def reset_default_graph():
    global _default
    _default = None


class Tensor:
    """A value of a graph: a placeholder, a variable or an op's result."""

    __array_ufunc__ = None  # numpy_array + tensor is the tensor's __radd__, a graph node

    def __init__(self, graph, output, kind="node"):
        self.graph = graph
        self._out = output
        self.kind = kind  # "node", "placeholder", "variable"

    @property
    def name(self):
        return self._out.name

    @property
    def dtype(self):
        return as_dtype(self._out.dtype)

    @property
    def shape(self):
        """The shape where it is known: a tuple with None for unknown sizes, or None."""
        return self._out.shape

    def get_shape(self):
        return self.shape

    def __repr__(self):
        return f"<nncc.Tensor '{self.name}' shape={self.shape} dtype={self.dtype}>"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def _binary(self, other, fn, reverse=False):
        other = self.graph._as_tensor(other, self.dtype)
        a, b = (other, self) if reverse else (self, other)
        return Tensor(self.graph, fn(a._out, b._out))

    def __add__(self, o):
        return self._binary(o, _compiler.add)

    def __radd__(self, o):
        return self._binary(o, _compiler.add, True)

    def __sub__(self, o):
        return self._binary(o, _compiler.sub)

    def __rsub__(self, o):
        return self._binary(o, _compiler.sub, True)

    def __mul__(self, o):
        return self._binary(o, _compiler.mul)

    def __rmul__(self, o):
        return self._binary(o, _compiler.mul, True)

    def __truediv__(self, o):
        return self._binary(o, _compiler.div)

    def __rtruediv__(self, o):
        return self._binary(o, _compiler.div, True)

    def __matmul__(self, o):
        return self._binary(o, _compiler.matmul)

    def __rmatmul__(self, o):
        return self._binary(o, _compiler.matmul, True)

    def __neg__(self):
        return Tensor(self.graph, _compiler.neg(self._out))

    def __pos__(self):
        return self


class Operation:
    """What sess.run runs for its effect: a training step or the initializer."""

    def __init__(self, graph, kind, name, loss=None, optimizer=None):
        self.graph = graph
        self.kind = kind  # "train", "init"
        self.name = name
        self.loss = loss
        self.optimizer = optimizer

    def __repr__(self):
        return f"<nncc.Operation '{self.name}' ({self.kind})>"


class Initializer:
    """A variable's first value: zeros, ones, a constant or a seeded random one."""

    def __init__(self, kind, shape=None, dtype=None, seed=None, **args):
        self.kind = kind
        self.shape = None if shape is None else _dims(shape)
        self.dtype = dtype
        self.seed = seed
        self.args = args

    def _build(self, graph):
        if self.kind in ("zeros", "ones"):
            return getattr(_compiler, self.kind)()
        if self.kind == "constant":
            values = self.args["values"]
            return _compiler.constant(values, self.shape if len(values) > 1 else [])
        seed = graph._fe.next_seed() if self.seed is None else self.seed
        return getattr(_compiler, self.kind)(seed, *self.args.values())

    def __repr__(self):
        return f"<nncc.Initializer {self.kind} shape={self.shape}>"


def _dims(shape):
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    return [-1 if d is None else int(d) for d in shape]


class Graph:
    """A model being built; `nncc.Session(g)` compiles and runs it."""

    def __init__(self, name="model", seed=0):
        self._name = name
        self._fe = _compiler.Graph(name, seed)
        self._tensors = []
        self.version = 0  # grows with every change (sessions recompile)

    def _fresh(self, name, prefix):
        return self._fe.unique_name(name if name else prefix)

    def _add(self, output, kind="node"):
        self.version += 1
        t = Tensor(self, output, kind)
        self._tensors.append(t)
        return t

    @contextlib.contextmanager
    def as_default(self):
        _stack().append(self)
        try:
            yield self
        finally:
            _stack().pop()

    def set_random_seed(self, seed):
        """The seed of the initializers made from now on (before any is made)."""
        if self._fe.variables:
            raise InvalidArgument("set_random_seed: the graph has variables already")
        self._fe = _compiler.Graph(self._name, int(seed))

    def placeholder(self, dtype, shape=None, name=None):
        """A value fed at run time; shape None: any shape, None in it: any size."""
        out = self._fe.placeholder(self._fresh(name, "Placeholder"), code(dtype), _dims(shape))
        return self._add(out, "placeholder")

    def variable(self, initial_value, name=None, dtype=None, shape=None, trainable=True):
        """A variable kept by the session: initial_value an Initializer (nncc.zeros(shape),
        nncc.random_normal(shape), ...), a number or an array."""
        if isinstance(initial_value, Initializer):
            init = initial_value
            dims = _dims(shape) if shape is not None else init.shape
            if dims is None:
                raise InvalidArgument("variable: give the shape (of the initializer or shape=)")
            dtype = dtype or init.dtype or "float32"
        else:
            value = np.asarray(initial_value)
            dtype = dtype or (value.dtype if value.dtype.kind != "f" else "float32")
            dims = _dims(shape) if shape is not None else list(value.shape)
            init = Initializer("constant", dims, values=[float(v) for v in value.ravel()])
        out = self._fe.variable(self._fresh(name, "Variable"), dims, init._build(self),
                                code(dtype), not trainable)
        return self._add(out, "variable")

    def constant(self, value, dtype=None, name=None):
        out = self._fe.constant(value, None if dtype is None else code(dtype), name or "")
        return self._add(out)

    def _as_tensor(self, value, dtype=None):
        """A tensor of this graph: tensors as they are, numbers and arrays as constants."""
        if isinstance(value, Tensor):
            if value.graph is not self:
                raise InvalidArgument(f"{value.name} is of another graph")
            return value
        if isinstance(value, (int, float, np.number)) and np.ndim(value) == 0:
            return self._add(self._fe.scalar(float(value), code(dtype or "float32")))
        return self.constant(np.asarray(value), dtype)

    @property
    def variables(self):
        return list(self._fe.variables)

    def as_pbtxt(self):
        """The graph as graph.proto text (what `nncc compile` reads)."""
        return self._fe.to_pbtxt()


def _graph_of(*values):
    for v in values:
        if isinstance(v, Tensor):
            return v.graph
        if isinstance(v, (list, tuple)):
            g = _graph_of(*v)
            if g is not None:
                return g
    return get_default_graph()


# TF1's module-level builders, on the default graph.
def placeholder(dtype, shape=None, name=None):
    return get_default_graph().placeholder(dtype, shape, name)


def Variable(initial_value, name=None, dtype=None, shape=None, trainable=True):  # noqa: N802
    return get_default_graph().variable(initial_value, name, dtype, shape, trainable)


def constant(value, dtype=None, name=None):
    return get_default_graph().constant(value, dtype, name)


def set_random_seed(seed):
    get_default_graph().set_random_seed(seed)


def global_variables_initializer():
    """An op that gives every variable its initial value again (sessions start with them)."""
    return Operation(get_default_graph(), "init", "init")


# Initializers (tf.zeros, tf.random_normal, ... as a variable's initial value).
def zeros(shape, dtype="float32"):
    return Initializer("zeros", shape, dtype)


def ones(shape, dtype="float32"):
    return Initializer("ones", shape, dtype)


def random_normal(shape, mean=0.0, stddev=1.0, seed=None):
    return Initializer("random_normal", shape, "float32", seed, mean=mean, stddev=stddev)


def random_uniform(shape, minval=0.0, maxval=1.0, seed=None):
    return Initializer("random_uniform", shape, "float32", seed, minval=minval, maxval=maxval)


def glorot_uniform(shape=None, seed=None):
    return Initializer("glorot_uniform", shape, "float32", seed)
