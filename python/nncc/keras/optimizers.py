"""Keras optimizers (Keras 2's arguments: lr or learning_rate, decay, momentum)."""
from .. import _compiler

_k = _compiler.keras


def _lr(lr, learning_rate, default):
    return float(learning_rate if learning_rate is not None else lr if lr is not None else default)


class SGD:
    def __init__(self, lr=None, momentum=0.0, decay=0.0, nesterov=False, learning_rate=None):
        self._cpp = _k.SGD(_lr(lr, learning_rate, 0.01), float(momentum), float(decay),
                           bool(nesterov))


class Adam:
    def __init__(self, lr=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0,
                 learning_rate=None):
        self._cpp = _k.Adam(_lr(lr, learning_rate, 0.001), float(beta_1), float(beta_2),
                            float(epsilon), float(decay))


class RMSprop:
    def __init__(self, lr=None, rho=0.9, momentum=0.0, epsilon=1e-7, decay=0.0,
                 learning_rate=None):
        self._cpp = _k.RMSprop(_lr(lr, learning_rate, 0.001), float(rho), float(momentum),
                               float(epsilon), float(decay))


def get(optimizer):
    """An optimizer object from itself or its name ("sgd", "adam", "rmsprop")."""
    from ..errors import InvalidArgument
    if isinstance(optimizer, str):
        table = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}
        if optimizer.lower() not in table:
            raise InvalidArgument(f"unknown optimizer {optimizer!r} (sgd, adam, rmsprop)")
        return table[optimizer.lower()]()
    if not hasattr(optimizer, "_cpp"):
        raise InvalidArgument(f"not an optimizer: {optimizer!r}")
    return optimizer
