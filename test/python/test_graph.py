"""TF1-style graphs: placeholders, variables and initializers, operators,
the op set, layers, gradients, optimizers, fetch structures."""
import numpy as np
import pytest

import nncc


def test_operators_and_unknown_shapes():
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=None, name="x")
    w = g.variable(2.0, name="weight")
    b = g.variable(0.7, name="bias")
    z = w * x + b
    y = (1.0 - x) / 2.0 - (-x) * 3
    with nncc.Session(g) as sess:
        assert sess.run(z, feed_dict={x: 1.0}) == pytest.approx(2.7)
        assert sess.run(z, feed_dict={x: 0.6}) == pytest.approx(1.9)
        np.testing.assert_allclose(sess.run(z, {x: [1, 2, 3]}), [2.7, 4.7, 6.7], rtol=1e-6)
        np.testing.assert_allclose(sess.run(y, {x: [[1, 3]]}), [[3, 8]], rtol=1e-6)
    assert z.dtype == nncc.float32 and x.shape is None
    assert w.name == "weight" and x.name == "x"
    text = g.as_pbtxt()  # graph.proto, as `nncc compile` reads it
    assert 'name: "weight"' in text and "unknown_rank: true" in text and 'op: "mul"' in text


def test_matmul_operator_and_fetch_structures():
    g = nncc.Graph()
    with g.as_default():
        a = nncc.placeholder(nncc.float32, shape=(None, 3), name="a")
        m = nncc.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="m")
        p = a @ m
        s = nncc.reduce_sum(p, axis=1, name="s")
    assert p.shape == (None, 2)
    sess = nncc.Session(g)
    feed = {"a": np.ones((2, 3), np.float32)}
    out = sess.run({"p": p, "pair": [s, "s"], "t": (s,)}, feed_dict=feed)
    np.testing.assert_allclose(out["p"], [[6, 9], [6, 9]])
    np.testing.assert_allclose(out["pair"][0], [15, 15])
    np.testing.assert_allclose(out["pair"][1], [15, 15])
    assert isinstance(out["t"], tuple)
    assert sess.run("s:0", {a: np.ones((1, 3))}) == pytest.approx([15])
    # Three kinds of run, three signatures, one executable.
    assert len(sess.signatures) == 2


def test_op_set_against_numpy():
    g = nncc.Graph()
    x = g.placeholder("float32", shape=(2, 3), name="x")
    fns = {
        "square": (nncc.square(x), np.square), "exp": (nncc.exp(x), np.exp),
        "log": (nncc.log(x), np.log), "tanh": (nncc.tanh(x), np.tanh),
        "sqrt": (nncc.sqrt(x), np.sqrt), "sigmoid": (nncc.sigmoid(x), lambda v: 1 / (1 + np.exp(-v))),
        "relu": (nncc.relu(x - 0.5), lambda v: np.maximum(v - 0.5, 0)),
        "softmax": (nncc.softmax(x), lambda v: np.exp(v) / np.exp(v).sum(1, keepdims=True)),
        "mean": (nncc.reduce_mean(x, axis=[0, 1]), np.mean),
        "max": (nncc.reduce_max(x, axis=1, keepdims=True), lambda v: v.max(1, keepdims=True)),
        "argmax": (nncc.argmax(x, axis=1), lambda v: v.argmax(1)),
        "reshape": (nncc.reshape(x, (-1,)), lambda v: v.reshape(-1)),
        "transpose_b": (nncc.matmul(x, x, transpose_b=True), lambda v: v @ v.T),
        "div": (nncc.divide(x, 2.0), lambda v: v / 2), "neg": (nncc.negative(x), np.negative),
    }
    v = np.array([[0.5, 1.0, 2.0], [3.0, 0.25, 1.5]], np.float32)
    out = nncc.Session(g).run({k: t for k, (t, _) in fns.items()}, {x: v})
    for name, (_, ref) in fns.items():
        np.testing.assert_allclose(out[name], ref(v), rtol=2e-6, atol=1e-6, err_msg=name)
    assert out["argmax"].dtype == np.int64


def test_one_hot_cast_equal_and_bool():
    g = nncc.Graph()
    y = g.placeholder(nncc.int32, shape=(None,), name="y")
    h = nncc.one_hot(y, 4)
    e = nncc.equal(nncc.argmax(h, 1), nncc.cast(y, nncc.int64))
    c = nncc.cast(e, nncc.float32)
    out = nncc.Session(g).run([h, e, c], {y: np.array([2, 0, 3], np.int32)})
    np.testing.assert_array_equal(out[0], np.eye(4, dtype=np.float32)[[2, 0, 3]])
    assert out[1].dtype == np.bool_ and out[1].all()
    np.testing.assert_array_equal(out[2], [1, 1, 1])


def test_names_are_unique_and_named_nodes_fetchable():
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=(None,), name="x")
    a = nncc.square(x, name="sq")
    b = nncc.square(x, name="sq")
    assert a.name == "sq" and b.name == "sq_1"
    v1 = g.variable(1.0, name="v")
    v2 = g.variable(2.0, name="v")
    assert v1.name == "v" and v2.name == "v_1"
    out = nncc.Session(g).run(["sq", "sq_1"], {"x": [3.0]})
    assert out == [pytest.approx([9.0]), pytest.approx([9.0])]


