"""The Python package's overhead against the C++ API, measured in one run on
this machine (issue 24's targets: a batch-1 sess.run within 3 us of the C++
figure; Keras fit within 5% of the C++ epoch time).

    PYTHONPATH=build/python python3 python/tools/overhead.py [--build build]

C++ figures: nncc_bench --only batch1 (the same 784-50-50-10 tanh MLP,
Session::run of "predict" on one row) and e5_mlp_keras (fit's epoch time,
printed in us per sample); Python: the same graph through nncc.Session.run
and nncc._runtime.Session.run, and keras.Sequential.fit on the same data.
"""
import argparse
import pathlib
import re
import statistics
import subprocess
import time

import numpy as np

import nncc
from nncc import keras

parser = argparse.ArgumentParser()
parser.add_argument("--build", default=str(pathlib.Path(nncc.__file__).resolve().parents[2]))
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
parser.add_argument("--runs", type=int, default=200000)
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()
build = pathlib.Path(args.build)


def median_us(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times[runs // 20:]) * 1e6


(x, y), _ = nncc.data.read_mnist(args.data)

# Batch 1: the bench's MLP (seed 123, layer1..layer3, tanh).
g = nncc.Graph(seed=123)
px = g.placeholder(nncc.float32, shape=(None, 784), name="x")
h = px
for i, units in enumerate([50, 50, 10], 1):
    h = nncc.layers.dense(h, units, activation="tanh" if i < 3 else None, name=f"layer{i}")
probabilities = nncc.softmax(h, name="probabilities")
sess = nncc.Session(g)
x1 = np.ascontiguousarray(x[:1])
sess.run(probabilities, {px: x1})
raw = sess._session
sig = sess.signatures[0]["name"]
py_run = median_us(lambda: sess.run(probabilities, {px: x1}), args.runs)
fast = sess.make_callable(probabilities, [px])
callable_run = median_us(lambda: fast(x1), args.runs)
raw_run = median_us(lambda: raw.run(sig, {"x": x1}, ["probabilities"]), args.runs)
bench = subprocess.run([str(build / "bin/nncc_bench"), "--only", "batch1"], capture_output=True,
                       text=True, check=True).stdout
cpp_run = float(re.search(r"batch 1 ([\d.]+) us", bench).group(1))
print(f"batch 1: C++ Session::run {cpp_run:.2f} us, nncc._runtime.Session.run {raw_run:.2f} us "
      f"(+{raw_run - cpp_run:.2f}), Session.make_callable {callable_run:.2f} us "
      f"(+{callable_run - cpp_run:.2f}), nncc.Session.run {py_run:.2f} us (+{py_run - cpp_run:.2f})")

# Keras fit: the E5 model and recipe, epoch by epoch.
model = keras.Sequential([keras.layers.Dense(50, activation="tanh", input_dim=784),
                          keras.layers.Dense(50, activation="tanh"),
                          keras.layers.Dense(10, activation="softmax")], seed=123)
model.compile(optimizer=keras.optimizers.SGD(lr=0.001, decay=1e-7, momentum=0.9),
              loss="categorical_crossentropy")
onehot = keras.utils.to_categorical(y, 10)
t = time.perf_counter()
model.fit(x, onehot, batch_size=64, epochs=args.epochs, verbose=0, validation_split=0.1)
py_epoch = (time.perf_counter() - t) / args.epochs
e5 = subprocess.run([str(build / "bin/e5_mlp_keras"), "--epochs", str(args.epochs), "--data",
                     args.data], capture_output=True, text=True, check=True).stdout
per_sample = [int(v) for v in re.findall(r"- [\d.]+s (\d+)us/sample", e5)]
cpp_epoch = statistics.median(per_sample) * 54000 * 1e-6
print(f"fit epoch (54000 samples + validation; the whole call / epochs): C++ about {cpp_epoch * 1e3:.0f} ms "
      f"({statistics.median(per_sample)} us/sample as e5 prints it), Python "
      f"{py_epoch * 1e3:.0f} ms ({py_epoch / 54000 * 1e6:.2f} us/sample)")
