"""The loops of neuralzip.predictor's MatchModel: the predicted byte's boost, and the tables' bookkeeping.

Same integers as MatchModel.mix and MatchModel.update, bit for bit; the group's table keeps its rule that every
stream looks up before any inserts and that the largest entry wins a slot written twice in one step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import njit


@njit
def low32_product(x, multiplier):
    """(x * multiplier) & 0xFFFFFFFF for 32-bit x and multiplier without an int64 overflow: as
    neuralzip.intops.low32_product, by 16-bit halves of x."""
    low = (x & 0xFFFF) * multiplier
    high = (((x >> 16) & 0xFFFF) * multiplier) & 0xFFFF
    return (low + (high << 16)) & 0xFFFFFFFF


class MatchState(NamedTuple):
    """What the loops of one MatchModel read and change, in one object (numba takes it as a tuple of arrays)."""
    lengths: np.ndarray          # (B,) each stream's length
    history: np.ndarray          # (B, T) uint8, the bytes seen
    start: np.ndarray            # (B,) where each stream's row begins in history, flat
    ptr: np.ndarray              # (B,) the predicted byte's index in history, flat
    length: np.ndarray           # (B,) the match's verified length, 0 for no prediction
    predicted: np.ndarray        # (B,) mix()'s predicted byte and cell, for update()
    cell: np.ndarray
    hits: np.ndarray             # (B, N_CELLS) in prior units
    misses: np.ndarray
    length_bucket: np.ndarray    # (LENGTH_CAP + 1,) a length's first cell
    thresholds: np.ndarray       # the network probability buckets' thresholds, in 64ths
    ctx: np.ndarray              # (B,) the last 4 bytes
    table: np.ndarray            # the groups' tables, and the slot finished streams write to
    row: np.ndarray              # (B,) where each stream's group's table begins
    discard: int
    local: np.ndarray            # each stream's table of its own (empty where local_bits is 0)
    local_row: np.ndarray
    context: int
    table_bits: int
    local_bits: int
    length_cap: int
    boost_cap: int
    prior_unit: int
    multiplier: int
    slots: np.ndarray            # (B,) update()'s work space
    values: np.ndarray


@njit
def mix(s, freqs, out):
    """freqs (B, V) -> out (B, V) int64: the network's frequencies with the predicted byte's share raised; records
    each stream's predicted byte and cell for update()."""
    B, V = freqs.shape
    flat = s.history.reshape(-1)
    top = flat.shape[0] - 1
    for b in range(B):
        total = np.int64(0)
        for v in range(V):
            out[b, v] = freqs[b, v]
            total += out[b, v]
        p = np.int64(flat[min(max(s.ptr[b], 0), top)])
        f_pred = out[b, p]
        bucket = np.int64(0)
        for th in s.thresholds:
            bucket += (f_pred << 6) >= total * th
        k = s.length_bucket[s.length[b]] + bucket
        s.predicted[b], s.cell[b] = p, k
        h, m = s.hits[b, k], s.misses[b, k]
        if s.length[b] > 0:
            out[b, p] += min(max((h * total - f_pred * (h + m)) // m, 0), total << s.boost_cap)


@njit
def update(s, t, symbols):
    """Record the byte at position t of each stream (symbols (B,)), as MatchModel.update."""
    B = symbols.shape[0]
    length, ptr = s.length, s.ptr
    for b in range(B):
        x = symbols[b]
        predicting = length[b] > 0
        hit = predicting and s.predicted[b] == x
        if hit:
            s.hits[b, s.cell[b]] += s.prior_unit
            length[b] = min(length[b] + 1, s.length_cap)
            ptr[b] += 1
        else:
            if predicting:
                s.misses[b, s.cell[b]] += s.prior_unit
            length[b] = 0
        s.history[b, t] = x if s.lengths[b] > t else 0
        s.ctx[b] = ((s.ctx[b] << 8) | x) & 0xFFFFFFFF
    if t + 1 < s.context:
        return
    for b in range(B):                    # every stream looks up before any inserts
        ctx = s.ctx[b]
        hashed = low32_product(ctx, s.multiplier)
        slot = s.row[b] + (hashed >> (32 - s.table_bits))
        key = (ctx & 0x7FFFFFFF) << 32
        value = key | (s.start[b] + t + 2)
        entry = s.table[slot]
        if s.local_bits:
            own_slot = s.local_row[b] + (hashed >> (32 - s.local_bits))
            own = s.local[own_slot]
            if (own >> 32) << 32 == key and own > 0:
                entry = own
            s.local[own_slot] = value
        if (entry >> 32) << 32 == key and entry > 0 and length[b] == 0:
            ptr[b] = (entry & 0xFFFFFFFF) - 1
            length[b] = s.context
        s.slots[b] = slot if s.lengths[b] > t else s.discard
        s.values[b] = value
    for b in range(B):
        s.table[s.slots[b]] = 0
    for b in range(B):
        s.table[s.slots[b]] = max(s.table[s.slots[b]], s.values[b])
