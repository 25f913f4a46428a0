"""tf.train: optimizers whose minimize(loss) makes a training step (the
compiler differentiates the graph and adds the update), and Saver."""
from .errors import InvalidArgument
from .graph import Operation, Tensor


class Optimizer:
    def __init__(self, kind, name, **settings):
        self._kind = kind
        self._name = name
        self._settings = settings

    def minimize(self, loss, name=None):
        """The step that updates every trainable variable to lower `loss`."""
        if not isinstance(loss, Tensor):
            raise InvalidArgument(f"minimize: the loss must be a tensor, got {loss!r}")
        optimizer = {"kind": self._kind, **self._settings}
        g = loss.graph
        return Operation(g, "train", g._fresh(name, self._name), loss, optimizer)


class GradientDescentOptimizer(Optimizer):
    def __init__(self, learning_rate, name="GradientDescent"):
        super().__init__("sgd", name, learning_rate=learning_rate)


class MomentumOptimizer(Optimizer):
    def __init__(self, learning_rate, momentum, use_nesterov=False, name="Momentum"):
        super().__init__("sgd", name, learning_rate=learning_rate, momentum=momentum,
                         nesterov=use_nesterov)


class AdamOptimizer(Optimizer):
    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, name="Adam"):
        super().__init__("adam", name, learning_rate=learning_rate, beta1=beta1, beta2=beta2,
                         epsilon=epsilon)


class RMSPropOptimizer(Optimizer):
    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, name="RMSProp"):
        super().__init__("rmsprop", name, learning_rate=learning_rate, rho=decay,
                         momentum=momentum, epsilon=epsilon)


class Saver:
    """Checkpoints of a session's variables (proto/checkpoint.proto, as `nncc run`)."""

    def save(self, sess, save_path):
        sess.save(save_path)
        return save_path

    def restore(self, sess, save_path):
        sess.restore(save_path)
