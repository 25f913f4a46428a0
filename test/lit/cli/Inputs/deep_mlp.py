#!/usr/bin/env python3
"""A deep MLP's training step as graph.proto text: 784 inputs, LAYERS hidden
layers of WIDTH tanh units (matmul, bias_add, tanh each), 10 logits, the
mean sparse softmax cross-entropy, SGD with momentum 0.9 (issue 27's model).
  deep_mlp.py LAYERS [WIDTH]"""
import sys


def model(layers, width=64):
    out = ['name: "deep_mlp"',
           'placeholders { name: "x" dtype: F32 shape { dims: -1 dims: 784 } }',
           'placeholders { name: "y" dtype: I32 shape { dims: -1 } }']
    prev, fan = "x", 784
    for i in range(layers + 1):
        units = 10 if i == layers else width
        out.append(f'variables {{ name: "w{i}" dtype: F32 shape: {fan} shape: {units} '
                   f'initializer {{ kind: GLOROT_UNIFORM seed: {i + 1} }} }}')
        out.append(f'variables {{ name: "b{i}" dtype: F32 shape: {units} initializer {{ }} }}')
        out.append(f'nodes {{ name: "m{i}" op: "matmul" inputs: "{prev}" inputs: "w{i}" }}')
        out.append(f'nodes {{ name: "a{i}" op: "bias_add" inputs: "m{i}" inputs: "b{i}" }}')
        prev = f"a{i}"
        if i < layers:
            out.append(f'nodes {{ name: "h{i}" op: "tanh" inputs: "a{i}" }}')
            prev = f"h{i}"
        fan = units
    out.append(f'nodes {{ name: "ce" op: "softmax_cross_entropy" inputs: "{prev}" inputs: "y" }}')
    out.append('nodes { name: "loss" op: "reduce_mean" inputs: "ce" }')
    out.append('signatures { name: "train" feeds: "x" feeds: "y" fetches: "loss" loss: "loss" '
               'optimizer { kind: "sgd" learning_rate: 0.01 momentum: 0.9 } }')
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(model(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 64))
