"""pytest setup: nncc from the build tree (PYTHONPATH=build/python, which ctest
sets), the C++ examples beside it, and the compile cache off, as in the rest
of the suite."""
import os
import pathlib
import subprocess
import sys

import pytest

os.environ.setdefault("NNCC_NO_CACHE", "1")

import nncc  # noqa: E402

SOURCE = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("NNCC_BUILD_DIR",
                                    pathlib.Path(nncc.__file__).resolve().parents[2]))
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")


def _run_cpp(name, *args):
    exe = BUILD / "bin" / name
    if not exe.exists():
        pytest.skip(f"{exe} is not built")
    return subprocess.run([str(exe), *args], check=True, capture_output=True, text=True,
                          timeout=120).stdout


@pytest.fixture
def run_cpp():
    """Runs a C++ program of the build (bin/NAME) and returns its stdout."""
    return _run_cpp


@pytest.fixture(scope="session")
def e5_cpp():
    """The C++ Keras example's report of 2 epochs on Fashion-MNIST (seed 123)."""
    if not FASHION.exists():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    return _run_cpp("e5_mlp_keras", "--epochs", "2", "--data", str(FASHION))


@pytest.fixture
def run_py():
    """Runs a Python example (examples/python/NAME.py) and returns its stdout."""
    def run(name, *args):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(pathlib.Path(nncc.__file__).resolve().parents[1])
        return subprocess.run([sys.executable, str(SOURCE / "examples/python" / f"{name}.py"),
                               *args], check=True, capture_output=True, text=True, env=env,
                              timeout=120).stdout
    return run


@pytest.fixture
def fashion():
    if not FASHION.exists():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    return str(FASHION)
