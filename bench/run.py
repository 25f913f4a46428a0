#!/usr/bin/env python3
"""nncc's CPU benchmark: nncc and its peers (PyTorch, NumPy, both on OpenBLAS)
measured in the same run on the same machine, printed side by side with ratios.

  bash bench/run.sh            # installs the peers if missing, builds, runs this
  /usr/bin/python3 bench/run.py [--epochs 3] [--out bench/results/DATE-cpu.md]

Rows: the textbook MLP (784-50-50-10 tanh, SGD momentum 0.9, batch 64) training
epoch on Fashion-MNIST; inference of the 10000 test images in one batch; batch-1
latency; the compute-bound MLP 784-1024-1024-10 ReLU at batch 256 (ms per step
and GFLOP/s; also compiled for x86-64-v3, beside native); nncc's compile times. Each peer runs in its own process with
OpenBLAS selected through LD_LIBRARY_PATH and reports which BLAS it loaded.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
PY = "/usr/bin/python3"  # Debian's interpreter, with python3-torch and python3-numpy


def run_json(cmd, env=None):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    full = cmd + ["--json", path]
    print("$ " + " ".join(full), flush=True)
    proc = subprocess.run(full, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(("RESULT", "inference", "compute-bound", "compile", "BLAS", "E7")) or \
                "BLAS:" in line:
            print("  " + line)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode})")
    with open(path) as f:
        result = json.load(f)
    os.unlink(path)
    return result


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs per trainer")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bin", "nncc_bench"))
    ap.add_argument("--out", default=None, help="write the table as Markdown here")
    args = ap.parse_args()
    if not os.path.isdir(OPENBLAS):
        raise SystemExit(f"{OPENBLAS} missing: apt-get install libopenblas0-pthread "
                         "(peers on the reference BLAS are 6-35x slower: meaningless)")
    env = dict(os.environ, LD_LIBRARY_PATH=OPENBLAS)
    peers = os.path.join(HERE, "peers")
    ep = ["--epochs", str(args.epochs), "--data", args.data]

    nncc = run_json([args.bench] + ep)
    # The compute-bound MLP compiled for x86-64-v3 (AVX2+FMA, 256-bit
    # kernels) instead of this machine's CPU: what a portable .nnx costs.
    nncc_v3 = run_json([args.bench, "--only", "big", "--cpu", "x86-64-v3"])
    # PyTorch at its best settings on this machine (shared/reference/RESULTS-cpu.md):
    # 1 intra-op thread with 2 BLAS threads.
    torch_train = run_json([PY, os.path.join(peers, "seed_mlp_torch.py"), "--mode", "time",
                            "--threads", "1", "--blas-threads", "2"] + ep, env)
    torch_infer = run_json([PY, os.path.join(peers, "seed_mlp_torch.py"), "--mode", "infer",
                            "--threads", "2", "--data", args.data], env)
    torch_script = run_json([PY, os.path.join(peers, "seed_mlp_torch.py"), "--mode", "infer",
                             "--jit", "script", "--threads", "1", "--data", args.data], env)
    numpy_train = run_json([PY, os.path.join(peers, "seed_mlp_numpy.py"), "--mode", "time",
                            "--blas-threads", "2"] + ep, env)
    torch_big = run_json([PY, os.path.join(peers, "big_mlp_torch.py"), "--threads", "1",
                          "--blas-threads", "2"], env)
    # E7, the CNN: PyTorch's better of its two thread settings here.
    cnn = os.path.join(peers, "cnn_torch.py")
    torch_e7 = min((run_json([PY, cnn, "--mode", "time", "--steps", "50", "--data", args.data]
                             + t, env) for t in (["--threads", "2"],
                                                 ["--threads", "1", "--blas-threads", "2"])),
                   key=lambda r: r["step_ms_median"])
    torch_conv = min((run_json([PY, cnn, "--mode", "conv"] + t, env)
                      for t in (["--threads", "2"], ["--threads", "1", "--blas-threads", "2"])),
                     key=lambda r: r["conv2_ms_median"])

    blas = {"PyTorch": torch_train["env"].split("BLAS: ")[-1],
            "NumPy": numpy_train["env"].split("BLAS: ")[-1]}
    rows = []

    def row(what, ours, peer_name, theirs, unit, lower_is_better=True):
        ratio = theirs / ours if lower_is_better else ours / theirs
        rows.append((what, f"{ours:.3g} {unit}", peer_name, f"{theirs:.3g} {unit}",
                     f"{ratio:.2f}x"))

    e = nncc["epoch_ms_median"]
    row("MLP training epoch", e, "PyTorch eager", torch_train["epoch_ms_median"], "ms")
    row("MLP training epoch", e, "NumPy by hand", numpy_train["epoch_ms_median"], "ms")
    if "loop_epoch_ms_median" in nncc:
        what = f"MLP epoch, compiled loop ({int(nncc['loop_steps_per_call'])} steps/call)"
        row(what, nncc["loop_epoch_ms_median"], "PyTorch eager",
            torch_train["epoch_ms_median"], "ms")
        row(what, nncc["loop_epoch_ms_median"], "nncc step by step", e, "ms")
    row("inference, 10000 images", nncc["infer_full_ms_median"], "PyTorch eager",
        torch_infer["full_ms_median"], "ms")
    row("inference, batch 1", nncc["infer_b1_us_median"], "PyTorch eager",
        torch_infer["b1_us_median"], "us")
    row("inference, batch 1", nncc["infer_b1_us_median"], "TorchScript",
        torch_script["b1_us_median"], "us")
    row("compute-bound MLP step", nncc["big_ms_per_step_median"], "PyTorch eager",
        torch_big["ms_per_step_median"], "ms")
    row("compute-bound MLP GFLOP/s", nncc["big_gflops"], "PyTorch eager",
        torch_big["gflops"], "GFLOP/s", lower_is_better=False)
    row("compute-bound MLP GFLOP/s, --cpu=x86-64-v3", nncc_v3["big_gflops"], "nncc native",
        nncc["big_gflops"], "GFLOP/s", lower_is_better=False)
    e7 = nncc["e7_step_ms_median"]
    row("E7 (CNN) training step, batch 64", e7, "PyTorch eager", torch_e7["step_ms_median"], "ms")
    row("E7 training epoch (938 steps)", e7 * 938 / 1e3, "PyTorch eager",
        torch_e7["step_ms_median"] * 938 / 1e3, "s")
    row("E7 conv_2 forward GFLOP/s", nncc["e7_conv2_gflops"], "PyTorch eager",
        torch_conv["conv2_gflops"], "GFLOP/s", lower_is_better=False)

    date = datetime.date.today().isoformat()
    lines = [f"# CPU benchmark, {date}", "",
             f"Machine: {cpu_name()} x{os.cpu_count()}; {platform.platform()}.",
             f"Peers: {torch_train['env']}.",
             f"BLAS used: PyTorch {blas['PyTorch']}, NumPy {blas['NumPy']}. "
             "PyTorch training at 1 intra-op + 2 BLAS threads (its best setting here).",
             f"nncc: the runtime's thread pool ({os.cpu_count()} threads; products of at least "
             "1M multiply-adds and maps of 64K elements are split over them), "
             f"{args.epochs} timed epochs after a warm-up (medians).", "",
             "| what | nncc | peer | peer's figure | nncc faster by |",
             "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {r} |" for a, b, c, d, r in rows]
    lines += ["",
              f"Compile time of the MLP: training function {nncc['compile_train_s']:.2f} s, "
              f"train + predict {nncc['compile_model_s']:.2f} s.", ""]
    # The project's targets (set against the peers' figures on the 2-core
    # AMD Zen 4 reference machine, shared/reference/RESULTS-cpu.md).
    targets = [("MLP training epoch", e, 100, "ms", True),
               ("inference, 10000 images", nncc["infer_full_ms_median"], 5, "ms", True),
               ("inference, batch 1", nncc["infer_b1_us_median"], 3, "us", True),
               ("compute-bound MLP", nncc["big_gflops"], 180, "GFLOP/s", False),
               ("compile, training function", nncc["compile_train_s"], 1, "s", True),
               ("E7 epoch, times faster than PyTorch", torch_e7["step_ms_median"] / e7, 2, "x",
                False),
               # 60% of the 2-core FMA peak measured here (233 GFLOP/s).
               ("E7 conv_2 forward", nncc["e7_conv2_gflops"], 140, "GFLOP/s", False)]
    lines += ["| target | nncc | target | met |", "|---|---|---|---|"]
    for what, ours, goal, unit, lower in targets:
        met = ours <= goal if lower else ours >= goal
        bound = "at most" if lower else "at least"
        lines.append(f"| {what} | {ours:.3g} {unit} | {bound} {goal} {unit} | "
                     f"{'yes' if met else 'no'} |")
    lines.append("")
    text = "\n".join(lines)
    print()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
