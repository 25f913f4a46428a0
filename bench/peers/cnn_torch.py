#!/usr/bin/env python3
"""E7, the CNN chapter's network, in PyTorch: conv 5x5x32 SAME + ReLU, max-pool 2x2,
conv 5x5x64 SAME + ReLU, max-pool 2x2, dense 1024 ReLU, dropout 0.5, dense 10,
softmax cross-entropy (mean over the batch), Adam lr 1e-4 (betas 0.9/0.999, eps 1e-7
as Keras and nncc), Glorot-uniform kernels, zero biases, batch 64 reshuffled every
epoch, last partial batch kept (60000 -> 938 steps).

Modes:
  time   --steps training steps after 3 warm-up steps; prints ms/step (median of blocks
         of 10) and the epoch that makes (938 steps).
  train  --epochs epochs (default 20); average training loss per epoch; test accuracy.
  conv   the second convolution's forward alone: [64, 32, 14, 14] images, a 5x5x32x64
         filter, padding 2 (1.28 GFLOP); ms and GFLOP/s (median of 50).

Data: --data FOLDER of idx files (default Fashion-MNIST), standardized as the textbook
does (peers_common), as [N, 1, 28, 28] (PyTorch's NCHW; nncc's NHWC is the same
memory for one channel).

--device cuda: on the GPU with cuDNN (cudnn.benchmark on), each batch copied from the
host per step as nncc's session does, each step ending with its loss on the host;
--tf32 0|1 turns TF32 off or on for both convolutions (cuDNN) and matmuls (PyTorch's
own default: on for convolutions, off for matmuls). The train mode's JSON has each
epoch's seconds ("epoch_s"), the first one with cuDNN's autotuning in it.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers_common as pc  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def make_model(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1024, 10))
    for m in model:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


DEVICE = torch.device("cpu")


def step(model, opt, xb, yb):
    xb = xb.to(DEVICE, non_blocking=True)
    yb = yb.to(DEVICE, non_blocking=True)
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    opt.step()
    return loss.item()


@torch.no_grad()
def accuracy(model, X, y):
    model.eval()
    correct = sum((model(X[i:i + 1000].to(DEVICE)).argmax(1).cpu() == y[i:i + 1000]).sum().item()
                  for i in range(0, X.shape[0], 1000))
    model.train()
    return correct / X.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help=f"idx folder (default {pc.DEFAULT_FASHION})")
    ap.add_argument("--mode", choices=["time", "train", "conv"], default="time")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--steps", type=int, default=50, help="time: timed steps")
    ap.add_argument("--train-images", type=int, default=60000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--blas-threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--tf32", type=int, choices=[0, 1], default=None,
                    help="cuda: TF32 off (0) or on (1) for convolutions and matmuls")
    args = ap.parse_args()
    pc.set_threads(args.threads, args.blas_threads)
    global DEVICE
    DEVICE = torch.device(args.device)
    if args.device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("error: --device cuda, but torch.cuda.is_available() is False")
        torch.backends.cudnn.benchmark = True
        if args.tf32 is not None:
            torch.backends.cudnn.allow_tf32 = bool(args.tf32)
            torch.backends.cuda.matmul.allow_tf32 = bool(args.tf32)
    if args.mode == "conv":
        torch.manual_seed(args.seed)
        x = torch.randn(64, 32, 14, 14).to(DEVICE)
        w = torch.randn(64, 32, 5, 5).to(DEVICE)

        def conv():
            F.conv2d(x, w, padding=2)
            if args.device == "cuda":
                torch.cuda.synchronize()
        with torch.no_grad():
            times = pc.timeit_blocks(conv, 1, 50, warmup=3)
        ms = pc.median(times) * 1e3
        flops = 2.0 * 64 * 14 * 14 * 64 * 5 * 5 * 32
        print(f"E7 conv_2 forward (batch 64): {ms:.2f} ms, {flops / ms / 1e6:.1f} GFLOP/s")
        result = {"env": pc.env_summary(), "conv2_ms_median": ms,
                  "conv2_gflops": flops / ms / 1e6}
        if args.json:
            pc.write_json(args.json, result)
        return
    Xtr, ytr, Xte, yte, desc = pc.load_dataset(args.data or pc.DEFAULT_FASHION, "idx")
    Xtr = torch.from_numpy(Xtr[:args.train_images]).reshape(-1, 1, 28, 28)
    ytr = torch.from_numpy(ytr[:args.train_images])
    Xte = torch.from_numpy(Xte).reshape(-1, 1, 28, 28)
    yte = torch.from_numpy(yte)
    print(pc.env_summary())
    model = make_model(args.seed).to(DEVICE)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-7)
    rng = np.random.RandomState(args.seed)
    result = {"env": pc.env_summary(), "data": desc, "args": vars(args)}
    if args.device == "cuda":
        result["gpu"] = torch.cuda.get_device_name(0)
        result["cudnn"] = torch.backends.cudnn.version()
        result["tf32_conv"] = torch.backends.cudnn.allow_tf32
        result["tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
    n = Xtr.shape[0]
    if args.mode == "time":
        perm = torch.from_numpy(rng.permutation(n))
        batches = [(Xtr[perm[i:i + args.batch]], ytr[perm[i:i + args.batch]])
                   for i in range(0, n - args.batch + 1, args.batch)]
        for xb, yb in batches[:3]:
            step(model, opt, xb, yb)
        times = []
        for b in range(0, args.steps, 10):
            t0 = time.perf_counter()
            for k in range(10):
                xb, yb = batches[(3 + b + k) % len(batches)]
                step(model, opt, xb, yb)
            times.append((time.perf_counter() - t0) / 10)
        ms = pc.median(times) * 1e3
        print(f"E7 training step (batch {args.batch}): {ms:.1f} ms; epoch of 938 steps "
              f"{ms * 938 / 1e3:.1f} s")
        result["step_ms_median"] = ms
    else:
        for epoch in range(1, args.epochs + 1):
            t0 = time.perf_counter()
            perm = torch.from_numpy(rng.permutation(n))
            total, steps = 0.0, 0
            for i in range(0, n, args.batch):
                idx = perm[i:i + args.batch]
                total += step(model, opt, Xtr[idx], ytr[idx])
                steps += 1
            seconds = time.perf_counter() - t0
            print(f" -- Epoch {epoch:2d}  Avg. Training Loss: {total / steps:.4f}  "
                  f"({seconds:.2f} s)", flush=True)
            result.setdefault("losses", []).append(total / steps)
            result.setdefault("epoch_s", []).append(seconds)
        acc = accuracy(model, Xte, yte)
        print(f"Test Accuracy: {100 * acc:.2f}%")
        result["test_accuracy"] = acc
    if args.json:
        pc.write_json(args.json, result)


if __name__ == "__main__":
    main()
