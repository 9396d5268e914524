"""Secondary estimation: adaptive probability maps over a byte's binary decisions, learned from the file.

The network, the match model and the counts each say how likely every byte is; none learns how far to trust
the blend itself in this file: a troff book or a usenet feed makes the chain too sure here and too timid there,
in ways that depend on the last byte or two. An adaptive probability map (APM, as in PAQ and lpaq) learns that.

A byte is read as 8 binary decisions, most significant bit first: the root node asks for its top bit, then the
node of its first bit asks for the second, ..., 255 nodes in all. The prediction q gives each node's probability
that the next bit is 1, p = (2**12 n_1) // (n_0 + n_1) with n_0, n_1 the frequencies under its two halves. For
each of the model's apm_orders k (1, 2, ...), and for the word being read (apm_word: the hash the counts' word
context reads), a table row per (context, node) holds 33 probabilities at the points -8, -7.5, ..., +8 nats of
stretch(p) = ln(p / (1 - p)); a map's answer is the interpolation between the two points around stretch(p), and
the node's new probability mixes the maps' mean with p, apm_share sixteenths to the maps. Each byte's
frequencies are then rebuilt as products down its path (2**24 split at every node, exactly, and 1 added to every
byte). After the byte, the two points of each of its 8 nodes move toward the bit that came, weighted by how near
they were, by 1 / (n + 1.5) of the distance, n being how often the point was hit so far (capped at apm_limit),
so a point learns quickly at first and then averages.

Tables start at the identity (the map returns p) and are shared by a match group's chunks in lockstep: every
member reads before any writes, and the writes to one point in one step are summed, so the result depends only
on the set of a step's writers, never on their order or the batch. All of it is integer arithmetic on the
model's device, exactly as FORMAT.md "Secondary estimation" gives it (on the CPU as compiled loops,
neuralzip.fused.apm, the same integers); the stretch and squash tables are PAQ's, built from 33 integers.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .backend import Backend
from .counts import next_word
from .fused import apm as _loops
from .fused.apm import POINTS      # per row: stretch -2048, -1920, ..., 2048 (in 256ths of a nat)
from .fused.hashing import MURMUR as _HASH_MULTIPLIER
from .tensorlib import torch

PROB_BITS = 12                   # node probabilities in, 1 ... 4095
ONE = 1 << 16                    # the maps' probabilities, 0 ... 65535
LEAF_TOTAL_BITS = 24             # the rebuilt frequencies sum to 2**24 + 256
FINAL_MIN, FINAL_MAX = 16, ONE - 16   # no node decision is ever surer than 4095 in 4096
# PAQ's squash at -2048, -1920, ..., 2048: 4096 / (1 + exp(-x / 256)), rounded as PAQ froze it
_SQUASH_POINTS = [1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549, 2994, 3348, 3607,
                  3785, 3901, 3975, 4022, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094]


def squash(x: int) -> int:
    """PAQ's squash: x in 256ths of a nat -> a probability in 4096ths, interpolating _SQUASH_POINTS."""
    if x > 2047:
        return 4095
    if x < -2047:
        return 0
    w = x & 127
    i = (x >> 7) + 16
    return (_SQUASH_POINTS[i] * (128 - w) + _SQUASH_POINTS[i + 1] * w + 64) >> 7


def _stretch_table() -> list[int]:
    """PAQ's stretch, squash's inverse: for each p in 0 ... 4095 the least x in -2047 ... 2047 with squash(x) >= p
    (and 2047 above squash(2047))."""
    table, p = [0] * 4096, 0
    for x in range(-2047, 2048):
        v = squash(x)
        for i in range(p, v + 1):
            table[i] = x
        p = v + 1
    for i in range(p, 4096):
        table[i] = 2047
    return table


STRETCH_TABLE = _stretch_table()
# each point's starting probability (16 bits): the identity map, squash at the point
INITIAL_POINTS = [squash((j - 16) * 128) * 16 for j in range(POINTS)]


