"""Keras-style models: Sequential, compile, fit with its report and History,
evaluate, predict, predict_classes, weights; fit reproduces the C++ Keras
run's losses with the same seed."""
import re

import numpy as np
import pytest

import nncc
from nncc import keras


def _blobs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[2, 0, 0, 1], [0, 2, 0, -1], [0, 0, 2, 0]], np.float32)
    x = centers[y] + 0.5 * rng.standard_normal((n, 4)).astype(np.float32)
    return x, y


def _model(seed=1, optimizer=None, loss="categorical_crossentropy"):
    model = keras.Sequential([keras.layers.Dense(16, activation="tanh", input_dim=4),
                              keras.layers.Dense(3, activation="softmax")], seed=seed)
    model.compile(optimizer=optimizer or keras.optimizers.SGD(lr=0.1, momentum=0.9), loss=loss)
    return model


def test_fit_evaluate_predict(capfd):
    x, y = _blobs()
    model = _model()
    history = model.fit(x, keras.utils.to_categorical(y, 3), batch_size=32, epochs=3,
                        verbose=1, validation_split=0.1)
    report = capfd.readouterr().out
    assert "Train on 540 samples, validate on 60 samples" in report
    assert "Epoch 3/3" in report
    assert re.search(r"540/540 \[=+\] - .* - loss: [\d.]+ - acc: [\d.]+ - val_loss", report)
    assert isinstance(history, keras.History)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    assert history.epoch == [0, 1, 2]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["acc"][-1] > 0.9
    loss, acc = model.evaluate(x, keras.utils.to_categorical(y, 3))
    assert acc > 0.9 and loss < 0.5
    probs = model.predict(x)
    assert probs.shape == (600, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    classes = model.predict_classes(x)
    np.testing.assert_array_equal(classes, probs.argmax(1))


def test_fit_reports_to_a_redirected_sys_stdout():
    import contextlib
    import io
    x, y = _blobs(200)
    model = _model()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        model.fit(x, keras.utils.to_categorical(y, 3), batch_size=50, epochs=2, verbose=1)
    text = buffer.getvalue()
    assert "Train on 200 samples" in text and "Epoch 2/2" in text and "loss:" in text


def test_same_seed_same_run_and_weights_roundtrip(tmp_path):
    x, y = _blobs()
    y1 = keras.utils.to_categorical(y)
    runs = [_model(seed=4).fit(x, y1, batch_size=50, epochs=2, verbose=0).history["loss"]
            for _ in range(2)]
    assert runs[0] == runs[1]
    other = _model(seed=5).fit(x, y1, batch_size=50, epochs=2, verbose=0).history["loss"]
    assert other != runs[0]

    model = _model(seed=4)
    model.fit(x, y1, batch_size=50, epochs=2, verbose=0)
    model.save_weights(tmp_path / "w.ckpt")
    fresh = _model(seed=9)
    assert not np.allclose(fresh.predict(x), model.predict(x))
    fresh.load_weights(tmp_path / "w.ckpt")
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))
    weights = model.get_weights()
    kernels = [w for name, w in weights.items() if name.endswith("kernel")]
    assert sorted(k.shape for k in kernels) == [(4, 16), (16, 3)]


def test_sparse_labels_adam_rmsprop_and_mse():
    x, y = _blobs()
    for opt in (keras.optimizers.Adam(lr=0.01), "rmsprop", keras.optimizers.SGD(learning_rate=0.1)):
        m = _model(optimizer=opt, loss="sparse_categorical_crossentropy")
        h = m.fit(x, y, batch_size=32, epochs=3, verbose=0)
        assert h.history["loss"][-1] < h.history["loss"][0]
    reg = keras.Sequential([keras.layers.Dense(1, input_dim=4)], seed=2)
    reg.compile(optimizer=keras.optimizers.SGD(lr=0.05), loss="mse")
    target = (x @ np.array([1, -2, 0.5, 3], np.float32) + 1).reshape(-1, 1)
    h = reg.fit(x, target, batch_size=20, epochs=20, verbose=0)
    assert h.history["loss"][-1] < 1e-3
    assert isinstance(reg.evaluate(x, target), float)


def test_conv_model_builds_and_trains():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 8, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int32)
    m = keras.Sequential([keras.layers.Conv2D(4, 3, activation="relu", padding="same",
                                              input_shape=(8, 8, 1)),
                          keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                          keras.layers.Dense(2, activation="softmax")], seed=1)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    h = m.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2 and m.predict(x).shape == (64, 2)


def test_keras_errors():
    x, y = _blobs(60)
    m = keras.Sequential([keras.layers.Dense(3, activation="softmax", input_dim=4)])
    with pytest.raises(nncc.InvalidArgument, match="compile the model first"):
        m.fit(x, y)
    with pytest.raises(nncc.InvalidArgument, match="unknown activation"):
        keras.layers.Dense(3, activation="swish")
    with pytest.raises(nncc.InvalidArgument, match="unknown optimizer"):
        m.compile(optimizer="adagrad", loss="mse")
    with pytest.raises(nncc.CompileError, match="hinge"):
        m.compile(optimizer="sgd", loss="hinge")
    m.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(nncc.InvalidArgument, match="x"):
        m.fit(x[:, :3], keras.utils.to_categorical(y, 3), verbose=0)


def test_fit_reproduces_the_cpp_keras_run(e5_cpp, fashion):
    """E5's C++ run and the same model from Python, 2 epochs, seed 123: the
    losses agree to the 4 digits Keras prints."""
    cpp = e5_cpp
    printed = re.findall(r"- loss: ([\d.]+) - acc: [\d.]+ - val_loss: ([\d.]+)", cpp)
    (xtr, ytr), _ = nncc.data.read_mnist(fashion)
    model = keras.Sequential([keras.layers.Dense(50, activation="tanh", input_dim=784),
                              keras.layers.Dense(50, activation="tanh"),
                              keras.layers.Dense(10, activation="softmax")], seed=123)
    model.compile(optimizer=keras.optimizers.SGD(lr=0.001, decay=1e-7, momentum=0.9),
                  loss="categorical_crossentropy")
    h = model.fit(xtr, keras.utils.to_categorical(ytr, 10), batch_size=64, epochs=2, verbose=0,
                  validation_split=0.1).history
    ours = [("%.4f" % l, "%.4f" % v) for l, v in zip(h["loss"], h["val_loss"])]
    assert ours == printed and len(ours) == 2
