# lit configuration for nncc: every pass and op is tested through nncc-opt or
# nncc with FileCheck.
import os
import lit.formats

config.name = "nncc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".pbtxt", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.nncc_obj_root, "test", "lit")

# Hermetic: no test reads or writes the user's compile cache (cli/compile-cache.test
# turns it on for itself).
config.environment["NNCC_NO_CACHE"] = "1"
config.environment["PATH"] = os.pathsep.join(
    [config.nncc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.substitutions.append(("%examples", os.path.join(config.nncc_src_root, "examples")))

# The x86-64 levels this CPU runs (nncc compile --cpu=x86-64-vN code loads
# only where it does).
def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()

_flags = cpu_flags()
if {"avx2", "fma", "bmi2", "movbe", "f16c"} <= _flags:
    config.available_features.add("x86-64-v3")
if {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"} <= _flags:
    config.available_features.add("x86-64-v4")
if "sse2" in _flags:
    config.available_features.add("x86-64")

# LLVM's linker (Debian's lld-19): nncc compile --triple links another
# architecture's kernels with it.
import shutil
if shutil.which("ld.lld-19"):
    config.available_features.add("ld.lld-19")

# Tests on the Debian package dataset-fashion-mnist (installed by setup).
if os.path.isdir("/usr/share/datasets/fashion-mnist"):
    config.available_features.add("fashion-mnist")

# Debian's python3-torch and python3-onnx under /usr/bin/python3 (installed
# by setup): the PyTorch export test and onnx.checker.
def python_has(module):
    import subprocess
    return subprocess.call(["/usr/bin/python3", "-c", "import " + module],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0

if python_has("torch"):
    config.available_features.add("torch")
if python_has("onnx"):
    config.available_features.add("python3-onnx")

# nncc built with the CUDA toolkit: NVRTC compiles the CUDA target's kernels.
if config.nncc_cuda:
    config.available_features.add("nvrtc")

# A GPU with its driver (libcuda.so.1 loads and /dev/nvidia0 is there).
def have_gpu():
    import ctypes
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return os.path.exists("/dev/nvidia0")

if have_gpu():
    config.available_features.add("gpu")