class AdaptiveProbabilityMaps:
    """The maps of the given orders for a batch of streams, per group (see the module docstring).

    groups: (B,) each stream's group; lengths: (B,) each stream's length (a finished stream never writes);
    orders: context lengths in bytes, each 1 to 3; word: a map on the word being read too (its hash as the
    counts' word context reads it, neuralzip.counts.next_word); table_bits: rows per map but order 1's (which has
    one row per (byte, node), 65,280); limit: a point's hit count stops growing here; share: sixteenths of the new
    probability that come from the maps; start_token: the byte every stream is read as following; mass: when above
    0, only the nodes holding at least 2**-mass of the frequencies are mapped, the rest keep the prediction (a
    node the prediction gives little weight to costs little either way, and skipping it spares its reads).
    """

    def __init__(self, groups: list[int], lengths: list[int], orders: tuple, table_bits: int, limit: int,
                 share: int, start_token: int, where: Backend, word: bool = False, mass: int = 0):
        where = backend.choose(where)          # a device names its backend
        long = np.int64
        self.orders, self.limit, self.share, self.mass = tuple(orders) + ("word",) * word, limit, share, mass
        self.lengths = np.array(lengths, long)                                                # (B,)
        label = {g: i for i, g in enumerate(dict.fromkeys(groups))}
        group = np.array([label[g] for g in groups], long)
        # per group, per map, its rows: 256 x 255 for order 1, 2**table_bits for the others (hashed)
        sizes = [256 * 255 if k == 1 else 1 << table_bits for k in self.orders]
        self.table_bits = table_bits
        self.order_base = [sum(sizes[:i]) for i in range(len(sizes))]   # where each map's rows begin
        rows = sum(sizes)
        self.group_base = group * rows                                                        # (B,)
        # each point as its difference from its starting probability (so a new table is all zeros), and its
        # hits in 128ths
        self.points = where.zeros(len(label) * rows * POINTS, np.int32)
        self.hits = where.zeros(len(label) * rows * POINTS, np.int32)
        self.initial = np.array(INITIAL_POINTS, long)
        self.stretch = np.array(STRETCH_TABLE, long) + 2048                                   # p -> position
        # the identity map at each position: what the starting points interpolate to
        position = np.arange(4096, dtype=long)
        lo, w = position >> 7, position & 127
        self.start_map = (self.initial[lo] * (128 - w) + self.initial[lo + 1] * w) >> 7
        self.history = np.full(len(groups), start_token * 0x01010101, long)                  # last 4 bytes
        self.word = np.zeros(len(groups), long)                                               # as the counts'
        self.nodes = np.arange(255, dtype=long)
        depth = np.arange(8, dtype=long)
        self.path_base = (1 << depth) - 1                                                     # (8,)
        self.path_shift = 8 - depth                                                           # (8,)
        self.bit_shift = 7 - depth
        self.fused = where.loops
        if not self.fused:
            where.adopt(self)
            return
        # the same arithmetic as loops (neuralzip.fused.apm), in place on these arrays
        B, A = len(groups), len(self.orders)
        writes = B * A * 8 * 2                                  # a step's at most
        self._state = _loops.MapsState(
            lengths=self.lengths, history=self.history, word=self.word, group_base=self.group_base,
            kinds=np.array([0 if k == "word" else k for k in self.orders], dtype=np.int64),   # 0: the word
            order_base=np.array(self.order_base, dtype=np.int64), shift=32 - table_bits, points=self.points,
            hits=self.hits, initial=self.initial, stretch=self.stretch, start_map=self.start_map, share=share,
            mass=mass, limit=limit, position=np.zeros((B, 255), dtype=np.int64),
            slots=np.full((1 << (2 * writes).bit_length(), 2), -1, dtype=np.int64),     # a hash table of cells
            writes=np.zeros((writes, 6), dtype=np.int64))

    def mix(self, freqs: torch.Tensor) -> torch.Tensor:
        """(B, V) integer frequencies -> (B, V) int64 frequencies rebuilt from the maps' node probabilities."""
        B = freqs.shape[0]
        if self.fused:
            if freqs.shape != (B, 256):     # the loops read 256 a stream, unchecked
                raise ValueError(f"the maps need (B, 256) frequencies, not {tuple(freqs.shape)}")
            out = np.empty((B, 256), dtype=np.int64)
            _loops.mix(self._state, np.ascontiguousarray(freqs, dtype=np.int64), out)
            return out
        level, pairs = freqs.long(), []
        for d in range(7, -1, -1):                      # node sums, the deepest first: (B, 2**d, 2) each
            level = level.view(B, 1 << d, 2)
            pairs.append(level)
            level = level.sum(2)
        n = torch.cat(pairs[::-1], 1)                                                         # (B, 255, 2)
        p = ((n[:, :, 1] << PROB_BITS) // n.sum(2)).clamp_(1, (1 << PROB_BITS) - 1)           # (B, 255)
        pos = self.stretch.index_select(0, p.view(-1)).view(B, 255)                           # 1 ... 4095
        lo, w = pos >> 7, pos & 127
        # the maps are linear in their points: interpolate the sum of the orders' differences from the start
        at = []
        for k, base in zip(self.orders, self.order_base):
            context = self.word & 0xFFFFFF if k == "word" else self.history & ((1 << 8 * k) - 1)
            key = context[:, None] * 255 + self.nodes                                         # (B, 255) < 2**32
            row = key if k == 1 else ((key * _HASH_MULTIPLIER) & 0xFFFFFFFF) >> (32 - self.table_bits)
            at.append((row + (self.group_base[:, None] + base)) * POINTS + lo)
        at = torch.stack(at, 1)                                                               # (B, A, 255)
        flat = at.view(-1)
        low = self.points.index_select(0, flat).view(at.shape).sum(1, dtype=torch.int64)      # (B, 255)
        high = self.points.index_select(0, flat + 1).view(at.shape).sum(1, dtype=torch.int64)
        self._seen = at, w
        a = self.start_map.index_select(0, pos.view(-1)).view(B, 255) + torch.div(
            (low * (128 - w) + high * w) >> 7, len(self.orders), rounding_mode="floor")
        final = (((p << 4) * (16 - self.share) + a * self.share) >> 4).clamp_(FINAL_MIN, FINAL_MAX)
        if self.mass:                                   # nodes with too little of the total keep the prediction
            mass = n.sum(2)                                                                   # (B, 255)
            final = torch.where((mass << self.mass) >= mass[:, :1], final, p << 4)
        f = torch.full((B, 1), 1 << LEAF_TOTAL_BITS, dtype=torch.int64, device=freqs.device)
        for d in range(8):                              # split every node's share between its halves
            one = (f * final[:, (1 << d) - 1:(2 << d) - 1]) >> 16                             # (B, 2**d)
            f = torch.stack([f - one, one], 2).view(B, 2 << d)
        return f.add_(1)

    def update(self, t: int, symbols: torch.Tensor) -> None:
        """Move the points of the byte at position t of each stream (symbols (B,) int64); follows mix()."""
        if self.fused:
            _loops.update(self._state, t, np.ascontiguousarray(symbols, dtype=np.int64))
            return
        at, w = self._seen
        live = (self.lengths > t)[:, None, None]                                             # (B, 1, 1)
        node = self.path_base + (symbols[:, None] >> self.path_shift)                         # (B, 8)
        bit = (symbols[:, None] >> self.bit_shift & 1)[:, None, :] * (ONE - 1)                # (B, 1, 8)
        at = at.gather(2, node[:, None, :].expand(-1, at.shape[1], -1))                       # (B, A, 8)
        w = w.gather(1, node)[:, None, :].expand(at.shape)                                    # (B, A, 8)
        keys = torch.stack([at, at + 1]).view(-1)                                             # (N,) N = 2 B A 8
        weights = (torch.stack([128 - w, w]) * live).view(-1)
        value = self.points.index_select(0, keys).long() + self.initial.index_select(0, keys % POINTS)
        errors = (bit - value.view(2, *at.shape)).view(-1) * weights
        # Fixed shapes only (no torch.unique, no boolean indexing: a GPU step never waits for the host): the
        # writes sorted by cell, each cell's sums taken over its run; a finished stream's writes sort last, under a
        # key past every cell, and add nothing. The first write of each cell's run carries the cell's change, the
        # rest add 0, so the index_add_ of integers is the same in any order.
        live = live.expand(at.shape).repeat(2, 1, 1, 1).view(-1)
        keys, order = torch.where(live, keys, self.points.numel()).sort()
        errors, weights, live = errors[order], weights[order], live[order]
        first = torch.ones_like(live)
        first[1:] = keys[1:] != keys[:-1]
        run = first.cumsum(0) - 1                                                            # each write's cell run
        error = torch.zeros_like(keys).index_add_(0, run, errors)[run]
        weight = torch.zeros_like(keys).index_add_(0, run, weights)[run]
        hits = torch.zeros_like(keys).index_add_(0, run, live.long())[run]
        cells = torch.where(live, keys, 0)
        seen = self.hits.index_select(0, cells).long()
        step = torch.div(error, seen.clamp(max=self.limit << 7) + 192 + (hits << 7), rounding_mode="floor")
        changed = first & live
        self.points.index_add_(0, cells, torch.where(changed, step, 0).int())
        self.hits.index_add_(0, cells, torch.where(changed, (seen + weight).clamp_(max=self.limit << 7) - seen,
                                                   0).int())
        self.history = ((self.history << 8) | symbols) & 0xFFFFFFFF
        self.word = next_word(self.word, symbols)
