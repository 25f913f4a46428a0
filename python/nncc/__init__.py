"""nncc from Python: TF1-style graphs and sessions, Keras-style models, and the
runtime alone for compiled .nnx files, with NumPy arrays in and out.

    import nncc
    g = nncc.Graph()
    with g.as_default():
        x = nncc.placeholder(nncc.float32, shape=None, name="x")
        w = nncc.Variable(2.0, name="weight")
        b = nncc.Variable(0.7, name="bias")
        z = w * x + b
    with nncc.Session(g) as sess:
        print(sess.run(z, feed_dict={x: [1.0, 2.0, 3.0]}))   # [2.7 4.7 6.7]

`nncc.load("model.nnx")` and `nncc.errors` load the runtime only; the
compiler (LLVM, MLIR) is loaded on first use of the graph or Keras API.
"""
import importlib

from . import _runtime
from .dtypes import as_dtype, bool_, float32, float64, int32, int64
from .errors import CompileError, DataLoss, Error, InvalidArgument, NotFound, Unavailable
from .session import Session, load

__version__ = _runtime.version

# The graph-building API, loaded with the compiler on first use.
_LAZY = {
    "Graph": "graph", "Tensor": "graph", "Operation": "graph", "Initializer": "graph",
    "placeholder": "graph", "Variable": "graph", "constant": "graph",
    "get_default_graph": "graph", "reset_default_graph": "graph",
    "set_random_seed": "graph", "global_variables_initializer": "graph",
    "zeros": "graph", "ones": "graph", "random_normal": "graph", "random_uniform": "graph",
    "glorot_uniform": "graph",
    "add": "ops", "subtract": "ops", "multiply": "ops", "divide": "ops", "negative": "ops",
    "square": "ops", "exp": "ops", "log": "ops", "tanh": "ops", "sqrt": "ops",
    "sigmoid": "ops", "relu": "ops", "matmul": "ops", "softmax": "ops", "reshape": "ops",
    "squeeze": "ops", "reduce_sum": "ops", "reduce_mean": "ops", "reduce_max": "ops",
    "argmax": "ops", "one_hot": "ops", "cast": "ops", "equal": "ops", "gradients": "ops",
    "nn": "ops", "losses": "ops",
}
_MODULES = {"ops", "layers", "train", "keras", "graph"}


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module("." + name, __name__)
    if name in _LAZY:
        return getattr(importlib.import_module("." + _LAZY[name], __name__), name)
    raise AttributeError(f"module 'nncc' has no attribute '{name}'")


def __dir__():
    return sorted(list(globals()) + list(_LAZY) + list(_MODULES))


data = _runtime.data
