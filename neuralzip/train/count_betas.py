"""Calibrate context counts: the sets of betas, chosen for the smallest code length on held-out text.

    python -m neuralzip.train.count_betas MODEL DATA... -o OUT.nzm --name NAME [--orders 4,8,12] [--word]
        [--table-bits 18] [--bytes 1048576] [--piece BYTES] [--spread] [--chunk 16384] [--grid A;A;...]...

Runs MODEL (which must have match groups) with context counts of the given orders (neuralzip.counts) over the first
--bytes of DATA (with --spread, inputs of --piece bytes from evenly spaced places in it), cut into inputs of --piece
bytes (default: one input) and each input into chunks run in one lockstep batch as the engine would group them, and
records at every position the probability of the actual byte before the counts, and per order the context's count,
its number of distinct bytes and the count of the actual byte (with --word, the word context's first: see
neuralzip.counts). The counts do not depend on the betas, and the blended probability of the actual byte needs only
these, so the betas are then chosen offline and written with MODEL's network as OUT:

- without --grid, one set (a_k, b_k), each searched in turn over a grid of powers of two and their halves, three
  passes;
- with --grid, the sets a group adapts among (see neuralzip.counts): per order, the values of a, separated by
  ';' (b is 1), '=' for the previous order's; the sets are every combination. "16,64,256;3,6,12;=" gives 9 sets.
  Given several times, each grid is measured and the one of least code length is written.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import backend, modelfile, zoo
from ..counts import COST_DECAY, ContextCounts
from ..model import LSTMModel, ModelConfig
from ..predictor import chunk_groups
from .evaluate import chunk_predictor, chunk_tokens

BETA_GRID = sorted({int(b) for e in range(14) for b in (2 ** e, 1.5 * 2 ** e)})   # 1 ... 12288, half observations


class Recording(NamedTuple):
    """One input's chunks in lockstep: per stream and step, the probability the network and match model gave
    the actual byte (B, T), per order its context's count n, distinct bytes u and the count c of the byte itself
    (each (B, T, K)); which positions are live (B, T) and each stream's group (B,)."""
    prob: np.ndarray
    n: np.ndarray
    u: np.ndarray
    c: np.ndarray
    live: np.ndarray
    group: np.ndarray


def record(config: ModelConfig, tensors: dict, data: bytes, chunk: int = 16384) -> Recording:
    """data as one input. config: a model config with match groups and context counts (their betas do not
    matter here); the counts run beside a predictor without them, since they never change what it says."""
    tokens, lengths = chunk_tokens(data, chunk)
    B, T, K = *tokens.shape, len(config.count_orders) + config.count_word
    plain = dataclasses.replace(config, count_orders=(), count_betas=(), count_table_bits=0, count_word=0)
    p = chunk_predictor(LSTMModel(plain, tensors), lengths, chunk)
    groups = chunk_groups([b * chunk for b in range(B)], config.match_group_bytes)
    counts = ContextCounts(groups, lengths.tolist(), config.count_orders, config.count_betas,
                           config.count_table_bits, config.start_token, backend.choose("cpu"),
                           word=config.count_word == 1)
    # filled in place: a list of small arrays per step fragments the heap to gigabytes over millions of steps
    prob = np.zeros((B, T), np.float64)
    n, u, c = (np.zeros((B, T, K), np.int32) for _ in range(3))
    rows, where = np.arange(B), p.model.backend
    for t in range(T):
        f = where.to_host(p.frequencies()).astype(np.float64)
        sym = tokens[:, t].copy()
        seen, total, kinds = (counts.backend.to_host(x) for x in counts.lookup())
        n[:, t], u[:, t] = total[:, :, 0], kinds[:, :, 0]
        prob[:, t] = f[rows, sym] / f.sum(1)
        c[:, t] = seen[rows, :, sym]
        p.advance(where.array(sym))
        counts.update(t, counts.backend.array(sym))
    live = np.arange(T)[None, :] < lengths[:, None]                                          # (B, T)
    group = np.unique(groups, return_inverse=True)[1]
    return Recording(prob, n, u, c, live, group)


