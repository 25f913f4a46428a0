"""keras.models.Sequential over nncc's C++ Sequential: compile builds the graph
(train, evaluate and predict signatures) and compiles it once; fit, evaluate
and predict run the compiled code with the GIL released."""
import numpy as np

from .. import _compiler
from ..errors import InvalidArgument
from . import optimizers as _optimizers
from .layers import Layer


class History:
    """What fit returns: history["loss"], ["acc"], ["val_loss"], ["val_acc"] per epoch."""

    def __init__(self, history):
        self.history = history
        self.epoch = list(range(len(history.get("loss", []))))

    def __repr__(self):
        return f"<nncc.keras.History epochs={len(self.epoch)} keys={list(self.history)}>"


class _Seeds:
    """next_seed() for initializers without a seed: the model's seed and a counter."""

    def __init__(self, seed):
        self.seed, self.count = seed, 0

    def next_seed(self):
        self.count += 1
        return self.seed + 1000 + self.count


class Sequential:
    def __init__(self, layers=None, seed=0, name="sequential"):
        self.seed = int(seed)
        self.name = name
        self.layers = []
        self._model = None
        self._seeds = _Seeds(self.seed)
        self._fe = self._seeds  # Initializer._build(graph) reads graph._fe.next_seed()
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if not isinstance(layer, Layer):
            raise InvalidArgument(f"Sequential.add: not a layer: {layer!r}")
        self.layers.append(layer)
        self._model = None

    def _initializer(self, init, default):
        from ..graph import Initializer
        if init is None or init == default:
            return None
        if isinstance(init, Initializer):
            return init._build(self)
        table = {"zeros": _compiler.zeros, "ones": _compiler.ones,
                 "glorot_uniform": lambda: _compiler.glorot_uniform(self._seeds.next_seed())}
        if init not in table:
            raise InvalidArgument(f"unknown initializer {init!r} (glorot_uniform, zeros, ones)")
        return table[init]()

    def compile(self, optimizer="sgd", loss="categorical_crossentropy", metrics=None,
                device="cpu", check_numerics=False):
        """Builds the graph and compiles it (loss: categorical_crossentropy,
        sparse_categorical_crossentropy or mse)."""
        model = _compiler.keras.Sequential(self.seed, self.name)
        for layer in self.layers:
            model.add(layer._cpp(self))
        model.compile(_optimizers.get(optimizer)._cpp, loss, list(metrics or []), device,
                      check_numerics)
        self._model = model
        self.loss = loss

    def _compiled(self):
        if self._model is None:
            raise InvalidArgument("compile the model first (model.compile(...))")
        return self._model

    def _labels(self, y):
        y = np.asarray(y)
        return y if y.dtype.kind == "f" else y.astype(np.int32, copy=False)

    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, validation_split=0.0, shuffle=True):
        """Trains; prints Keras's report (verbose=1); returns a History."""
        history = self._compiled().fit(x, self._labels(y), int(batch_size), int(epochs),
                                       int(verbose), float(validation_split), bool(shuffle))
        return History(history)

    def evaluate(self, x, y, batch_size=1024, verbose=0):
        """[loss, accuracy] over (x, y) (the loss alone for mse)."""
        out = self._compiled().evaluate(x, self._labels(y), int(batch_size))
        return out[0] if self.loss == "mse" else out

    def predict(self, x, batch_size=1024):
        return self._compiled().predict(x, int(batch_size), False)

    def predict_classes(self, x, batch_size=1024):
        return self._compiled().predict(x, int(batch_size), True)

    def save_weights(self, path):
        self._compiled().save(str(path))

    def load_weights(self, path):
        self._compiled().restore(str(path))

    def get_weights(self):
        """The variables' values by name (kernels, biases, optimizer slots)."""
        m = self._compiled()
        return {name: m.variable(name) for name in m.variables()}

    def to_pbtxt(self):
        """The model's graph as graph.proto text."""
        return self._compiled().to_pbtxt()
