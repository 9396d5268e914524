"""Calibrate a match model's prior: how often its prediction is right, per cell, on text it was not tested on.

    python -m neuralzip.train.match_prior MODEL DATA... -o OUT.nzm --name NAME [--strength 8] [--bytes 1048576]
        [--group-bytes N] [--table-bits M] [--local-bits L]

Runs the network with a match model over the first --bytes of DATA in 16 KiB chunks, counts hits and misses in
every (match length, network probability) cell, and writes MODEL's network with match_context 4 (its tables
shared by chunks in groups of --group-bytes, 0 for none, of 2**--table-bits slots, and with groups a table of
2**--local-bits slots per chunk, 0 for none) and, as match_prior, those rates as pseudo-counts worth --strength
observations. Streams start from that prior and adapt from there, so short chunks do not pay to learn what is
true of text in general.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .. import modelfile, zoo
from ..model import LSTMModel, ModelConfig
from ..predictor import N_CELLS, PRIOR_UNIT, uniform_prior
from .evaluate import chunk_predictor, chunk_tokens


def cell_counts(model: LSTMModel, data: bytes, chunk: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """(hits, misses) per cell, summed over data's chunks, all chunks in one lockstep batch."""
    tokens, lengths = chunk_tokens(data, chunk)
    steps = tokens.shape[1]
    p = chunk_predictor(model, lengths, chunk)
    hits = np.zeros(N_CELLS, np.int64)
    misses = np.zeros(N_CELLS, np.int64)
    where = model.backend
    for t in range(steps):
        p.frequencies()
        live = lengths > t
        before_h, before_m = where.to_host(p.match.hits).copy(), where.to_host(p.match.misses).copy()
        p.advance(where.array(tokens[:, t].copy()))
        # padding past a chunk's end not counted
        hits += (where.to_host(p.match.hits) - before_h)[live].sum(0) // PRIOR_UNIT
        misses += (where.to_host(p.match.misses) - before_m)[live].sum(0) // PRIOR_UNIT
    return hits, misses


def prior(hits: np.ndarray, misses: np.ndarray, strength: int) -> list[int]:
    """Pseudo-counts (hits then misses, in 16ths) worth `strength` observations, at each cell's hit rate."""
    weight = strength * PRIOR_UNIT
    rate = (hits + 0.5) / (hits + misses + 1.0)
    h = np.clip(np.rint(rate * weight), 1, weight - 1).astype(np.int64)
    return [int(x) for x in h] + [int(x) for x in weight - h]


def calibrated(base: modelfile.ModelFile, data: bytes, strength: int, **match) -> tuple[ModelConfig, np.ndarray,
                                                                                         np.ndarray]:
    """The config of base's network with a match model whose prior comes from data, and the cell counts.
    match: other match model settings (match_group_bytes, match_table_bits, match_local_bits) to calibrate with
    and keep."""
    config = dataclasses.replace(base.config, match_context=4, match_prior=tuple(uniform_prior()), **match)
    hits, misses = cell_counts(LSTMModel(config, base.tensors), data)
    config = dataclasses.replace(config, match_prior=tuple(prior(hits, misses, strength)))
    return config, hits, misses


if __name__ == "__main__":
    import argparse
    import hashlib
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("data", nargs="+", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--strength", type=int, default=8)
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--group-bytes", type=int, default=0)
    p.add_argument("--table-bits", type=int, default=ModelConfig.match_table_bits)
    p.add_argument("--local-bits", type=int, default=0)
    p.add_argument("--description", default="")
    a = p.parse_args()
    base = zoo.load(a.model)
    data = b"".join(f.read_bytes() for f in a.data)[:a.bytes]
    config, hits, misses = calibrated(base, data, a.strength, match_group_bytes=a.group_bytes,
                                      match_table_bits=a.table_bits, match_local_bits=a.local_bits)
    blob = modelfile.dump(a.name, config, base.tensors, a.description)
    a.out.write_bytes(blob)
    print(f"{a.out}: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}; "
          f"{int(hits.sum())} hits, {int(misses.sum())} misses on {len(data)} bytes")
