#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into test/fuzz/corpus/<target>.

Run from the repository root after a build (it uses build/bin/nncc and
protoc): python3 test/fuzz/make_seeds.py. Standard library only."""
import glob, gzip, os, shutil, struct, subprocess, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "test/fuzz/corpus")
NNCC = os.path.join(ROOT, "build/bin/nncc")


def put(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def frame(magic, version, payload):
    return magic + struct.pack("<IIQ", version, zlib.crc32(payload), len(payload)) + payload


def encode(message, text):
    return subprocess.run(["protoc", "-I", os.path.join(ROOT, "proto"),
                           "--encode=" + message, "graph.proto", "checkpoint.proto"],
                          input=text, capture_output=True, check=True).stdout


def graphs():
    models = sorted(glob.glob(os.path.join(ROOT, "examples/*/*.pbtxt")) +
                    glob.glob(os.path.join(ROOT, "test/lit/import/*.pbtxt")))
    for path in models:
        name = os.path.basename(path)
        text = open(path, "rb").read()
        put("fuzz_graph_text", name, text)
        try:
            put("fuzz_graph_binary", name.replace(".pbtxt", ".pb"),
                encode("nncc.graph.Graph", text))
        except subprocess.CalledProcessError:
            pass  # the error cases include text that does not parse
    return [m for m in models if "/examples/" in m]


def executables(models):
    tmp = os.path.join(CORPUS, "..", "tmp.nnx")
    for path in models:
        subprocess.run([NNCC, "compile", path, "-o", tmp], check=True)
        data = open(tmp, "rb").read()
        name = os.path.basename(path).replace(".pbtxt", "")
        put("fuzz_nnx", name + ".nnx", data)
        # An odd first byte: the target frames the rest itself.
        put("fuzz_nnx", name + ".payload", b"\x01" + data[24:])
    os.remove(tmp)


def checkpoints():
    w = struct.pack("<6f", 0.5, -1, 2, 0.25, 3, -4)
    b = struct.pack("<2f", 1, 1)
    it = struct.pack("<q", 7)
    esc = lambda bs: "".join("\\%03o" % c for c in bs)
    text = ('model: "fuzz" producer: "nncc 0.1.0" '
            'variables { name: "w" dtype: F32 shape: 3 shape: 2 data: "%s" } '
            'variables { name: "b" dtype: F32 shape: 2 data: "%s" } '
            'variables { name: "iterations" dtype: I64 data: "%s" }' % (esc(w), esc(b), esc(it)))
    payload = encode("nncc.ckpt.Checkpoint", text.encode())
    put("fuzz_checkpoint", "model.ckpt", frame(b"NNCCKPT\n", 1, payload))
    put("fuzz_checkpoint", "model.payload", b"\x01" + payload)
    wrong = encode("nncc.ckpt.Checkpoint",
                   b'model: "fuzz" variables { name: "w" dtype: F64 shape: 2 data: "\\000" }')
    put("fuzz_checkpoint", "mismatch.payload", b"\x01" + wrong)


def npy(descr, shape, data):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (
        descr, "(%s)" % "".join("%d," % d for d in shape) if len(shape) == 1
        else "(" + ", ".join(str(d) for d in shape) + ")")
    pad = 64 - (10 + len(header) + 1) % 64
    header += " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


def arrays():
    put("fuzz_npy", "f4-3x2.npy", npy("<f4", (3, 2), struct.pack("<6f", *range(6))))
    put("fuzz_npy", "f8-4.npy", npy("<f8", (4,), struct.pack("<4d", 1, 2.5, -3, 1e300)))
    put("fuzz_npy", "i4-scalar.npy", npy("<i4", (), struct.pack("<i", -7)))
    put("fuzz_npy", "i8-2x0.npy", npy("<i8", (2, 0), b""))
    put("fuzz_npy", "b1-3.npy", npy("|b1", (3,), b"\x01\x00\x01"))


def idx(code, shape, data):
    return b"\x00\x00" + bytes([code, len(shape)]) + b"".join(
        struct.pack(">I", d) for d in shape) + data


def idx_files():
    images = idx(0x08, (2, 2, 3), bytes(range(12)))
    put("fuzz_idx", "images-ubyte", images)
    put("fuzz_idx", "images-ubyte.gz", gzip.compress(images, mtime=0))
    put("fuzz_idx", "labels-ubyte", idx(0x08, (4,), b"\x09\x00\x00\x03"))
    put("fuzz_idx", "floats", idx(0x0D, (2,), struct.pack(">2f", 1.5, -2)))
    put("fuzz_idx", "int16", idx(0x0B, (3,), struct.pack(">3h", 1, -2, 300)))


if __name__ == "__main__":
    shutil.rmtree(CORPUS, ignore_errors=True)
    executables(graphs())
    checkpoints()
    arrays()
    idx_files()