def test_seeded_initializers():
    def weights(seed):
        g = nncc.Graph(seed=seed)
        n = g.variable(nncc.random_normal((1000,), mean=1.0, stddev=2.0), name="n")
        u = g.variable(nncc.random_uniform((1000,), minval=-1, maxval=3), name="u")
        gl = g.variable(nncc.glorot_uniform((30, 20)), name="g")
        o = g.variable(nncc.ones((2, 2)), name="o")
        return nncc.Session(g).run([n, u, gl, o])
    a, b, c = weights(1), weights(1), weights(2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    assert abs(a[0].mean() - 1.0) < 0.25 and abs(a[0].std() - 2.0) < 0.25
    assert a[1].min() >= -1 and a[1].max() <= 3 and abs(a[1].mean() - 1) < 0.2
    limit = np.sqrt(6 / (30 + 20))
    assert np.abs(a[2]).max() <= limit and a[2].shape == (30, 20)
    np.testing.assert_array_equal(a[3], np.ones((2, 2)))


def test_gradients_match_calculus():
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=(3,), name="x")
    w = g.variable(np.array([1.0, 2.0, 3.0]), name="w")
    y = nncc.reduce_sum(w * x * x)
    dx, dw = nncc.gradients(y, [x, w])
    v = np.array([0.5, -1.0, 2.0], np.float32)
    gx, gw = nncc.Session(g).run([dx, dw], {x: v})
    np.testing.assert_allclose(gx, 2 * np.array([1, 2, 3]) * v, rtol=1e-6)
    np.testing.assert_allclose(gw, v * v, rtol=1e-6)


def _linreg(optimizer):
    g = nncc.Graph()
    X = g.placeholder(nncc.float32, shape=(None, 1), name="X")
    y = g.placeholder(nncc.float32, shape=(None,), name="y")
    w = g.variable(nncc.zeros((1,)), name="weight")
    b = g.variable(nncc.zeros((1,)), name="bias")
    z = nncc.squeeze(w * X + b, axis=1, name="z_net")
    cost = nncc.reduce_mean(nncc.square(y - z), name="mean_cost")
    return g, X, y, z, cost, optimizer.minimize(cost)


E3_X = np.arange(10, dtype=np.float32).reshape(10, 1)
E3_Y = np.array([1.0, 1.3, 3.1, 2.0, 5.0, 6.3, 6.6, 7.4, 8.0, 9.0], np.float32)


def test_gradient_descent_is_e3():
    g, X, y, z, cost, step = _linreg(nncc.train.GradientDescentOptimizer(0.01))
    sess = nncc.Session(g)
    costs = [sess.run([step, cost], {X: E3_X, y: E3_Y})[1] for _ in range(10)]
    assert costs[0] == pytest.approx(32.431, rel=1e-5)
    assert costs[-1] == pytest.approx(0.48606354, rel=1e-5)
    assert sess.variable("weight")[0] == pytest.approx(1.0273236, rel=1e-6)
    assert sess.run(step, {X: E3_X, y: E3_Y}) is None
    # The initializer op starts over.
    sess.run(nncc.global_variables_initializer())
    assert sess.run(cost, {X: E3_X, y: E3_Y}) == pytest.approx(32.431, rel=1e-5)


@pytest.mark.parametrize("optimizer,expected", [
    (lambda: nncc.train.MomentumOptimizer(0.01, 0.9), None),
    (lambda: nncc.train.AdamOptimizer(0.1), None),
    (lambda: nncc.train.RMSPropOptimizer(0.1), None),
])
def test_other_optimizers_lower_the_cost(optimizer, expected):
    g, X, y, z, cost, step = _linreg(optimizer())
    sess = nncc.Session(g)
    costs = [float(sess.run([step, cost], {X: E3_X, y: E3_Y})[1]) for _ in range(30)]
    assert costs[-1] < 0.1 * costs[0]


def test_momentum_matches_its_recurrence():
    g, X, y, z, cost, step = _linreg(nncc.train.MomentumOptimizer(0.01, 0.9))
    sess = nncc.Session(g)
    w = b = vw = vb = 0.0
    x, t = E3_X[:, 0].astype(np.float64), E3_Y.astype(np.float64)
    for _ in range(5):
        sess.run(step, {X: E3_X, y: E3_Y})
        err = (w * x + b) - t
        gw, gb = 2 * np.mean(err * x), 2 * np.mean(err)
        vw, vb = 0.9 * vw - 0.01 * gw, 0.9 * vb - 0.01 * gb
        w, b = w + vw, b + vb
    assert sess.variable("weight")[0] == pytest.approx(w, rel=1e-4)
    assert sess.variable("bias")[0] == pytest.approx(b, rel=1e-4)