def _blend(r: Recording, betas: list[int]) -> np.ndarray:
    """The probability of each recorded byte with counts blended in at one set of betas (neuralzip.counts)."""
    prob = r.prob
    for k in range(len(betas) // 2):
        beta = betas[2 * k] * r.u[..., k] + betas[2 * k + 1]
        prob = (2 * r.c[..., k] + beta * prob) / (2 * r.n[..., k] + beta)
    return prob


def code_length(recordings: list[Recording], sets: list[list[int]]) -> float:
    """Bits of the recorded bytes with counts blended in; with several sets, each group blends with the set of
    least running code length, as neuralzip.counts does (in floating point here: an estimate)."""
    total = 0.0
    for r in recordings:
        bits = np.stack([-np.log2(np.where(r.live, _blend(r, s), 1.0)) for s in sets])      # (J, B, T)
        if len(sets) == 1:
            total += float(bits.sum())
            continue
        members = (np.arange(r.group.max() + 1)[:, None] == r.group).astype(np.float64)       # (G, B)
        running = np.zeros((len(members), len(sets)))                                        # (G, J)
        for t in range(bits.shape[2]):
            chosen = running.argmin(1)[r.group]                                              # (B,)
            total += float(bits[chosen, np.arange(len(r.group)), t].sum())
            running += members @ bits[:, :, t].T - running / 2 ** COST_DECAY
    return total


def search(recordings: list[Recording]) -> list[int]:
    """One set of betas (a_1, b_1, ...), each in turn the best on BETA_GRID, three passes."""
    orders = recordings[0].n.shape[2]
    betas = [8, 1] * orders
    for _ in range(3):
        for i in range(len(betas)):
            grid = BETA_GRID + [0] if i % 2 == 0 else BETA_GRID
            betas[i] = min(grid, key=lambda b: code_length(recordings, [betas[:i] + [b] + betas[i + 1:]]))
    return betas


def grid_sets(spec: str, orders: int) -> list[list[int]]:
    """"16,64,256;3,6,12;=" -> every combination of a per order (b = 1), '=' repeating the previous order's."""
    parts = spec.split(";")
    if len(parts) != orders or parts[0] == "=":
        raise ValueError(f"--grid {spec!r}: give {orders} orders' values of a separated by ';' ('=' after the "
                         "first to repeat the previous order's)")
    free = [[int(a) for a in p.split(",")] for p in parts if p != "="]
    sets = []
    for values in itertools.product(*free):
        a, it = [], iter(values)
        for p in parts:
            a.append(a[-1] if p == "=" else next(it))
        sets.append([x for v in a for x in (v, 1)])
    return sets


if __name__ == "__main__":
    import argparse
    import hashlib
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("data", nargs="+", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--orders", default="4,8,12")
    ap.add_argument("--word", action="store_true", help="a word context too, blended first (its betas first)")
    ap.add_argument("--table-bits", type=int, default=18)
    ap.add_argument("--bytes", type=int, default=1 << 20)
    ap.add_argument("--piece", type=int, default=0, help="bytes per input (default: all --bytes as one)")
    ap.add_argument("--spread", action="store_true",
                    help="take the --piece inputs from evenly spaced places in DATA, not from its start")
    ap.add_argument("--chunk", type=int, default=16384)
    ap.add_argument("--grid", action="append", default=[])
    ap.add_argument("--description", default="")
    ap.add_argument("--group-bytes", type=int, default=0,
                    help="match groups for a model that has none (counts are shared within a group), e.g. a "
                         "network straight from export, which then needs no match model")
    a = ap.parse_args()
    base = zoo.load(a.model)
    orders = tuple(int(k) for k in a.orders.split(","))
    contexts = len(orders) + a.word
    grids = {spec: grid_sets(spec, contexts) for spec in a.grid}
    config = dataclasses.replace(base.config, count_orders=orders, count_betas=(0, 1) * contexts,
                                 count_table_bits=a.table_bits, count_word=int(a.word))
    if a.group_bytes:
        if base.config.match_group_bytes not in (0, a.group_bytes):
            ap.error(f"the model already has match groups of {base.config.match_group_bytes} bytes")
        config = dataclasses.replace(config, match_group_bytes=a.group_bytes)
    data = b"".join(f.read_bytes() for f in a.data)
    piece = a.piece or min(a.bytes, len(data))
    if a.spread:           # a.bytes // piece inputs, the k-th from k / inputs of the way through DATA
        inputs = max(a.bytes // piece, 1)
        data = b"".join(data[k * len(data) // inputs:][:piece] for k in range(inputs))
    data = data[:a.bytes]
    recordings = [record(config, base.tensors, data[i:i + piece], a.chunk) for i in range(0, len(data), piece)]
    per_byte = lambda sets: code_length(recordings, sets) / len(data)
    print(f"without counts {per_byte([[]]):.4f} bpb on {len(data)} bytes in {len(recordings)} inputs")
    if grids:
        measured = {}                            # spec -> bpb, each grid's (slow) estimate made once
        for spec, sets in grids.items():
            measured[spec] = per_byte(sets)
            print(f"grid {spec}: {len(sets)} sets, {measured[spec]:.4f} bpb", flush=True)
        sets = grids[min(measured, key=measured.get)]
    else:
        sets = [search(recordings)]
        print(f"betas {sets[0]}: {per_byte(sets):.4f} bpb")
    config = dataclasses.replace(config, count_betas=tuple(x for s in sets for x in s))
    blob = modelfile.dump(a.name, config, base.tensors, a.description)
    a.out.write_bytes(blob)
    print(f"{a.out}: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")
