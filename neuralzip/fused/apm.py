"""The loops of neuralzip.apm: AdaptiveProbabilityMaps.mix and .update for every stream of a batch as plain loops,
compiled by numba, in the same integers as the tensor code (int64, floor division, the int32 tables truncated
where the tensor code truncates them). A step's writes to the shared points are gathered per cell in a small hash
table first, all reads before any write, so the result is the tensor code's whatever the order of the writers."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import floor_div, njit
from .hashing import MASK32, MURMUR as HASH, next_word   # HASH: the maps' rows', and the scratch table's cells'

POINTS = 33                  # per row (neuralzip.apm, which takes it from here)


class MapsState(NamedTuple):
    """What the loops of one AdaptiveProbabilityMaps read and change, in one object (numba takes it as a tuple of
    arrays)."""
    lengths: np.ndarray          # (B,) each stream's length
    history: np.ndarray          # (B,) its last 4 bytes
    word: np.ndarray             # (B,) the hash of the word being read
    group_base: np.ndarray       # (B,) where its group's rows begin
    kinds: np.ndarray            # (A,) each map's context: 0 the word, k the last k bytes
    order_base: np.ndarray       # (A,) where each map's rows begin in a group's
    shift: int                   # 32 - table_bits: a hashed key's row
    points: np.ndarray           # int32, each point's difference from its start
    hits: np.ndarray             # int32, each point's hits in 128ths
    initial: np.ndarray          # (POINTS,) the starting points
    stretch: np.ndarray          # (4096,) p -> position (stretch + 2048)
    start_map: np.ndarray        # (4096,) what the starting points interpolate to at each position
    share: int                   # the maps' share of the final probability, in 16ths
    mass: int                    # > 0: only nodes holding 2**-mass of the total are mapped
    limit: int                   # a point's hits count up to this
    position: np.ndarray         # (B, 255) each node's position, from mix() for update()
    slots: np.ndarray            # update()'s work space (see there)
    writes: np.ndarray


@njit
def _context(kind, history, word):
    """A map's context: the word being read (kind 0) or the last kind bytes."""
    if kind == 0:
        return word & 0xFFFFFF
    return history & ((1 << 8 * kind) - 1)


@njit
def _cell(kind, key, shift, base, lo):
    """The point at lo of a map's row for key (context * 255 + node): order 1's rows are the key itself."""
    row = key if kind == 1 else ((key * HASH) & MASK32) >> shift
    return (row + base) * POINTS + lo


@njit
def _wrap32(x):
    """x as an int32 holds it (what .int() and an int32 add do)."""
    return ((x + (1 << 31)) & MASK32) - (1 << 31)


@njit
def _floor_div(x, n):
    """x // n, the maps' mean: by a constant (a multiplication and shifts) for the usual counts of maps."""
    if n == 1:
        return x
    if n == 2:
        return x >> 1
    if n == 3:
        return x // 3
    if n == 4:
        return x >> 2
    return x // n


@njit
def _nodes(freqs, b, tree, p, pos, stretch):
    """Stream b's node sums (tree, heap order: node i's halves are 2i + 1 and 2i + 2, the leaves from 255), each
    node's probability p and its stretch position pos[b] (+ 2048)."""
    for v in range(256):
        tree[255 + v] = freqs[b, v]
    for i in range(254, -1, -1):
        tree[i] = tree[2 * i + 1] + tree[2 * i + 2]
    exact = tree[0] < 1 << 41            # then every n1 << 12 is below 2**53: a double quotient, corrected
    for i in range(255):
        n1 = tree[2 * i + 2]
        q = floor_div(n1 << 12, tree[2 * i + 1] + n1) if exact else (n1 << 12) // (tree[2 * i + 1] + n1)
        p[i] = min(max(q, 1), 4095)
        pos[b, i] = stretch[p[i]]


