"""The runtime alone: nncc.load of an .nnx (from Session.export and from the
CLI), signatures, checkpoints, devices; and that it loads no compiler."""
import os
import subprocess
import sys

import numpy as np
import pytest

import nncc
from conftest import BUILD, SOURCE


def _e3_session():
    g = nncc.Graph()
    X = g.placeholder(nncc.float32, shape=(None, 1), name="X")
    y = g.placeholder(nncc.float32, shape=(None,), name="y")
    w = g.variable(nncc.zeros((1,)), name="weight")
    b = g.variable(nncc.zeros((1,)), name="bias")
    z = nncc.squeeze(w * X + b, axis=1, name="z_net")
    cost = nncc.reduce_mean(nncc.square(y - z), name="mean_cost")
    step = nncc.train.GradientDescentOptimizer(0.01).minimize(cost)
    return nncc.Session(g), X, y, z, cost, step


X10 = np.arange(10, dtype=np.float32).reshape(10, 1)
Y10 = np.array([1.0, 1.3, 3.1, 2.0, 5.0, 6.3, 6.6, 7.4, 8.0, 9.0], np.float32)


def test_export_then_load_trains_and_predicts(tmp_path):
    sess, X, y, z, cost, step = _e3_session()
    sess.run([step, cost], {X: X10, y: Y10})
    sess.run(z, {X: X10})
    sess.export(tmp_path / "e3.nnx")
    loaded = nncc.load(tmp_path / "e3.nnx")
    names = sorted(s["name"] for s in loaded.signatures)
    assert names == ["GradientDescent", "run"]
    train = [s for s in loaded.signatures if s["updates"]][0]
    assert train["loss"] == "mean_cost" and {"weight", "bias"} <= set(train["updates"])
    assert [f["name"] for f in train["feeds"]] == ["X", "y"]
    assert train["feeds"][0]["shape"] == (-1, 1) and train["feeds"][0]["dtype"] == "f32"
    costs = [float(loaded.run("mean_cost", {"X": X10, "y": Y10}, signature=train["name"]))
             for _ in range(10)]
    assert costs[0] == pytest.approx(32.431, rel=1e-5)
    assert costs[-1] == pytest.approx(0.48606354, rel=1e-5)
    pred = loaded.run("z_net", {"X": X10})  # the signature that fits: the prediction one
    assert pred[0] == pytest.approx(0.19570023, rel=1e-5)
    assert pred[-1] == pytest.approx(9.441613, rel=1e-5)
    everything = loaded.run(None, {"X": X10}, signature="run")
    assert list(everything) == ["z_net"]


def test_load_a_cli_compiled_model_without_the_compiler(tmp_path):
    nnx = tmp_path / "e1.nnx"
    subprocess.run([str(BUILD / "bin/nncc"), "compile",
                    str(SOURCE / "examples/e1_net_input/e1_net_input.pbtxt"), "-o", str(nnx)],
                   check=True)
    code = (
        "import sys, nncc\n"
        f"s = nncc.load({str(nnx)!r})\n"
        "print(s.run('z', {'x': [1.0, 2.0, 3.0]}).tolist())\n"
        "print(sorted(m for m in sys.modules if m.startswith('nncc')))\n"
        "print(any('LLVM' in l for l in open('/proc/self/maps')))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, env=os.environ).stdout.splitlines()
    np.testing.assert_allclose(eval(out[0]), [2.7, 4.7, 6.7], rtol=1e-6)
    assert "nncc._compiler" not in out[1] and "nncc._runtime" in out[1]
    assert out[2] == "False"  # libLLVM is not mapped


def test_checkpoints_save_restore(tmp_path):
    sess, X, y, z, cost, step = _e3_session()
    for _ in range(10):
        sess.run(step, {X: X10, y: Y10})
    saver = nncc.train.Saver()
    saver.save(sess, str(tmp_path / "e3.ckpt"))
    trained = sess.run(z, {X: X10})

    fresh, X2, y2, z2, cost2, step2 = _e3_session()
    saver.restore(fresh, str(tmp_path / "e3.ckpt"))  # before anything ran: applied on compile
    np.testing.assert_allclose(fresh.run(z2, {X2: X10}), trained, rtol=1e-6)
    fresh.run(step2, {X2: X10, y2: Y10})  # recompiles: the restored values carry over
    assert fresh.variable("weight")[0] != pytest.approx(0.0)
    fresh.restore(tmp_path / "e3.ckpt")
    np.testing.assert_allclose(fresh.run(z2, {X2: X10}), trained, rtol=1e-6)
    fresh.set_variable("bias", [1.0])
    assert fresh.variable("bias")[0] == 1.0

    with pytest.raises(nncc.NotFound, match="missing.ckpt"):
        fresh.restore(tmp_path / "missing.ckpt")
    bad = tmp_path / "bad.ckpt"
    data = (tmp_path / "e3.ckpt").read_bytes()
    bad.write_bytes(data[:-3])
    with pytest.raises(nncc.DataLoss, match="truncated"):
        fresh.restore(bad)


def test_checkpoint_of_another_model_is_refused(tmp_path):
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=(1,), name="x")
    v = g.variable(np.zeros(3, np.float32), name="weight")
    s = nncc.Session(g)
    s.run(nncc.reduce_sum(v) + x, {x: [0.0]})
    s.save(tmp_path / "other.ckpt")
    sess, X, y, z, cost, step = _e3_session()
    sess.run(z, {X: X10})
    with pytest.raises(nncc.InvalidArgument, match="weight"):
        sess.restore(tmp_path / "other.ckpt")
    assert sess.variable("weight")[0] == 0.0


def test_load_errors(tmp_path):
    with pytest.raises(nncc.NotFound):
        nncc.load(tmp_path / "none.nnx")
    (tmp_path / "junk.nnx").write_bytes(b"not an executable at all")
    with pytest.raises(nncc.DataLoss):
        nncc.load(tmp_path / "junk.nnx")


def test_signature_choice_errors(tmp_path):
    sess, X, y, z, cost, step = _e3_session()
    sess.run(z, {X: X10})
    sess.run(cost, {X: X10, y: Y10})
    sess.export(tmp_path / "m.nnx")
    m = nncc.load(tmp_path / "m.nnx")
    with pytest.raises(nncc.InvalidArgument, match="no signature 'nope'"):
        m.run("z_net", {"X": X10}, signature="nope")
    with pytest.raises(nncc.InvalidArgument, match="no signature fetches"):
        m.run("mean_cost", {"X": X10})
    with pytest.raises(nncc.InvalidArgument, match="by name"):
        m.run(z, {"X": X10})


def test_devices():
    assert "cpu" in nncc.Session(nncc.Graph(), device="cpu").device
    best = nncc.Session(nncc.Graph(), device="best").device
    assert best.startswith("cpu") or best.startswith("cuda")
    with pytest.raises(nncc.Unavailable, match="unknown device 'tpu'"):
        nncc.Session(nncc.Graph(), device="tpu")
    try:
        nncc._runtime.Device.named("cuda")
    except nncc.Unavailable as e:
        assert "CUDA" in str(e) or "cuda" in str(e)


@pytest.mark.skipif(not os.path.exists("/dev/nvidia0"), reason="no GPU here")
def test_cuda_device_agrees_with_cpu():
    results = []
    for device in ("cpu", "cuda"):
        g = nncc.Graph(seed=3)
        x = g.placeholder(nncc.float32, shape=(None, 8), name="x")
        h = nncc.layers.dense(x, 4, activation="tanh", name="l")
        results.append(nncc.Session(g, device=device).run(h, {x: np.ones((3, 8), np.float32)}))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
