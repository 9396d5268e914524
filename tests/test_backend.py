"""neuralzip.backend: the CPU runs numpy and numba without torch, the tensor form gives the same streams, and the
choice is made in one place."""

import subprocess
import sys

import pytest

import neuralzip
from neuralzip import backend

TEXT = b"The CPU path needs no torch: numpy arrays, numba loops, numpy's exact float32 products.\n" * 30
WITHOUT_TORCH = "import sys; sys.modules['torch'] = None\n"     # `import torch` raises ImportError from here on


def _python(code: str, data: bytes = b"") -> bytes:
    done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def test_importing_neuralzip_does_not_import_torch():
    assert _python("import sys, neuralzip; print('torch' in sys.modules)") == b"False\n"


@pytest.mark.parametrize("level", [1, 6])
def test_streams_are_the_same_bytes_without_torch(level):
    """The same stream whether torch is installed or not, and each process reads the other's."""
    code = WITHOUT_TORCH + (f"import neuralzip; d = sys.stdin.buffer.read(); z = neuralzip.compress(d, {level}); "
                            "assert neuralzip.decompress(z) == d and sys.modules['torch'] is None; "
                            "sys.stdout.buffer.write(z)")
    stream = _python(code, TEXT)
    assert stream == neuralzip.compress(TEXT, level)
    assert _python(WITHOUT_TORCH + "import neuralzip; sys.stdout.buffer.write(neuralzip.decompress("
                   "sys.stdin.buffer.read()))", stream) == TEXT


def test_the_cpu_takes_the_loops_and_the_hook_takes_the_tensors(monkeypatch):
    assert backend.choose("cpu") == backend.Backend("cpu", loops=True)
    assert backend.choose(backend.Backend("cpu", loops=False)).loops is False
    monkeypatch.setenv("NEURALZIP_FUSED", "0")
    assert backend.choose("cpu") == backend.Backend("cpu", loops=False)


def test_bad_devices_are_refused():
    with pytest.raises(ValueError, match="'cpu', 'cuda' or 'auto'"):
        backend.choose("tpu")
    with pytest.raises(ValueError):
        backend.choose("cpu:1")
    with pytest.raises(TypeError):
        backend.choose(3)


def test_cuda_without_a_gpu_says_so():
    if backend.torch_present() and __import__("torch").cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA is not available"):
        backend.choose("cuda")
