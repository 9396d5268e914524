"""Fixtures shared by several test files: a stream of several batches, and batch widths that really take effect."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path
from typing import NamedTuple

import pytest

import neuralzip
from neuralzip import zoo
from neuralzip.api import BATCH_CHUNKS
from neuralzip.format import MAX_GROUP_BYTES

CHUNK = 4096                   # level 1's chunk size
WORDS = (b"It is a truth universally acknowledged that a single man in possession of a good fortune must be in "
         b"want of a wife however little known the feelings or views of such a man may be on his first entering "
         b"a neighbourhood").split()


def prose(size: int, seed: int) -> bytes:
    """Sentences of WORDS in a random order: text the network codes smaller than zstd does."""
    rng, out = random.Random(seed), b""
    while len(out) < size:
        out += b" ".join(rng.choice(WORDS) for _ in range(12)) + b".\n"
    return out[:size]


def zstd_chunk(seed: int) -> bytes:
    """A chunk that is not near-random but that zstd codes smaller than the network: 700 symbols of 16, repeated."""
    rng = random.Random(seed)
    return (bytes(rng.randrange(16) + 100 for _ in range(700)) * 7)[:CHUNK]


class MultiBatch(NamedTuple):
    data: bytes
    blob: bytes             # data at level 1, one thread
    groups: int             # 4 MiB match groups (and batches of the CPU's width) it spans


def multi_batch_data() -> bytes:
    """Two whole 4 MiB groups and the start of a third, each with neural, zstd and stored frames: in each group two
    chunks of prose, a zstd chunk, near-random bytes (which skip the network, so the stream compresses fast) and a
    last chunk of prose; the third group is 300 bytes of prose."""
    rng = random.Random(22)
    groups = [prose(2 * CHUNK, g) + zstd_chunk(g) + rng.randbytes(MAX_GROUP_BYTES - 4 * CHUNK) + prose(CHUNK, 10 + g)
              for g in range(2)]
    return b"".join(groups) + prose(300, 99)


def _code_digest() -> str:
    """What the cached stream depends on: the package's code and the level-1 model."""
    root = Path(neuralzip.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.read_bytes())
    h.update(zoo.load(zoo.level(1).model).sha256)
    return h.hexdigest()[:16]


@pytest.fixture(scope="session")
def multi_batch(request) -> MultiBatch:
    """A stream of several batches that compresses in seconds (most of it near-random, which skips the network),
    made once per test run; kept in pytest's cache, keyed by the code that makes it, for the next run."""
    data = multi_batch_data()
    cache = getattr(request.config, "cache", None)
    key = f"neuralzip/multi-batch-{_code_digest()}.nz"
    path = cache.mkdir("neuralzip") / Path(key).name if cache is not None else None
    if path is not None and path.is_file():
        blob = path.read_bytes()
    else:
        blob = neuralzip.compress(data, 1)
        if path is not None:           # whole or not at all: another test process may read it meanwhile
            part = path.with_name(f"{path.name}.{os.getpid()}")
            part.write_bytes(blob)
            os.replace(part, path)
    return MultiBatch(data, blob, -(-len(data) // MAX_GROUP_BYTES))


@pytest.fixture
def batch_width(monkeypatch):
    """Set the number of chunks in a lockstep batch, on every device (a CUDA host batches with the "cuda" entry)."""
    def set_width(chunks: int) -> None:
        for device in BATCH_CHUNKS:
            monkeypatch.setitem(BATCH_CHUNKS, device, chunks)
    return set_width


@pytest.fixture
def count_batches(monkeypatch):
    """Count the lockstep batches that neuralzip.api codes: {"encode": [chunks per batch], "decode": [frames per
    batch], "threads": names of the threads that coded them}; the real coding still happens."""
    import threading
    from neuralzip import api
    seen = {"encode": [], "decode": [], "threads": []}
    real_encode, real_decode = api.encode_chunks, api.decode_chunks

    def encode(model, chunks, offsets, *floor):
        seen["encode"].append(len(chunks))
        seen["threads"].append(threading.current_thread().name)
        return real_encode(model, chunks, offsets, *floor)

    def decode(model_for_neural, frames, offsets, chunk_size):
        seen["decode"].append(len(frames))
        seen["threads"].append(threading.current_thread().name)
        return real_decode(model_for_neural, frames, offsets, chunk_size)

    monkeypatch.setattr(api, "encode_chunks", encode)
    monkeypatch.setattr(api, "decode_chunks", decode)
    return seen


@pytest.fixture(scope="session")
def ungrouped_model(tmp_path_factory) -> str:
    """Level 1's network alone, without match groups (and so without its counts, which need them): a model whose
    batches are as wide as BATCH_CHUNKS says, not rounded up to 4 MiB groups, so that small inputs span batches."""
    import dataclasses
    from neuralzip import modelfile
    base = zoo.load(zoo.level(1).model)
    config = dataclasses.replace(base.config, match_group_bytes=0, count_orders=(), count_betas=(), count_table_bits=0)
    path = tmp_path_factory.mktemp("models") / "ungrouped.nzm"
    path.write_bytes(modelfile.dump("ungrouped", config, base.tensors))
    return str(path)
