#!/usr/bin/env python3
"""The GPU benchmark's table: nncc-gpu-bench's JSON beside the peers'
(gpu_mlp_peers.py's results.json, one or more), with the ratios, the device
and the date, as Markdown on stdout; with --kernels, nncc-gpu-bench
--kernels' JSON (its "kernels" array) as a table per run of each kernel's
time. gpu-bench.sh runs it on the GPU machine; it needs nothing but Python's
standard library.

  gpu_bench_table.py --nncc nncc.json --peers a/results.json [b/results.json]
                     [--kernels nncc-kernels.json] [--cnn-peer peers-cnn.json]
                     [--device NAME] [--info build-info.txt] [--note TEXT]...
A missing file or figure is a row that says so, never an exception.
"""
import argparse
import datetime
import json
import os


def load(path, notes):
    if not path or not os.path.exists(path):
        notes.append(f"{path or 'a results file'}: missing (that part did not run or crashed)")
        return {}
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as e:
        notes.append(f"{path}: not JSON ({e})")
        return {}


def dig(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def err_line(text):
    lines = [l.strip() for l in str(text).strip().splitlines() if l.strip()]
    named = [l for l in lines if "Error" in l or "error" in l]
    return (named[-1] if named else (lines[-1] if lines else "?"))[:200]


def kernel_tables(k):
    """nncc-gpu-bench --kernels' JSON `k` as Markdown lines: a table per part
    (a training step, an inference run), in the order run."""
    rows = k.get("kernels") or []
    if not rows:
        return []
    L = ["", "## nncc's kernels, one by one (nncc-gpu-bench --kernels)", "",
         f"On {k.get('device', 'n/a')}: {k.get('kernels_method', 'n/a')}. Grid: blocks (x, y) "
         "of the threads shown. A kernel's time runs from a CUDA event before its launch to one "
         "after, so it includes any wait for the host to queue it where the GPU had nothing else "
         "queued."]
    parts = []
    for r in rows:
        if r.get("part") not in parts:
            parts.append(r.get("part"))

    def us(v):
        return "n/a" if v is None else f"{v:.1f}"

    for part in parts:
        key = f"kernels_{part}"
        L += ["", f"### {part}", "", "| kernel | us (median) | p10..p90 | grid (x, y) | threads |",
              "|---|---|---|---|---|"]
        for r in rows:
            if r.get("part") == part:
                L.append(f"| {r.get('kernel')} | {us(r.get('us'))} | {us(r.get('us_p10'))}.."
                         f"{us(r.get('us_p90'))} | {r.get('grid_x')}, {r.get('grid_y')} | "
                         f"{r.get('threads')} |")
        launches = k.get(key + "_launches")
        L.append(f"| sum of the {'n/a' if launches is None else f'{launches:.0f}'} launches | "
                 f"{us(k.get(key + '_sum_us'))} | | | |")
        L.append(f"| the run, host to host (events on) | {us(k.get(key + '_run_us'))} | | | |")
    return L


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nncc", required=True)
    ap.add_argument("--peers", nargs="*", default=[])
    ap.add_argument("--kernels", default=None, help="nncc-gpu-bench --kernels' JSON")
    ap.add_argument("--cnn-peer", default=None, help="cnn_torch.py --device cuda's JSON (E7)")
    ap.add_argument("--device", default="unknown")
    ap.add_argument("--info", default=None, help="the bundle's build-info.txt")
    ap.add_argument("--note", action="append", default=[])
    args = ap.parse_args()
    notes = list(args.note)
    n = load(args.nncc, notes)
    k = load(args.kernels, notes) if args.kernels else {}
    secs, env = {}, {}
    for p in args.peers:
        d = load(p, notes)
        env = env or d.get("env", {})
        secs.update(d.get("sections", {}))

    def peer(section, *keys):
        return dig(secs, section, "results", *keys)

    rows, targets = [], []

    def fmt(v, unit):
        if v is None:
            return "n/a"
        if unit == "%":
            return f"{100 * v:.2f}%"
        return f"{v:.3g} {unit}" if abs(v) < 1000 else f"{v:.0f} {unit}"

    def row(what, ours, peer_name, theirs, unit, lower_is_better=True):
        if ours is None or theirs is None:
            ratio = "–"
        elif unit == "%":
            ratio = f"{100 * (ours - theirs):+.2f} points"
        elif lower_is_better:
            ratio = f"{theirs / ours:.2f}x"
        else:
            ratio = f"{ours / theirs:.2f}x"
        rows.append(f"| {what} | {fmt(ours, unit)} | {peer_name} | {fmt(theirs, unit)} | {ratio} |")

    epochs = n.get("mlp_train_epochs")
    e = n.get("mlp_epoch_ms_median")
    for name, key in [("PyTorch eager", "a_torch_eager"),
                      ("PyTorch, step in a CUDA graph", "b_torch_cudagraph_step")]:
        row("MLP training epoch (60000 samples)", e, name,
            peer("torch_mlp", key, "ms_per_epoch_median"), "ms")
    row("MLP training epoch (60000 samples)", e, "JAX, epoch in one jit (lax.scan)",
        peer("jax_mlp", "e_jax_scan_epoch", "ms_per_epoch_median"), "ms")
    loop = n.get("mlp_loop_epoch_ms_median")
    if loop is not None:
        what = f"MLP epoch, compiled loop ({int(n.get('mlp_loop_steps_per_call', 0))} steps/call)"
        row(what, loop, "JAX, epoch in one jit (lax.scan)",
            peer("jax_mlp", "e_jax_scan_epoch", "ms_per_epoch_median"), "ms")
        row(what, loop, "nncc step by step", e, "ms")
        row(what, loop, "nncc compiled loop, graphs off",
            n.get("mlp_loop_nographs_epoch_ms_median"), "ms")
        row(what, loop, "nncc compiled loop, each step's launches one by one",
            n.get("mlp_loop_unfused_epoch_ms_median"), "ms")
    step = n.get("mlp_step_us_median")
    if step is not None:
        row("MLP training step, host to host (fused where it can be)", step,
            "nncc step launch by launch", n.get("mlp_step_unfused_us_median"), "us")
    acc = n.get("mlp_test_accuracy")
    refs = []
    for name, s, key in [("PyTorch, CUDA graph", "torch_mlp", "train50_b"),
                         ("JAX lax.scan", "jax_mlp", "train50_e")]:
        a = peer(s, key, "test_accuracy")
        refs += [a] if a is not None else []
        row(f"test accuracy after {epochs or '?'} epochs (peers: 50)", acc, name, a, "%")
    full = n.get("infer_full_ms_median")
    for name, s, key in [("PyTorch eager", "torch_mlp", ("inference_torch", "eager_10000")),
                         ("PyTorch CUDA graph", "torch_mlp", ("inference_torch", "graph_10000")),
                         ("JAX jit", "jax_mlp", ("inference_jax", "jit_10000"))]:
        row("inference, 10000 images (*)", full, name, peer(s, *key, "median"), "ms")
    b1 = n.get("infer_b1_us_median")
    for name, s, key in [("PyTorch eager (device input)", "torch_mlp", ("inference_torch", "eager_1")),
                         ("PyTorch CUDA graph (device input)", "torch_mlp", ("inference_torch", "graph_1")),
                         ("PyTorch CUDA graph, host to host (pinned)", "latency_floor",
                          ("mlp_batch1_graph_host_to_host",)),
                         ("JAX jit (device input)", "jax_mlp", ("inference_jax", "jit_1"))]:
        row("inference, batch 1, host to host", b1, name, peer(s, *key, "median"), "us")
    big = {}
    for mode, key in [("fp32", "torch_big::fp32 (TF32 off)"), ("tf32", "torch_big::TF32 matmuls")]:
        ours_ms, ours_tf = n.get(f"big_{mode}_ms_per_step"), n.get(f"big_{mode}_tflops")
        theirs = peer("torch_big", key) or {}
        big[mode] = (ours_ms, theirs.get("ms_per_step"))
        label = "fp32" if mode == "fp32" else "TF32"
        row(f"compute-bound MLP {label}, step (**)", ours_ms, f"PyTorch eager {label}",
            theirs.get("ms_per_step"), "ms")
        row(f"compute-bound MLP {label}", ours_tf, f"PyTorch eager {label}",
            theirs.get("tflops"), "TFLOP/s", lower_is_better=False)

    # E7, the CNN: nncc's epoch (measured whole, else its steps' median x
    # 938) beside PyTorch's with cuDNN (its last epoch: the first has
    # cuDNN's autotuning).
    cnn_peer = load(args.cnn_peer, notes) if args.cnn_peer else {}
    peer_epochs = cnn_peer.get("epoch_s") or []
    peer_epoch = 1e3 * peer_epochs[-1] if peer_epochs else None
    peer_name = "PyTorch eager, cuDNN" + (" (TF32 convolutions)" if cnn_peer.get("tf32_conv") else "")
    cnn = {}
    for mode in ["fp32", "tf32"]:
        ours = n.get(f"cnn_{mode}_epoch_ms_median", n.get(f"cnn_{mode}_epoch_ms_from_steps"))
        cnn[mode] = ours
        row(f"E7 CNN training epoch (938 steps), nncc {mode}", ours, peer_name, peer_epoch, "ms")
        acc_ours = n.get(f"cnn_{mode}_test_accuracy")
        if acc_ours is not None:
            row(f"E7 test accuracy, nncc {mode} after {int(n.get(f'cnn_{mode}_epochs', 0))} "
                f"epoch(s) (peer: {len(peer_epochs)})", acc_ours, peer_name,
                cnn_peer.get("test_accuracy"), "%")

    def target(what, ours, goal, shown, met):
        targets.append(f"| {what} | {ours} | {shown} | "
                       f"{'n/a' if met is None else ('yes' if met else 'no')} |")

    target("MLP training epoch", fmt(e, "ms"), 15, "at most 15 ms", None if e is None else e <= 15)
    if loop is not None:
        target("MLP training epoch, compiled loop", fmt(loop, "ms"), 15, "at most 15 ms",
               loop <= 15)
    if acc is not None and refs:
        mean = sum(refs) / len(refs)
        target(f"test accuracy after {epochs} epochs", fmt(acc, "%"), None,
               f"the peers' {100 * mean:.2f}% within 0.5 points",
               abs(acc - mean) <= 0.005 and epochs == 50)
    else:
        target("test accuracy after 50 epochs", fmt(acc, "%"), None, "the peers' (about 87.5%)", None)
    target("inference, 10000 images", fmt(full, "ms"), 0.08, "at most 0.08 ms",
           None if full is None else full <= 0.08)
    target("inference, batch 1, host to host", fmt(b1, "us"), 30, "at most 30 us",
           None if b1 is None else b1 <= 30)
    for mode, goal in [("fp32", 0.8), ("tf32", 0.6)]:
        ours, theirs = big[mode]
        share = theirs / ours if ours and theirs else None
        target(f"compute-bound MLP {mode}", "n/a" if share is None else f"{100 * share:.0f}% of PyTorch",
               goal, f"at least {100 * goal:.0f}% of PyTorch", None if share is None else share >= goal)

    for mode in ["fp32", "tf32"]:
        ours = cnn[mode]
        target(f"E7 CNN training epoch, nncc {mode}", fmt(ours, "ms"), None,
               "at most PyTorch's with cuDNN" + ("" if peer_epoch is None else f" ({fmt(peer_epoch, 'ms')})"),
               None if ours is None or peer_epoch is None else ours <= peer_epoch)

    date = env.get("date_utc") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    L = [f"# GPU benchmark, {date[:10]}", "",
         f"Device: {args.device} (nvidia-smi); nncc's runtime: {n.get('device', 'n/a')}.",
         f"Driver: {env.get('smi_line', 'n/a')}.", f"Date: {date} UTC."]
    tv = next((s.get("versions") for s in secs.values() if s.get("versions", {}).get("torch")), {})
    jv = secs.get("jax_mlp", {}).get("versions", {})
    if tv or jv:
        L.append(f"Peers: torch {tv.get('torch', 'n/a')} (CUDA {tv.get('torch_cuda', 'n/a')}), "
                 f"jax {jv.get('jax', 'n/a')} / jaxlib {jv.get('jaxlib', 'n/a')}, optax {jv.get('optax', 'n/a')}.")
    if args.info and os.path.exists(args.info):
        with open(args.info) as f:
            L += [f"nncc: {l.strip()}" for l in f if l.strip()]
    L += ["", "The textbook MLP 784-50-50-10 (tanh, softmax cross-entropy, SGD lr 0.001 momentum 0.9, "
          "batch 64, 938 steps per epoch) on Fashion-MNIST; nncc trains from its initial weights "
          "and its ms/epoch is the median of the epochs after the first; the peers' is the median "
          "of 7 epochs after 2 warm-up ones, with the data on the GPU.", "",
          "| what | nncc | peer | peer's figure | nncc faster by (below 1: slower) |", "|---|---|---|---|---|"]
    L += rows
    L += ["", "(*) nncc's inference figures are host to host: `Session::run` takes host tensors, so "
          "the 10000 images (31.4 MB) cross to the GPU in every run; the peers' input is already "
          "on the GPU, except in the pinned host-to-host row.",
          "(**) The compute-bound MLP 784-4096-4096-4096-10 (ReLU, batch 4096, 36.8M parameters, "
          "6 x params x batch = 904.9 GFLOP per step); nncc's step includes feeding the batch "
          "from the host (12.8 MB); PyTorch's data is on the GPU.", "",
          "| target | nncc | target | met |", "|---|---|---|---|"]
    L += targets
    for key, v in sorted(n.items()):
        if key.endswith(("_error", "_note")) or key == "error":
            notes.append(f"nncc {key}: {v}")
    for key, v in sorted(k.items()):
        if key.endswith(("_error", "_note")) or key == "error":
            notes.append(f"nncc --kernels {key}: {v}")
    for name, s in secs.items():
        if not s.get("ok", True) and s.get("error"):
            notes.append(f"peers {name}: {err_line(s['error'])}")
        for k, v in s.get("errors", {}).items():
            notes.append(f"peers {name} {k}: {err_line(v)}")
    for mode in ["fp32", "tf32"]:
        if n.get(f"cnn_{mode}_step_ms_median") is not None:
            notes.append(f"nncc's E7 ({mode}): {n[f'cnn_{mode}_step_ms_median']:.3f} ms/step "
                         f"(p10 {n.get(f'cnn_{mode}_step_ms_p10', float('nan')):.3f}, p90 "
                         f"{n.get(f'cnn_{mode}_step_ms_p90', float('nan')):.3f}) over "
                         f"{n.get(f'cnn_{mode}_steps_timed', 0):.0f} steps; average loss "
                         f"{n.get(f'cnn_{mode}_loss_epoch1', float('nan')):.4f} in epoch 1")
    if peer_epochs:
        notes.append(f"PyTorch's E7 on {cnn_peer.get('gpu', '?')} (cuDNN {cnn_peer.get('cudnn', '?')}, "
                     f"TF32 convolutions {cnn_peer.get('tf32_conv')}, matmuls "
                     f"{cnn_peer.get('tf32_matmul')}): epochs of "
                     + ", ".join(f"{1e3 * e:.0f} ms" for e in peer_epochs)
                     + f"; average loss {(cnn_peer.get('losses') or [float('nan')])[0]:.4f} in epoch 1")
    if n.get("mlp_loss_epoch1") is not None:
        notes.append(f"nncc's MLP: average loss {n['mlp_loss_epoch1']:.4f} in epoch 1, "
                     f"{n.get('mlp_loss_last', float('nan')):.4f} in epoch {epochs}; "
                     f"{n.get('mlp_train_total_s', float('nan')):.1f} s for the whole run; "
                     f"executable loaded in {n.get('mlp_load_ms', float('nan')):.1f} ms.")
    for key, what in [("mlp_loop_loss_epoch1", "graphs on"),
                      ("mlp_loop_nographs_loss_epoch1", "graphs off")]:
        # From the same weights and shuffle as the step-by-step epoch 1:
        # the same average loss, to fp32 rounding.
        if n.get(key) is not None and n.get("mlp_loss_epoch1") is not None:
            ours, ref = n[key], n["mlp_loss_epoch1"]
            same = abs(ours - ref) <= 1e-3 * max(abs(ref), 1e-6)
            notes.append(f"nncc's compiled loop ({what}): average loss {ours:.6f} in epoch 1, "
                         f"step by step {ref:.6f}: {'the same' if same else 'DIFFERENT'}")
    for key, what in [("mlp_loop_weights_rel_diff", "graphs on"),
                      ("mlp_loop_nographs_weights_rel_diff", "graphs off")]:
        if n.get(key) is not None:
            notes.append(f"nncc's compiled loop ({what}): weights after epoch 1 within "
                         f"{n[key]:.2e} of one epoch of single steps (of each variable's "
                         f"largest value): {'the same' if n[key] <= 1e-3 else 'DIFFERENT'}")
    if notes:
        L += ["", "Notes:"] + [f"- {x}" for x in notes]
    L += kernel_tables(k)
    print("\n".join(L))


if __name__ == "__main__":
    main()
