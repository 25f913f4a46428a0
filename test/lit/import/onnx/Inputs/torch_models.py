"""Exports two small PyTorch models with torch.onnx.export (Debian's
python3-torch) and writes an input batch and PyTorch's outputs for it:
  torch_models.py OUT_DIR
writes OUT_DIR/{mlp,cnn}.onnx, OUT_DIR/{mlp,cnn}_x.npy, OUT_DIR/{mlp,cnn}_y.npy."""
import os
import sys

import numpy as np
import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)

mlp = torch.nn.Sequential(
    torch.nn.Linear(20, 32), torch.nn.Tanh(),
    torch.nn.Linear(32, 16), torch.nn.ReLU(),
    torch.nn.Linear(16, 5), torch.nn.Softmax(dim=1))

cnn = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(4, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
    torch.nn.AvgPool2d(2),
    torch.nn.BatchNorm2d(8),
    torch.nn.Flatten(),
    torch.nn.Linear(8 * 2 * 2, 10), torch.nn.LogSoftmax(dim=1))
# Non-trivial running statistics for the batch norm's inference form.
with torch.no_grad():
    cnn[6].running_mean.uniform_(-0.5, 0.5)
    cnn[6].running_var.uniform_(0.5, 2.0)

for name, model, shape in [("mlp", mlp, (7, 20)), ("cnn", cnn, (3, 1, 16, 16))]:
    model.eval()
    x = torch.randn(*shape)
    torch.onnx.export(model, x, os.path.join(out, name + ".onnx"), input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      opset_version=13)
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(out, name + "_x.npy"), x.numpy())
    np.save(os.path.join(out, name + "_y.npy"), y.numpy())
