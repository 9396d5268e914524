"""Embedded model files, lookup by name, path or hash, the compression levels, and loaded-model caching.

An embedded model is shipped as a small config, models/NAME.json: {"network": NET, "sha256": HEX, "header": {...}},
the header of its model file, and the network it names, models/networks/NET.net, the bytes of its tensors. Many
models share one network (they differ in match model, counts or maps), and each network is shipped once. Loading
joins the two into the model file's exact bytes (neuralzip.modelfile.join), whose SHA-256 must be the one the
config records: that hash is the model's identity in every stream.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from . import modelfile
from .backend import Backend
from .errors import NeuralZipError
from .model import LSTMModel

MODELS_DIR = Path(__file__).parent / "models"
NETWORKS_DIR = MODELS_DIR / "networks"
MODEL_SUFFIX = ".nzm"          # a model file, as `nzip train` writes it and --model PATH reads it
CONFIG_SUFFIX = ".json"        # an embedded model's config
NETWORK_SUFFIX = ".net"        # an embedded network


@dataclass(frozen=True)
class Level:
    model: str          # name of an embedded model
    chunk_size: int     # bytes per independent chunk


DEFAULT_MODEL = "lstm384-v16"  # lstm384-v10 and the bit mixer with an input map and the key context: 13-26 % smaller
                               # than lstm384-v12 on structured text, as fast (no byte-level maps)
BEST_MODEL = "lstm384-v14"    # lstm384-v11 (maps on every node) and the bit mixer
MIDDLE_MODEL = "lstm384-v15"  # lstm384-v9 (three orders of counts, one set of betas) and the bit mixer: faster
FAST_MODEL = "lstm128-v2"     # 128 cells and the bit mixer (no counts): about 4 times the speed, 0.1 bpb larger
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
    return sorted(p.name.removesuffix(CONFIG_SUFFIX) for p in MODELS_DIR.glob("*" + CONFIG_SUFFIX))


@functools.lru_cache(maxsize=None)
def _embedded_config(name: str) -> dict:
    return json.loads((MODELS_DIR / f"{name}{CONFIG_SUFFIX}").read_text(encoding="utf-8"))


def embedded_sha256(name: str) -> bytes:
    """The identity an embedded model's config records (load() checks the model's bytes against it)."""
    return bytes.fromhex(_embedded_config(name)["sha256"])


def embedded_bytes(name: str) -> bytes:
    """An embedded model's file, byte for byte: its header joined to its network."""
    config = _embedded_config(name)
    network = (NETWORKS_DIR / f"{config['network']}{NETWORK_SUFFIX}").read_bytes()
    data = modelfile.join(config["header"], network)
    if hashlib.sha256(data).digest() != embedded_sha256(name):
        raise NeuralZipError(f"the embedded model {name!r} is damaged (its bytes do not have the SHA-256 its config "
                             f"records); reinstall neuralzip")
    return data


def embed(data: bytes, network: str | None = None, models_dir: Path = MODELS_DIR) -> Path:
    """Add a model file to the embedded models: write its config, and its network unless one with the same bytes
    is already there (then network may be None). Returns the config's path."""
    header, tensors = modelfile.split(data)
    networks_dir = models_dir / NETWORKS_DIR.name
    shared = [p for p in sorted(networks_dir.glob("*" + NETWORK_SUFFIX)) if p.read_bytes() == tensors]
    if shared:
        network = shared[0].name.removesuffix(NETWORK_SUFFIX)
    elif network is None:
        raise ValueError(f"model {header['name']!r} has a new network: name it (network=...)")
    else:
        networks_dir.mkdir(parents=True, exist_ok=True)
        (networks_dir / f"{network}{NETWORK_SUFFIX}").write_bytes(tensors)
    config = {"network": network, "sha256": hashlib.sha256(data).hexdigest(), "header": header}
    path = models_dir / f"{header['name']}{CONFIG_SUFFIX}"
    path.write_text(json.dumps(config, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


@functools.lru_cache(maxsize=16)
def _read_embedded(name: str) -> modelfile.ModelFile:
    return modelfile.load(embedded_bytes(name))


@functools.lru_cache(maxsize=16)
def _read(path: str, mtime_ns: int) -> modelfile.ModelFile:
    return modelfile.load(Path(path).read_bytes())


def load(model: str | os.PathLike) -> modelfile.ModelFile:
    """A model by embedded name or by path to a model file."""
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a name or a path, not {type(model).__name__}")
    if isinstance(model, str) and os.sep not in model and model in embedded_names():
        return _read_embedded(model)
    path = Path(model)
    if not path.is_file():
        raise ValueError(f"no model {str(model)!r}: give a model file's path or one of {embedded_names()}")
    return _read(str(path.resolve()), path.stat().st_mtime_ns)


def find(model_id: bytes, name: str, hint: modelfile.ModelFile | None = None) -> modelfile.ModelFile:
    """The model a stream was made with: the given one if its SHA-256 starts with model_id, else an embedded one
    whose does."""
    if hint is not None and hint.sha256.startswith(model_id):
        return hint
    for candidate in embedded_names():
        if embedded_sha256(candidate).startswith(model_id):
            return load(candidate)
    if not name:            # format version 3 names the model by its id alone
        raise NeuralZipError(f"this stream needs model {model_id.hex()}, which this neuralzip does not hold: pass "
                             f"the model file whose SHA-256 begins so with model=PATH (--model PATH), or the stream "
                             f"is damaged")
    raise NeuralZipError(f"this stream was compressed with model {name!r} (sha256 {model_id.hex()[:16]}...), "
                         f"which is not embedded in this neuralzip; pass it with model=PATH (--model PATH)")


@dataclass(frozen=True)
class ModelOnDevice:
    """A model and the device it is to run on, as a batch's job gets them: called, the runtime (loaded once per
    process). A job holds this rather than the runtime so that it can be sent to another process, which runs the
    model on a device of its own (neuralzip.distributed), and so that the model is loaded only where needed."""
    file: modelfile.ModelFile
    device: Backend

    def __call__(self) -> LSTMModel:
        return runtime(self.file, self.device)


@functools.lru_cache(maxsize=8)
def runtime(model: modelfile.ModelFile, where: Backend) -> LSTMModel:
    """The model resident on a backend's device, loaded once per process."""
    return LSTMModel(model.config, model.tensors, where)
