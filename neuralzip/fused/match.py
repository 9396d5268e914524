"""The loops of neuralzip.predictor's MatchModel: the predicted byte's boost, and the tables' bookkeeping.

Same integers as MatchModel.mix and MatchModel.update, bit for bit; the group's table keeps its rule that every
stream looks up before any inserts and that the largest entry wins a slot written twice in one step.
"""

from __future__ import annotations

import numpy as np

from . import njit


@njit
def low32_product(x, multiplier):
    """(x * multiplier) & 0xFFFFFFFF for 32-bit x and multiplier without an int64 overflow: as
    neuralzip.intops.low32_product, by 16-bit halves of x."""
    low = (x & 0xFFFF) * multiplier
    high = (((x >> 16) & 0xFFFF) * multiplier) & 0xFFFF
    return (low + (high << 16)) & 0xFFFFFFFF


@njit
def mix(freqs, history, ptr, length, length_bucket, thresholds, hits, misses, boost_cap, out, predicted, cell):
    """freqs (B, V) -> out (B, V) int64: the network's frequencies with the predicted byte's share raised; records
    each stream's predicted byte and cell for update()."""
    B, V = freqs.shape
    flat = history.reshape(-1)
    top = flat.shape[0] - 1
    for b in range(B):
        total = np.int64(0)
        for v in range(V):
            out[b, v] = freqs[b, v]
            total += out[b, v]
        p = np.int64(flat[min(max(ptr[b], 0), top)])
        f_pred = out[b, p]
        bucket = np.int64(0)
        for th in thresholds:
            bucket += (f_pred << 6) >= total * th
        k = length_bucket[length[b]] + bucket
        predicted[b], cell[b] = p, k
        h, m = hits[b, k], misses[b, k]
        if length[b] > 0:
            out[b, p] += min(max((h * total - f_pred * (h + m)) // m, 0), total << boost_cap)


@njit
def update(t, symbols, lengths, history, start, ptr, length, predicted, cell, hits, misses, ctx, table, row,
           discard, local, local_row, context, table_bits, local_bits, length_cap, prior_unit, multiplier,
           slots, values):
    """Record the byte at position t of each stream (symbols (B,)), as MatchModel.update."""
    B = symbols.shape[0]
    for b in range(B):
        s = symbols[b]
        predicting = length[b] > 0
        hit = predicting and predicted[b] == s
        if hit:
            hits[b, cell[b]] += prior_unit
            length[b] = min(length[b] + 1, length_cap)
            ptr[b] += 1
        else:
            if predicting:
                misses[b, cell[b]] += prior_unit
            length[b] = 0
        history[b, t] = s if lengths[b] > t else 0
        ctx[b] = ((ctx[b] << 8) | s) & 0xFFFFFFFF
    if t + 1 < context:
        return
    for b in range(B):                    # every stream looks up before any inserts
        hashed = low32_product(ctx[b], multiplier)
        slot = row[b] + (hashed >> (32 - table_bits))
        key = (ctx[b] & 0x7FFFFFFF) << 32
        value = key | (start[b] + t + 2)
        entry = table[slot]
        if local_bits:
            own_slot = local_row[b] + (hashed >> (32 - local_bits))
            own = local[own_slot]
            if (own >> 32) << 32 == key and own > 0:
                entry = own
            local[own_slot] = value
        if (entry >> 32) << 32 == key and entry > 0 and length[b] == 0:
            ptr[b] = (entry & 0xFFFFFFFF) - 1
            length[b] = context
        slots[b] = slot if lengths[b] > t else discard
        values[b] = value
    for b in range(B):
        table[slots[b]] = 0
    for b in range(B):
        table[slots[b]] = max(table[slots[b]], values[b])
