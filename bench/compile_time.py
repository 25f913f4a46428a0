#!/usr/bin/env python3
"""nncc's compile time as models grow (issue 27): `nncc compile` of

  * the deep-MLP series: a training step of LAYERS hidden layers of 64 tanh units
    (matmul, bias_add, tanh each), softmax cross-entropy, SGD momentum
    (test/lit/cli/Inputs/deep_mlp.py), at 25, 50, 100, 200 and 400 layers;
  * the chain series: a predict signature of N chained tanh nodes on [None, 64],
    at 1000, 2000 and 4000 nodes;

each timed wall-clock and in CPU time (user + system: what the compile costs, less
sensitive than the wall time to whatever else the machine runs) with its peak memory
(GNU time's maximum resident set), and the growth exponents fitted on the largest sizes
(log time against log size). PyTorch 1.13,
Debian's, has no torch.compile to compare with; JAX is not installed here.

  compile_time.py [--nncc build/bin/nncc] [--layers 25,50,100,200,400]
                  [--chains 1000,2000,4000] [--out bench/results/<date>-compile.md]
"""
import argparse
import datetime
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "lit", "cli", "Inputs"))
import deep_mlp  # noqa: E402


def chain(nodes):
    out = ['name: "chain"', 'placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 64 } }']
    prev = "x"
    for i in range(nodes):
        out.append(f'nodes {{ name: "t{i}" op: "tanh" inputs: "{prev}" }}')
        prev = f"t{i}"
    out.append(f'signatures {{ name: "predict" feeds: "x" fetches: "{prev}" }}')
    return "\n".join(out) + "\n"


def compile_once(nncc, text, tmp):
    model = os.path.join(tmp, "m.pbtxt")
    with open(model, "w") as f:
        f.write(text)
    proc = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M", nncc, "compile", model, "-o",
                           os.path.join(tmp, "m.nnx"), "--no-cache"], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    line = [l for l in proc.stderr.splitlines() if l.startswith("TIME ")][-1]
    seconds, user, system, kb = line.split()[1:]
    return float(seconds), float(user) + float(system), int(kb) / 1024 / 1024


def exponent(points):
    """Least-squares slope of log(time) on log(size) over the points."""
    xs = [math.log(s) for s, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nncc", default=os.path.join(ROOT, "build", "bin", "nncc"))
    ap.add_argument("--layers", default="25,50,100,200,400")
    ap.add_argument("--chains", default="1000,2000,4000")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rows = []
    series = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, sizes, make in (("deep MLP training step, layers", args.layers,
                                   deep_mlp.model),
                                  ("chained tanh, nodes", args.chains, chain)):
            for n in (int(s) for s in sizes.split(",") if s):
                t, cpu, gb = compile_once(args.nncc, make(n), tmp)
                print(f"{kind} {n}: {t:.2f} s, CPU {cpu:.2f} s, {gb:.2f} GB", flush=True)
                rows.append((kind, n, t, cpu, gb))
                series.setdefault(kind, []).append((n, t, cpu))
    lines = [f"# Compile time, {datetime.date.today().isoformat()}", "",
             f"`bench/compile_time.py` on {os.cpu_count()} cores: `nncc compile` wall time, CPU "
             "time (user + system, all threads) and peak memory.", "",
             "| model | size | compile (wall) | CPU | peak memory |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {n} | {t:.2f} s | {cpu:.2f} s | {gb:.2f} GB |"
              for k, n, t, cpu, gb in rows]
    lines.append("")
    for kind, points in series.items():
        if len(points) >= 2:
            tail = points[-3:] if len(points) >= 3 else points
            wall = exponent([(n, t) for n, t, _ in tail])
            cpu = exponent([(n, c) for n, _, c in tail])
            lines.append(f"Growth of {kind.split(',')[0]}: wall time ~ size^{wall:.2f}, CPU time "
                         f"~ size^{cpu:.2f} over {tail[0][0]}-{tail[-1][0]}.")
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
