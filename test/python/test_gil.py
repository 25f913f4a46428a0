"""Compiled code runs without the GIL: another Python thread keeps running
while a long sess.run is in flight, and runs in threads give right results."""
import threading
import time

import numpy as np

import nncc


def test_run_releases_the_gil():
    g = nncc.Graph()
    a = g.placeholder(nncc.float32, shape=(None, 1024), name="a")
    h = a
    for _ in range(8):
        h = nncc.tanh(h @ a)
    sess = nncc.Session(g)
    m = (np.random.default_rng(0).standard_normal((1024, 1024)) * 0.01).astype(np.float32)
    sess.run(h, {a: m})  # compiles

    started, done = threading.Event(), threading.Event()
    window = []

    def work():
        started.set()
        t = time.perf_counter()
        sess.run(h, {a: m})
        window.extend([t, time.perf_counter()])
        done.set()

    th = threading.Thread(target=work)
    th.start()
    started.wait()
    ticks = []
    while not done.is_set():
        ticks.append(time.perf_counter())
    th.join()
    begin, end = window
    points = [begin] + [t for t in ticks if begin <= t <= end] + [end]
    longest = max(b - a for a, b in zip(points, points[1:]))
    # Holding the GIL, the main thread could not tick while the kernels run:
    # one gap as long as the run. Released, it ticks all along.
    assert end - begin > 0.04, "the run is too short to tell"
    assert longest < 0.5 * (end - begin), (longest, end - begin)


def test_sessions_in_threads():
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=(None,), name="x")
    y = nncc.reduce_sum(x * x)
    sess = nncc.Session(g)
    sess.run(y, {x: [1.0]})
    results = {}

    def work(i):
        results[i] = [float(sess.run(y, {x: np.full(100, i, np.float32)})) for _ in range(20)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert results[i] == [100.0 * i * i] * 20


def test_first_runs_from_threads_compile_once():
    g = nncc.Graph()
    x = g.placeholder(nncc.float32, shape=(None,), name="x")
    y = nncc.reduce_sum(x * 3.0)
    sess = nncc.Session(g)
    out = []
    threads = [threading.Thread(target=lambda: out.append(float(sess.run(y, {x: [1.0, 2.0]}))))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [9.0] * 3 and len(sess.signatures) == 1
