"""Errors as nncc.Error subclasses, with the runtime's and compiler's messages
(the same the CLI prints), and the variables unchanged by a refused run."""
import numpy as np
import pytest

import nncc


def _model():
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=(None, 3), name="x")
    w = g.variable(np.ones((3, 2), np.float32), name="w")
    loss = nncc.reduce_mean(nncc.square(x @ w), name="loss")
    step = nncc.train.GradientDescentOptimizer(0.1).minimize(loss)
    return g, x, w, loss, step


def test_wrong_feed_shape_is_invalid_argument_and_changes_nothing():
    g, x, w, loss, step = _model()
    sess = nncc.Session(g)
    sess.run(step, {x: np.ones((2, 3))})
    before = sess.variable("w").copy()
    with pytest.raises(nncc.InvalidArgument) as e:
        sess.run(step, {x: np.ones((2, 4))})
    assert "'x'" in str(e.value) and "(2, 4)" in str(e.value) and "3" in str(e.value)
    assert isinstance(e.value, nncc.Error) and isinstance(e.value, ValueError)
    assert e.value.message == str(e.value)
    with pytest.raises(nncc.InvalidArgument, match="rank"):
        sess.run(step, {x: np.ones(3)})
    np.testing.assert_array_equal(sess.variable("w"), before)


def test_same_message_as_the_cli(run_cpp, tmp_path):
    g, x, w, loss, step = _model()
    sess = nncc.Session(g)
    sess.run(loss, {x: np.ones((1, 3))})
    sess.export(tmp_path / "m.nnx")
    np.save(tmp_path / "bad.npy", np.ones((2, 4), np.float32))
    import subprocess
    from conftest import BUILD
    cli = subprocess.run([str(BUILD / "bin/nncc"), "run", str(tmp_path / "m.nnx"), "-s", "run",
                          "--feed", f"x={tmp_path / 'bad.npy'}"], capture_output=True, text=True)
    assert cli.returncode != 0
    with pytest.raises(nncc.InvalidArgument) as e:
        nncc.load(tmp_path / "m.nnx").run("loss", {"x": np.ones((2, 4), np.float32)})
    assert str(e.value) in cli.stderr


def test_missing_and_unknown_feeds_and_fetches():
    g, x, w, loss, step = _model()
    sess = nncc.Session(g)
    with pytest.raises(nncc.InvalidArgument, match="You must feed a value for placeholder 'x'"):
        sess.run(loss)
    with pytest.raises(nncc.InvalidArgument, match="no placeholder 'q'"):
        sess.run(loss, {x: np.ones((1, 3)), "q": 1.0})
    with pytest.raises(nncc.InvalidArgument, match="only placeholders can be fed"):
        sess.run(loss, {w: np.ones((3, 2))})
    with pytest.raises(nncc.CompileError, match="nope"):
        sess.run("nope", {x: np.ones((1, 3))})
    with pytest.raises(nncc.InvalidArgument, match="cannot fetch"):
        sess.run(3.5)


def test_compile_errors_name_the_node():
    g = nncc.Graph()
    a = g.placeholder(nncc.float32, shape=(None, 3), name="a")
    b = g.placeholder(nncc.float32, shape=(4,), name="b")
    s = nncc.add(a, b, name="s")
    with pytest.raises(nncc.CompileError, match="node 's'.*cannot broadcast"):
        nncc.Session(g).run(s, {a: np.ones((1, 3)), b: np.ones(4)})


def test_graph_builder_refusals():
    g = nncc.Graph()
    with pytest.raises(nncc.InvalidArgument, match="not a dtype|no dtype"):
        g.placeholder("complex64")
    with pytest.raises(nncc.InvalidArgument, match="give the shape"):
        g.variable(nncc.glorot_uniform())
    other = nncc.Graph()
    x = g.placeholder(nncc.float32, name="x")
    y = other.placeholder(nncc.float32, name="y")
    with pytest.raises(nncc.InvalidArgument, match="another graph"):
        x + y
    with pytest.raises(nncc.InvalidArgument):
        nncc.train.GradientDescentOptimizer(0.1).minimize(3.0)


def test_two_training_steps_in_one_run_are_refused():
    g, x, w, loss, step = _model()
    other = nncc.train.GradientDescentOptimizer(0.2).minimize(loss)
    with pytest.raises(nncc.InvalidArgument, match="one training step per run"):
        nncc.Session(g).run([step, other], {x: np.ones((1, 3))})


def test_check_numerics_names_the_op():
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=(None,), name="x")
    y = nncc.log(x, name="logs")
    sess = nncc.Session(g, check_numerics=True)
    with pytest.raises(nncc.InvalidArgument, match="logs"):
        sess.run(y, {x: [-1.0]})
