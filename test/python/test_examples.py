"""The textbook examples in Python (examples/python) print the C++ examples'
numbers (examples/e1..e6)."""
import re

import pytest

NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def numbers(text):
    return [float(n) for n in NUMBER.findall(text)]


def close(a, b, rel=1e-6, abs_=1e-9):
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b):
        assert x == pytest.approx(y, rel=rel, abs=abs_), (a, b)


def test_e1(run_cpp, run_py):
    cpp = [float(m) for m in re.findall(r"z = ([-\d.]+)", run_cpp("e1_net_input"))]
    vec = re.search(r"z = \[(.*)\]", run_cpp("e1_net_input")).group(1)
    out = run_py("e1_net_input")
    py = [float(m) for m in re.findall(r"z=\s*([-\d.]+)", out)]
    close(py, cpp, rel=1e-2)
    close(numbers(out.splitlines()[-1]), numbers(vec))


def test_e2(run_cpp, run_py):
    cpp = run_cpp("e2_array_structures").splitlines()
    cpp = numbers("\n".join(l for l in cpp if not l.startswith(("x2 (shape", "flat"))))
    py = numbers(run_py("e2_array_structures").split("Reshaped:")[1])
    close(py, cpp)
    assert len(py) == 30


def test_e3(run_cpp, run_py):
    cpp, py = run_cpp("e3_linear_regression"), run_py("e3_linear_regression")
    assert len(numbers(py)) == len(numbers(cpp)) == 2 * 10 + 2 + 10
    close(numbers(py), numbers(cpp), rel=2e-7)


def test_e3_pictures(run_py, tmp_path):
    pytest.importorskip("matplotlib")
    out = run_py("e3_linear_regression", "--plots", str(tmp_path))
    assert "e3_fit.png" in out
    assert (tmp_path / "e3_cost.png").stat().st_size > 1000


def test_e6(run_cpp, run_py, tmp_path):
    cpp = run_cpp("e6_activations")
    args = ["--plots", str(tmp_path)] if _has_matplotlib() else []
    py = run_py("e6_activations", *args)
    py_lines = [l for l in py.splitlines() if not l.startswith("wrote")]
    close(numbers("\n".join(py_lines)), numbers(cpp), rel=1e-8)
    if args:
        assert (tmp_path / "e6_activations.png").stat().st_size > 1000


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def test_e4_one_epoch(run_cpp, run_py, fashion):
    cpp = run_cpp("e4_mlp_layers", "--epochs", "1", "--data", fashion)
    py = run_py("e4_mlp_layers", "--epochs", "1", "--data", fashion)
    loss = re.compile(r"Epoch\s+1\s+Avg. Training Loss: ([\d.]+)")
    assert loss.search(py).group(1) == loss.search(cpp).group(1)
    acc = re.compile(r"Test Accuracy: ([\d.]+)%")
    assert acc.search(py).group(1) == acc.search(cpp).group(1)


def test_e5(e5_cpp, run_py, fashion):
    cpp = e5_cpp
    py = run_py("e5_mlp_keras", "--epochs", "2", "--data", fashion)
    assert "Train on 54000 samples, validate on 6000 samples" in py and "Epoch 2/2" in py
    metrics = re.compile(r"loss: ([\d.]+) - acc: ([\d.]+) - val_loss: ([\d.]+) - val_acc: ([\d.]+)")
    assert metrics.findall(py) == metrics.findall(cpp) and len(metrics.findall(py)) == 2
    for line in ("First 3 predictions", "Training accuracy", "Test accuracy"):
        assert numbers(_line(py, line)) == numbers(_line(cpp, line)), line


def _line(text, start):
    return next(l for l in text.splitlines() if l.startswith(start)).split(":", 1)[1]
