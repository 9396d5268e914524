"""Model files: a config and integer tensors in one self-describing file, named by the SHA-256 of its bytes.

Layout: b"NZMODEL1", a u32 (little-endian) length, that many bytes of UTF-8 JSON
({"name", "description", "config", "tensors": [{"name", "dtype", "shape"}...]}), then each tensor's bytes in
that order, little-endian and C-contiguous. The hash of the file is the model's identity in every stream.

A file splits into its header (JSON) and its network (the tensors' bytes): models that differ only in their
config (match model, counts, maps) share one network, which the package ships once (neuralzip.zoo).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
from dataclasses import dataclass

import numpy as np

from .errors import NeuralZipError
from .model import ModelConfig, TENSOR_SPECS, as_array

MAGIC = b"NZMODEL1"
_DTYPES = ("int8", "int32", "int64")


@dataclass(frozen=True, eq=False)   # compared and hashed by identity; sha256 names it
class ModelFile:
    name: str
    description: str
    config: ModelConfig
    tensors: dict            # name -> numpy array
    sha256: bytes            # of the file's bytes


# config fields added after models were shipped: written only when set, so that a model made before one existed
# rebuilds to the same bytes (and the same SHA-256, its identity in every stream)
_LATER_FIELDS = {"count_word", "apm_orders", "apm_table_bits", "apm_limit", "apm_share", "apm_word", "apm_mass",
                "mixer_table_bits", "mixer_rate", "mixer_limit", "mixer_map_order",
                "mixer_key"}


def dump(name: str, config: ModelConfig, tensors: dict, description: str = "") -> bytes:
    """The model file of tensors (name -> numpy array or CPU torch tensor, as TENSOR_SPECS names them)."""
    if not name or len(name.encode()) > 255:
        raise ValueError("a model name must be 1 to 255 bytes of UTF-8")
    arrays = {k: as_array(tensors[k]) for k in TENSOR_SPECS}
    index = [{"name": k, "dtype": arrays[k].dtype.name, "shape": list(arrays[k].shape)} for k in TENSOR_SPECS]
    fields = {k: v for k, v in dataclasses.asdict(config).items() if k not in _LATER_FIELDS or v}
    header = {"name": name, "description": description, "config": fields, "tensors": index}
    network = b"".join(np.ascontiguousarray(arrays[k], arrays[k].dtype.newbyteorder("<")).tobytes()
                       for k in TENSOR_SPECS)
    return join(header, network)


def split(data: bytes) -> tuple[dict, bytes]:
    """A model file's header (the JSON object) and its network (the tensors' bytes); join() makes it again."""
    if data[:8] != MAGIC:
        raise NeuralZipError("not a neuralzip model file (bad magic bytes)")
    try:
        (n,) = struct.unpack_from("<I", data, 8)
        header = json.loads(data[12:12 + n])
    except (ValueError, struct.error) as e:
        raise NeuralZipError(f"damaged neuralzip model file: {e}") from None
    if _encode(header) != data[12:12 + n]:
        raise NeuralZipError("this model file's header is not in the form dump() writes; it cannot be split")
    return header, data[12 + n:]


def join(header: dict, network: bytes) -> bytes:
    """The model file of a header and a network (the inverse of split())."""
    encoded = _encode(header)
    return MAGIC + struct.pack("<I", len(encoded)) + encoded + network


def _encode(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True).encode()


def load(data: bytes) -> ModelFile:
    if data[:8] != MAGIC:
        raise NeuralZipError("not a neuralzip model file (bad magic bytes)")
    try:
        (n,) = struct.unpack_from("<I", data, 8)
        header = json.loads(data[12:12 + n])
        # JSON gives lists where the config holds tuples (match_prior, count_orders...)
        config = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in header["config"].items()})
        tensors, pos = {}, 12 + n
        for entry in header["tensors"]:
            if entry["dtype"] not in _DTYPES:
                raise ValueError(f"unknown dtype {entry['dtype']!r}")
            np_dtype = np.dtype(entry["dtype"]).newbyteorder("<")
            count = int(np.prod(entry["shape"]))
            arr = np.frombuffer(data, dtype=np_dtype, count=count, offset=pos).astype(np_dtype.newbyteorder("="))
            tensors[entry["name"]] = arr.reshape(entry["shape"])
            pos += count * np_dtype.itemsize
    except (KeyError, TypeError, ValueError, struct.error) as e:
        raise NeuralZipError(f"damaged neuralzip model file: {e}") from None
    if pos != len(data):
        raise NeuralZipError("damaged neuralzip model file: wrong length")
    return ModelFile(header["name"], header.get("description", ""), config, tensors, hashlib.sha256(data).digest())