def test_layers_dense_names_variables_and_activation_callables():
    g = nncc.Graph(seed=5)
    x = g.placeholder(nncc.float32, shape=(None, 4), name="x")
    h = nncc.layers.dense(x, 3, activation=nncc.tanh, name="layer1")
    o = nncc.layers.dense(h, 2, activation=lambda t: t * 2.0, name="layer2")
    assert "layer1/kernel" in g.variables and "layer2/bias" in g.variables
    sess = nncc.Session(g)
    v = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    out = sess.run(o, {x: v})
    k1, b1 = sess.variable("layer1/kernel"), sess.variable("layer1/bias")
    k2, b2 = sess.variable("layer2/kernel"), sess.variable("layer2/bias")
    np.testing.assert_allclose(out, 2 * (np.tanh(v @ k1 + b1) @ k2 + b2), rtol=1e-5, atol=1e-6)
    assert h.shape == (None, 3)


def test_conv_pool_flatten_layers():
    g = nncc.Graph(seed=1)
    x = g.placeholder(nncc.float32, shape=(None, 8, 8, 1), name="x")
    c = nncc.layers.conv2d(x, 4, (3, 3), padding="same", activation=nncc.relu, name="c1")
    p = nncc.layers.max_pooling2d(c, (2, 2), (2, 2))
    f = nncc.layers.flatten(p)
    out = nncc.Session(g).run(f, {x: np.ones((2, 8, 8, 1), np.float32)})
    assert out.shape == (2, 4 * 4 * 4) and (out >= 0).all()


def test_default_graph_and_set_random_seed():
    nncc.reset_default_graph()
    x = nncc.placeholder(nncc.float32, shape=(1,), name="x")
    assert nncc.get_default_graph() is x.graph
    g = nncc.Graph()
    with g.as_default():
        assert nncc.get_default_graph() is g
        nncc.set_random_seed(7)
    assert nncc.get_default_graph() is x.graph
    with nncc.Session() as sess:
        assert sess.run(x * 2.0, {x: [4.0]}) == pytest.approx([8.0])


def test_make_callable():
    g, X, y, z, cost, step = _linreg(nncc.train.GradientDescentOptimizer(0.01))
    sess = nncc.Session(g)
    train = sess.make_callable([step, cost], [X, y])
    costs = [float(train(E3_X, E3_Y)[1]) for _ in range(10)]
    assert costs[0] == pytest.approx(32.431, rel=1e-5)
    assert costs[-1] == pytest.approx(0.48606354, rel=1e-5)
    predict = sess.make_callable({"z": z}, [y, X])  # y is not needed: not fed
    assert predict(E3_Y, E3_X[:1])["z"] == pytest.approx([0.19570023], rel=1e-5)
    with pytest.raises(nncc.InvalidArgument, match="expected 2 feeds"):
        predict(E3_X)
    with pytest.raises(nncc.InvalidArgument, match="You must feed"):
        sess.make_callable(z, [])


def test_constants_and_numpy_operands():
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=(None, 3), name="x")
    k = g.constant(np.array([1.0, 2.0, 3.0], np.float32), name="k")
    i = g.constant([[1, 2], [3, 4]], dtype=nncc.int32)
    left = np.array([10.0, 20.0, 30.0], np.float32) + x   # the tensor's __radd__
    right = x * np.array([1.0, 0.0, -1.0])                  # a constant of x's dtype
    assert isinstance(left, nncc.Tensor) and k.name == "k" and i.dtype == nncc.int32
    out = nncc.Session(g).run([left, right, x @ nncc.reshape(k, (3, 1)), i * 2], {x: [[1, 1, 1]]})
    np.testing.assert_array_equal(out[0], [[11, 21, 31]])
    np.testing.assert_array_equal(out[1], [[1, 0, -1]])
    np.testing.assert_array_equal(out[2], [[6]])
    np.testing.assert_array_equal(out[3], [[2, 4], [6, 8]])
    assert out[3].dtype == np.int32


def test_one_training_signature_per_step_whatever_is_fetched():
    g, X, y, z, cost, step = _linreg(nncc.train.MomentumOptimizer(0.01, 0.9))
    sess = nncc.Session(g)
    c0 = sess.run([step, cost], {X: E3_X, y: E3_Y})[1]   # compiles the step with cost
    sess.run(step, {X: E3_X, y: E3_Y})                    # the same signature
    zs = sess.run([step, z], {X: E3_X, y: E3_Y})[1]       # the step again, fetching z too
    c3 = sess.run([step, cost], {X: E3_X, y: E3_Y})[1]   # the earlier run's plan, recompiled
    assert c0 == pytest.approx(32.431, rel=1e-5) and zs.shape == (10,)
    trains = [s for s in sess.signatures if s["updates"]]
    assert len(trains) == 1 and trains[0]["name"] == "Momentum"
    assert {f["name"] for f in trains[0]["fetches"]} >= {"mean_cost", "z_net"}
    # One momentum state for all four steps: the same as four steps of one kind.
    ref, X2, y2, z2, cost2, step2 = _linreg(nncc.train.MomentumOptimizer(0.01, 0.9))
    rs = nncc.Session(ref)
    for _ in range(3):
        rs.run(step2, {X2: E3_X, y2: E3_Y})
    assert c3 == pytest.approx(float(rs.run(cost2, {X2: E3_X, y2: E3_Y})), rel=1e-6)
