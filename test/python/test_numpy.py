"""NumPy in and out: no copy where the layout allows, one conversion where it
does not, dtype rules, and the fetched arrays owning the runtime's memory."""
import gc

import numpy as np
import pytest

import nncc
from nncc import _runtime


def test_c_contiguous_matching_feeds_are_not_copied():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert _runtime.feed_address(a, "f32") == a.ctypes.data
    i = np.arange(5, dtype=np.int64)
    assert _runtime.feed_address(i, "i64") == i.ctypes.data
    # Another dtype, a strided view or Fortran order: converted once.
    assert _runtime.feed_address(a.astype(np.float64), "f32") != a.ctypes.data
    assert _runtime.feed_address(a[:, ::2], "f32") != a.ctypes.data
    f = np.asfortranarray(a)
    assert _runtime.feed_address(f, "f32") != f.ctypes.data


def _graph():
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=(None, 4), name="x")
    return g, x, nncc.reduce_sum(x * 2.0, axis=1, name="s"), x * 1.0


@pytest.mark.parametrize("make", [
    lambda a: a,                                  # C-contiguous float32
    lambda a: np.asfortranarray(a),               # Fortran order
    lambda a: np.repeat(a, 2, axis=1)[:, ::2],    # a strided view
    lambda a: a.astype(np.float64),               # float64 into float32
    lambda a: a.astype(np.int64),                 # integers into float32
    lambda a: a.tolist(),                         # nested lists
    lambda a: a.astype(">f4"),                    # big-endian
])
def test_layouts_and_dtypes_give_the_same_result(make):
    g, x, s, _ = _graph()
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(nncc.Session(g).run(s, {x: make(a)}), (a * 2).sum(1))


def test_fetches_are_arrays_over_the_runtime_memory():
    g, x, s, y = _graph()
    sess = nncc.Session(g)
    a = np.ones((2, 4), np.float32)
    out = sess.run(y, {x: a})
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (2, 4)
    assert not out.flags.owndata and out.flags.c_contiguous and out.flags.writeable
    assert type(out.base).__name__ == "PyCapsule"
    again = sess.run(y, {x: a * 3})
    del a
    gc.collect()
    np.testing.assert_array_equal(out, np.ones((2, 4)))  # its own memory, not reused
    np.testing.assert_array_equal(again, np.full((2, 4), 3.0))
    scalar = sess.run(nncc.reduce_sum(y), {x: np.ones((1, 4))})
    assert scalar.shape == () and scalar == 4.0


def test_empty_batches():
    g, x, s, _ = _graph()
    out = nncc.Session(g).run(s, {x: np.zeros((0, 4), np.float32)})
    assert out.shape == (0,)


def test_float_into_integer_placeholder_is_refused():
    g = nncc.Graph()
    y = g.placeholder(nncc.int32, shape=(None,), name="y")
    h = nncc.one_hot(y, 3)
    sess = nncc.Session(g)
    np.testing.assert_array_equal(sess.run(h, {y: np.array([1], np.int64)}), [[0, 1, 0]])
    np.testing.assert_array_equal(sess.run(h, {y: [2]}), [[0, 0, 1]])
    with pytest.raises(nncc.InvalidArgument, match="feed 'y': expected i32, got an array of float64"):
        sess.run(h, {y: np.array([1.5])})
    with pytest.raises(nncc.InvalidArgument, match="feed 'y'"):
        sess.run(h, {y: [1.5]})
    with pytest.raises(nncc.InvalidArgument, match="cannot be read as a number array"):
        sess.run(h, {y: ["a"]})


def test_float64_graphs():
    g = nncc.Graph()
    z = g.placeholder(nncc.float64, shape=(None,), name="z")
    t = nncc.tanh(z)
    v = np.linspace(-3, 3, 7)
    out = nncc.Session(g).run(t, {z: v})
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, np.tanh(v), rtol=1e-12)


def test_to_categorical_and_dataset_arrays():
    onehot = nncc.keras.utils.to_categorical(np.array([2, 0, 1], np.uint8))
    np.testing.assert_array_equal(onehot, np.eye(3, dtype=np.float32)[[2, 0, 1]])
    assert onehot.dtype == np.float32
