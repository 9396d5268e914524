"""What predicts each next byte: the network, and, when the model's config asks for it, a match model.

The network knows text in general but cannot copy: a hex id, a path or a name seen a few lines back costs it
as much the second time as the first. The match model can: it finds the last place in the chunk (or its group,
below) where the current 4-byte context occurred and predicts the byte that followed. How often such a prediction
is right depends on the match's length so far and on how likely the network already finds that byte; for each
such cell the model keeps counts of hits and misses, starting from a prior calibrated on held-out text (the model
file's match_prior, see neuralzip.train.match_prior) and updated by the chunk itself. When the cell's hit rate h is
above the network's probability p of the predicted byte, that byte's frequency is raised until its share is h:

    (f + boost) / (T + boost) = h,   boost = (h T - f) / (1 - h),   in integers, at most 2**10 T,

with f its frequency and T the total. Everything is integer tensor arithmetic on the model's device.

Which earlier text a chunk may match depends on its group. With the model's match_group_bytes = 0 every chunk is
its own group and sees only itself. With g > 0, the chunks that start in the same g-byte span of a stream (but
for near-random ones, and whatever method they go out with: see neuralzip.engine) are one group: they run in
lockstep, and at step t each may match what any of them held before t (all look up, then all insert; where two
insert into one slot, the larger entry wins: for one context, the later chunk's). With match_local_bits > 0 each
chunk also keeps a table of its own and looks there first: a chunk's own recent text predicts it better than
the same context elsewhere in the file (a concordance of the Bible, not the Bible: 0.13 bpb). A file of many chunks then
matches across all of them, as a whole-file compressor would, and chunks still decode in parallel. Groups are
fixed by the content's offsets, never by the batch, so every machine computes the same frequencies whatever its
batch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import backend
from .backend import Backend
from .fused import match as fused_match
from .fused.hashing import KNUTH as _HASH_MULTIPLIER
from .apm import AdaptiveProbabilityMaps
from .counts import MAX_BETA_SETS, MAX_ORDER, ContextCounts
from .format import MAX_GROUP_BYTES
from .intops import exact_work, low32_product
from .model import LSTMModel
from .tensorlib import torch

LENGTH_CAP = 64                  # match lengths are counted up to this
BOOST_CAP = 10                   # the predicted byte's frequency grows at most 2**10-fold the total
# match length -> length bucket: each length up to 15 its own, then 16-23, 24-31, 32-47, 48-64
_LENGTH_BUCKET = [min(n, 15) if n < 16 else 16 + (n >= 24) + (n >= 32) + (n >= 48) for n in range(LENGTH_CAP + 1)]
# the network's probability of the predicted byte -> probability bucket, by thresholds in 64ths
_P_THRESHOLDS = [1, 4, 8, 16, 32, 48, 56]
N_CELLS = (max(_LENGTH_BUCKET) + 1) * (len(_P_THRESHOLDS) + 1)     # 20 x 8 = 160
PRIOR_UNIT = 16                  # the priors are in 16ths of an observation
HUGE_PAGES_FROM = 1 << 20        # a batch of this much content fills its tables' 2 MiB pages (neuralzip.backend)


class MatchModel:
    """The longest-recent-match predictor for a batch of streams (see the module docstring).

    groups: (B,) which group each stream is in (streams of a group share one table, in any order of labels);
    lengths: (B,) each stream's length, so that a finished stream's padding never enters a table;
    local_bits: when > 0, each stream also has a table of 2**local_bits slots of its own, looked up first;
    prior: (2, N_CELLS) int64 pseudo-counts of hits and misses (in 16ths, each >= 1) per cell, a cell being a
    (match length bucket, network probability bucket) pair; each stream adds its own counts to them.
    """

    def __init__(self, groups: list[int], lengths: list[int], steps: int, context: int, table_bits: int,
                 prior, where: Backend, local_bits: int = 0):
        where = backend.choose(where)          # a device names its backend
        batch, steps = len(groups), max(steps, 1)
        self.context, self.table_bits = context, table_bits
        self.lengths = np.array(lengths, np.int64)                                            # (B,)
        self.history = np.zeros((batch, steps), np.uint8)                                     # (B, T)
        self.start = np.arange(batch, dtype=np.int64) * steps  # where each stream's row begins in history
        # per group: slot -> (context & 0x7FFFFFFF) << 32 | 1 + index in history of the byte that followed it.
        # Where streams of a group insert into one slot at one step, the larger entry wins: for one context the
        # later stream's (rows are in stream order, and an index grows with row, then position, whatever the
        # batch's width, so every batch picks the same).
        label = {g: i for i, g in enumerate(dict.fromkeys(groups))}
        self.row = np.array([label[g] for g in groups], np.int64) << table_bits              # (B,)
        self.table = where.zeros((len(label) << table_bits) + 1, np.int64)
        self.discard = len(label) << table_bits               # the slot finished streams write to, never read
        # each stream's own table (none when local_bits is 0), the same entries, looked up first
        self.local_bits = local_bits
        self.local = where.zeros(batch << local_bits if local_bits else 0, np.int64)
        self.local_row = np.arange(batch, dtype=np.int64) << local_bits
        self.ctx = np.zeros(batch, np.int64)                  # the last 4 bytes (fewer at the start)
        self.ptr = self.start.copy()                          # index in history of the predicted byte
        self.length = np.zeros(batch, np.int64)               # verified matching bytes; 0 = no prediction
        self.cell = np.zeros(batch, np.int64)                 # this step's cell and prediction, set by mix()
        self.predicted = np.zeros(batch, np.int64)
        # hits and misses per cell, in 16ths: the prior plus 16 per observation in this stream
        prior = np.asarray(prior, np.int64).reshape(2, N_CELLS)
        self.hits = np.tile(prior[0], (batch, 1))
        self.misses = np.tile(prior[1], (batch, 1))
        self.length_bucket = np.array(_LENGTH_BUCKET, np.int64) * (len(_P_THRESHOLDS) + 1)
        self.thresholds = np.array(_P_THRESHOLDS, np.int64)
        self.fused = where.loops
        if not self.fused:
            where.adopt(self)
            return
        # the loops (neuralzip.fused.match) work in place on these arrays
        self._state = fused_match.MatchState(
            lengths=self.lengths, history=self.history, start=self.start, ptr=self.ptr, length=self.length,
            predicted=self.predicted, cell=self.cell, hits=self.hits, misses=self.misses,
            length_bucket=self.length_bucket, thresholds=self.thresholds, ctx=self.ctx, table=self.table,
            row=self.row, discard=self.discard, local=self.local, local_row=self.local_row, context=context,
            table_bits=table_bits, local_bits=local_bits, length_cap=LENGTH_CAP, boost_cap=BOOST_CAP,
            prior_unit=PRIOR_UNIT, multiplier=_HASH_MULTIPLIER, slots=np.zeros(batch, np.int64),
            values=np.zeros(batch, np.int64))

    def mix(self, freqs):
        """(B, V) int32 network frequencies -> (B, V) int64, the predicted byte's share raised to the hit rate
        of its cell (when that is above the network's own)."""
        if self.fused:
            out = np.empty(freqs.shape, np.int64)
            fused_match.mix(self._state, np.ascontiguousarray(freqs, np.int32), out)
            return out
        f = freqs.long()
        total = f.sum(1, keepdim=True)                                                        # (B, 1)
        # a match only ever points at a byte already seen: at or before the previous step, in any stream (the
        # clamp changes nothing a writer makes; it keeps a damaged stream's oversized batch inside history)
        at = self.ptr.clamp(0, self.history.numel() - 1)
        self.predicted = predicted = self.history.view(-1)[at].long()[:, None]                # (B, 1)
        f_pred = f.gather(1, predicted)                                                       # (B, 1)
        p_bucket = ((f_pred << 6) >= total * self.thresholds).sum(1, keepdim=True)           # (B, 1)
        self.cell = self.length_bucket[self.length][:, None] + p_bucket
        h, m = self.hits.gather(1, self.cell), self.misses.gather(1, self.cell)
        # (f + boost) / (total + boost) = h / (h + m)
        boost = ((h * total - f_pred * (h + m)) // m).clamp_(min=0).minimum(total << BOOST_CAP)
        return f.scatter_add_(1, predicted, boost * (self.length > 0)[:, None])

    def update(self, t: int, symbols) -> None:
        """Record the byte at position t of each stream: symbols (B,) int64. Follows mix() for the same step."""
        if self.fused:
            fused_match.update(self._state, t, np.ascontiguousarray(symbols, np.int64))
            return
        predicting = self.length > 0
        hit = predicting & (self.predicted.squeeze(1) == symbols)
        self.hits.scatter_add_(1, self.cell, hit.long()[:, None] * PRIOR_UNIT)
        self.misses.scatter_add_(1, self.cell, (predicting & ~hit).long()[:, None] * PRIOR_UNIT)
        self.length = torch.where(hit, (self.length + 1).clamp_(max=LENGTH_CAP), 0)
        self.ptr = torch.where(hit, self.ptr + 1, self.ptr)
        live = self.lengths > t
        self.history[:, t] = torch.where(live, symbols, 0).to(torch.uint8)
        self.ctx = ((self.ctx << 8) | symbols) & 0xFFFFFFFF
        if t + 1 < self.context:
            return
        hashed = low32_product(self.ctx, _HASH_MULTIPLIER)
        slot = self.row + (hashed >> (32 - self.table_bits))
        key = (self.ctx & 0x7FFFFFFF) << 32
        value = key | (self.start + t + 2)
        entry = self.table[slot]                       # every stream looks up before any inserts
        if self.local_bits:
            own_slot = self.local_row + (hashed >> (32 - self.local_bits))
            own = self.local[own_slot]
            entry = torch.where(((own >> 32) << 32 == key) & (own > 0), own, entry)
            self.local[own_slot] = value
        found = ((entry >> 32) << 32 == key) & (entry > 0) & (self.length == 0)
        self.ptr = torch.where(found, (entry & 0xFFFFFFFF) - 1, self.ptr)
        self.length = torch.where(found, self.context, self.length)
        slot = torch.where(live, slot, self.discard)
        # Independent of the kernel's order on repeated slots: every writer of a slot clears it (the same value
        # whoever lands last), then the largest entry wins (max is one integer in any order)
        self.table.index_fill_(0, slot, 0)
        self.table.scatter_reduce_(0, slot, value, "amax")


def chunk_groups(offsets: list[int], group_bytes: int) -> list[int]:
    """The group of each chunk, from the offset of its first byte in the stream's content."""
    return [o // group_bytes for o in offsets] if group_bytes else list(range(len(offsets)))


def uniform_prior() -> list[int]:
    """Pseudo-counts that say nothing: half an observation each way in every cell (for calibration)."""
    return [PRIOR_UNIT // 2] * (2 * N_CELLS)


class Predictor:
    """Frequencies for the next byte of every stream in a batch, one step at a time: call frequencies(), then
    advance() with the bytes that came."""

    def __init__(self, model: LSTMModel, batch: int, steps: int, groups: list[int] | None = None,
                 lengths: list[int] | None = None):
        """groups: each stream's group (see the module docstring; default: each its own); lengths: each
        stream's length (default: steps)."""
        self.model, self.t = model, 0
        self.state, self.prev = model.initial_state(batch), model.start_tokens(batch)
        c = model.config
        self.match = self.counts = self.apm = None
        groups = list(range(batch)) if groups is None else list(groups)
        lengths = [steps] * batch if lengths is None else list(lengths)
        where = model.backend
        if where.loops and sum(lengths) >= HUGE_PAGES_FROM:
            where = dataclasses.replace(where, huge_pages=True)
        if c.match_context:
            if c.match_context != 4 or len(c.match_prior) != 2 * N_CELLS or min(c.match_prior) < 1:
                raise ValueError(f"a match model needs match_context 4 and match_prior of {2 * N_CELLS} "
                                 "positive pseudo-counts")
            g = c.match_group_bytes
            if g < 0 or g & (g - 1) or g > MAX_GROUP_BYTES:
                raise ValueError(f"match_group_bytes must be 0 or a power of two up to {MAX_GROUP_BYTES}, not {g}")
            if c.match_local_bits and not (g and 8 <= c.match_local_bits <= 24):
                raise ValueError("match_local_bits must be 0, or 8 to 24 with match groups")
            self.match = MatchModel(groups, lengths, steps, c.match_context, c.match_table_bits, c.match_prior,
                                    where, c.match_local_bits)
        if c.count_orders:
            orders, betas = list(c.count_orders), list(c.count_betas)
            contexts = len(orders) + (c.count_word == 1)
            if not (c.match_group_bytes and orders == sorted(set(orders)) and 1 <= orders[0]
                    and orders[-1] <= MAX_ORDER and c.count_word in (0, 1) and betas
                    and len(betas) % (2 * contexts) == 0 and len(betas) <= 2 * contexts * MAX_BETA_SETS
                    and min(betas) >= 0 and min(betas[1::2]) >= 1 and 8 <= c.count_table_bits <= 24):
                raise ValueError(f"context counts need match groups, ascending orders from 1 to {MAX_ORDER}, "
                                 "count_word 0 or 1, "
                                 f"1 to {MAX_BETA_SETS} sets of two betas per context (the second positive) and "
                                 "count_table_bits from 8 to 24")
            self.counts = ContextCounts(groups, lengths, orders, betas, c.count_table_bits, c.start_token,
                                        where, word=c.count_word == 1)
        if c.apm_orders:
            orders = list(c.apm_orders)
            if not (c.match_group_bytes and orders == sorted(set(orders)) and 1 <= orders[0] and orders[-1] <= 3
                    and c.apm_word in (0, 1) and (orders[-1] == 1 and not c.apm_word or 8 <= c.apm_table_bits <= 24)
                    and 1 <= c.apm_limit <= 1023 and 0 <= c.apm_share <= 16 and 0 <= c.apm_mass <= 24):
                raise ValueError("adaptive probability maps need match groups, ascending orders from 1 to 3, "
                                 "apm_word 0 or 1, apm_table_bits from 8 to 24 for orders above 1 or a word map, "
                                 "apm_limit from 1 to 1023, apm_share from 0 to 16 and apm_mass from 0 to 24")
            self.apm = AdaptiveProbabilityMaps(groups, lengths, orders, c.apm_table_bits, c.apm_limit,
                                               c.apm_share, c.start_token, where, word=c.apm_word == 1,
                                               mass=c.apm_mass)

    def frequencies(self):
        """(B, V) integer frequencies (each >= 1) for the next byte of each stream, in the model's backend's form
        (neuralzip.backend)."""
        with exact_work():      # a user's deterministic-algorithms mode set aside: all of it is exact integers
            self.state = self.model.step(self.state, self.prev)
            f = self.model.frequencies(self.state)
            if self.match is not None:
                f = self.match.mix(f)
            if self.counts is not None:
                f = self.counts.mix(f)
            return self.apm.mix(f) if self.apm is not None else f

    def advance(self, symbols) -> None:
        """symbols (B,) int64 in the model's backend's form: the byte each stream actually had."""
        with exact_work():
            if self.match is not None:
                self.match.update(self.t, symbols)
            if self.counts is not None:
                self.counts.update(self.t, symbols)
            if self.apm is not None:
                self.apm.update(self.t, symbols)
        self.prev = symbols
        self.t += 1
