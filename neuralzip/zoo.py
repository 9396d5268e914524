"""Embedded model files, lookup by name, path or hash, the compression levels, and loaded-model caching."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from . import modelfile
from .errors import NeuralZipError
from .model import LSTMModel

MODELS_DIR = Path(__file__).parent / "models"
MODEL_SUFFIX = ".nzm"


@dataclass(frozen=True)
class Level:
    model: str          # name of an embedded model
    chunk_size: int     # bytes per independent chunk


DEFAULT_MODEL = "lstm384-v12"  # lstm384-v10 and the maps on the nodes that hold 1/256 of the prediction or more
BEST_MODEL = "lstm384-v11"    # lstm384-v10 and adaptive probability maps: 3-6 % smaller, a third of the speed
MIDDLE_MODEL = "lstm384-v9"   # three orders of counts and one set of betas: about 1.4 times the speed
FAST_MODEL = "lstm128-v1"     # 128 cells, counts of three orders and words: 4 times the speed, 0.2 bpb larger
FASTEST_MODEL = "lstm64-v1"   # 64 cells, counts of two orders, no match model: 7 times the speed, 0.3 bpb larger
LEVELS = {1: Level(FASTEST_MODEL, 4096), 2: Level(FAST_MODEL, 4096), 3: Level(MIDDLE_MODEL, 4096),
          4: Level(MIDDLE_MODEL, 4096),
          5: Level(DEFAULT_MODEL, 4096), 6: Level(DEFAULT_MODEL, 4096),
          **{n: Level(BEST_MODEL, size) for n, size in {7: 8192, 8: 16384, 9: 262144}.items()}}
DEFAULT_LEVEL = 6
MIN_LEVEL, MAX_LEVEL = min(LEVELS), max(LEVELS)


def level(n: int | None) -> Level:
    if n is None:
        return LEVELS[DEFAULT_LEVEL]
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"level must be an int, not {type(n).__name__}")
    if n not in LEVELS:
        raise ValueError(f"level must be between {MIN_LEVEL} and {MAX_LEVEL}, not {n}")
    return LEVELS[n]


def embedded_names() -> list[str]:
    return sorted(p.name.removesuffix(MODEL_SUFFIX) for p in MODELS_DIR.glob("*" + MODEL_SUFFIX))


@functools.lru_cache(maxsize=16)
def _read(path: str, mtime_ns: int) -> modelfile.ModelFile:
    return modelfile.load(Path(path).read_bytes())


def load(model: str | os.PathLike) -> modelfile.ModelFile:
    """A model by embedded name or by path to a model file."""
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a name or a path, not {type(model).__name__}")
    embedded = MODELS_DIR / f"{model}{MODEL_SUFFIX}"
    if isinstance(model, str) and os.sep not in model and embedded.is_file():
        path = embedded
    elif Path(model).is_file():
        path = Path(model)
    else:
        raise ValueError(f"no model {str(model)!r}: give a model file's path or one of {embedded_names()}")
    return _read(str(path.resolve()), path.stat().st_mtime_ns)


def find(model_id: bytes, name: str, hint: modelfile.ModelFile | None = None) -> modelfile.ModelFile:
    """The model a stream was made with: the given one if its SHA-256 starts with model_id, else an embedded one
    whose does."""
    if hint is not None and hint.sha256.startswith(model_id):
        return hint
    for candidate in embedded_names():
        m = load(candidate)
        if m.sha256.startswith(model_id):
            return m
    raise NeuralZipError(f"this stream was compressed with model {name!r} (sha256 {model_id.hex()[:16]}...), "
                         f"which is not embedded in this neuralzip; pass it with model=PATH (--model PATH)")


def resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be 'cpu', 'cuda', 'auto' or a torch.device, not {type(device).__name__}")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', not {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available; use device='cpu' or 'auto'")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', not {device!r}")
    return dev


@dataclass(frozen=True)
class ModelOnDevice:
    """A model and the device it is to run on, as a batch's job gets them: called, the runtime (loaded once per
    process). A job holds this rather than the runtime so that it can be sent to another process, which runs the
    model on a device of its own (neuralzip.distributed), and so that the model is loaded only where needed."""
    file: modelfile.ModelFile
    device: torch.device

    def __call__(self) -> LSTMModel:
        return runtime(self.file, self.device)


@functools.lru_cache(maxsize=8)
def runtime(model: modelfile.ModelFile, device: torch.device) -> LSTMModel:
    """The model's tensors resident on a device, loaded once per process."""
    return LSTMModel(model.config, model.tensors, device)