@njit
def mix(s, freqs, out):
    """freqs (B, 256) -> out (B, 256) rebuilt from the maps' node probabilities; s.position keeps each node's
    position (stretch + 2048) for update()."""
    B, A = freqs.shape[0], s.kinds.shape[0]
    pos, points, shift, mass = s.position, s.points, s.shift, s.mass
    tree = np.empty(511, np.int64)       # node sums, then each node's share
    p = np.empty(255, np.int64)
    low = np.empty(255, np.int64)
    high = np.empty(255, np.int64)
    mapped = np.empty(255, np.int64)     # the nodes mapped, in order
    for b in range(B):
        _nodes(freqs, b, tree, p, pos, s.stretch)
        n = 0
        for i in range(255):
            if mass == 0 or (tree[i] << mass) >= tree[0]:
                mapped[n] = i
                n += 1
            low[i] = 0
            high[i] = 0
        for a in range(A):               # the points, a map at a time: loads that do not wait for each other
            kind, base = s.kinds[a], s.group_base[b] + s.order_base[a]
            context = _context(kind, s.history[b], s.word[b]) * 255
            for j in range(n):
                i = mapped[j]
                at = _cell(kind, context + i, shift, base, pos[b, i] >> 7)
                low[i] += points[at]
                high[i] += points[at + 1]
        j = 0
        tree[0] = 1 << 24                # from here on each node's share of 2**24, the leaves last
        for i in range(255):
            if j < n and mapped[j] == i:
                j += 1
                position = pos[b, i]
                w = position & 127
                m = s.start_map[position] + _floor_div((low[i] * (128 - w) + high[i] * w) >> 7, A)
                final = min(max(((p[i] << 4) * (16 - s.share) + m * s.share) >> 4, 16), 65520)
            else:
                final = p[i] << 4
            f = tree[i]
            one = (f * final) >> 16
            tree[2 * i + 1] = f - one
            tree[2 * i + 2] = one
        for v in range(256):
            out[b, v] = tree[255 + v] + 1


@njit
def update(s, t, symbols):
    """Move the points of each live stream's byte at position t (after mix() of the same step), then read the byte
    into every stream's history and word. s.slots (S, 2): a scratch hash table, S a power of two above twice a
    step's writes, column 0 all -1 (as this leaves it) for no cell, column 1 the cell's row in s.writes (a step's
    writes, 6): cell, error, weight, writers, slot, hits before."""
    B, A = symbols.shape[0], s.kinds.shape[0]
    slots, writes, points, hits, history, word = s.slots, s.writes, s.points, s.hits, s.history, s.word
    mask = slots.shape[0] - 1
    cap = s.limit << 7
    n = 0
    for b in range(B):                    # every write's error, read before any point moves, summed per cell
        if s.lengths[b] <= t:
            continue
        x = symbols[b]
        for a in range(A):
            kind, base = s.kinds[a], s.group_base[b] + s.order_base[a]
            context = _context(kind, history[b], word[b]) * 255
            for d in range(8):
                node = (1 << d) - 1 + (x >> (8 - d))
                bit = (x >> (7 - d) & 1) * 65535
                position = s.position[b, node]
                lo, w = position >> 7, position & 127
                at = _cell(kind, context + node, s.shift, base, lo)
                for h in range(2):
                    cell = at + h
                    weight = w if h else 128 - w
                    error = (bit - (points[cell] + s.initial[cell % POINTS])) * weight
                    slot = ((cell * HASH) >> 13) & mask
                    while slots[slot, 0] != cell and slots[slot, 0] != -1:
                        slot = (slot + 1) & mask
                    if slots[slot, 0] == -1:
                        slots[slot, 0] = cell
                        slots[slot, 1] = n
                        writes[n, 0] = cell
                        writes[n, 1] = error
                        writes[n, 2] = weight
                        writes[n, 3] = 1
                        writes[n, 4] = slot
                        writes[n, 5] = hits[cell]        # read here, where the other work hides the wait
                        n += 1
                    else:
                        j = slots[slot, 1]
                        writes[j, 1] += error
                        writes[j, 2] += weight
                        writes[j, 3] += 1
    for j in range(n):                    # each cell once
        cell = writes[j, 0]
        seen = writes[j, 5]
        step = writes[j, 1] // (min(seen, cap) + 192 + (writes[j, 3] << 7))
        points[cell] = _wrap32(points[cell] + _wrap32(step))
        hits[cell] = min(seen + writes[j, 2], cap)
        slots[writes[j, 4], 0] = -1
    for b in range(B):                    # every stream, finished or not, as the tensor code
        x = symbols[b]
        history[b] = ((history[b] << 8) | x) & MASK32
        word[b] = next_word(word[b], x)
