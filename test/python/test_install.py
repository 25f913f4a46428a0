"""`cmake --install` puts the package under lib/python3.X/dist-packages of the
prefix; from there (not the build tree) it compiles and runs E1."""
import os
import subprocess
import sys

import pytest

from conftest import BUILD


def test_installed_package_runs_e1(tmp_path):
    if not (BUILD / "cmake_install.cmake").exists():
        pytest.skip("no build tree to install from")
    prefix = tmp_path / "prefix"
    for component in ("runtime", "python"):
        subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(prefix), "--component",
                        component], check=True, capture_output=True)
    site = prefix / f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/dist-packages"
    assert (site / "nncc/__init__.py").exists()
    code = ("import nncc\n"
            "g = nncc.Graph()\n"
            "x = g.placeholder(nncc.float32, name='x')\n"
            "z = g.variable(2.0, name='weight') * x + g.variable(0.7, name='bias')\n"
            "print(nncc.__file__)\n"
            "print(nncc.Session(g).run(z, {x: [1.0, 2.0, 3.0]}).astype(float).round(4).tolist())\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, env=env, cwd=tmp_path).stdout.splitlines()
    assert out[0].startswith(str(site))
    assert out[1] == "[2.7, 4.7, 6.7]"
    libs = subprocess.run(["ldd", str(next((site / "nncc").glob("_runtime*.so")))],
                          capture_output=True, text=True).stdout
    assert str(prefix) in libs and "not found" not in libs
