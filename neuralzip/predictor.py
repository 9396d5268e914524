"""What predicts each next byte: the network, and, when the model's config asks for it, a match model.

The network knows text in general but cannot copy: a hex id, a path or a name seen a few lines back costs it
as much the second time as the first. The match model can: it finds the last place in the chunk where the
current context (the last ``match_context`` bytes) occurred and predicts the byte that followed, with a
confidence it learns from its own hits and misses in this chunk, by match length. Its prediction is mixed into
the network's frequencies as a point mass of that confidence c:

    p'(s) = (1 - c) p(s) + c [s = predicted],   in integers: f'(predicted) = f(predicted) + (T * w) >> 16,

with T the sum of the frequencies and w = 2**16 c / (1 - c) = 2**16 (hits + 1) // (misses + 1), capped.
Everything is integer tensor arithmetic on the model's device, per stream, so chunks stay independent and every
machine computes the same frequencies whatever the batch.
"""

from __future__ import annotations

import torch

from .model import LSTMModel

LENGTH_CAP = 64                  # match lengths are counted up to this
W_CAP = 1 << 26                  # confidence at most 1 - 1/1025
_HASH_MULTIPLIER = 2654435761    # Knuth's multiplicative hash, on the 32-bit context
# match length -> confidence bucket: each length up to 15 its own, then 16-23, 24-31, 32-47, 48-64
_BUCKET = [min(n, 15) if n < 16 else 16 + (n >= 24) + (n >= 32) + (n >= 48) for n in range(LENGTH_CAP + 1)]


class MatchModel:
    """The longest-recent-match predictor for a batch of streams (see the module docstring)."""

    def __init__(self, batch: int, steps: int, context: int, table_bits: int, device: torch.device):
        long = dict(dtype=torch.int64, device=device)
        self.context, self.table_bits = context, table_bits
        self.history = torch.zeros(batch, max(steps, 1), dtype=torch.uint8, device=device)   # (B, T)
        # per stream: slot -> (context & 0x7FFFFFFF) << 32 | position + 1 of the byte that followed it
        self.table = torch.zeros(batch << table_bits, **long)
        self.row = torch.arange(batch, **long) << table_bits                                   # (B,)
        self.ctx = torch.zeros(batch, **long)                  # the last 4 bytes (fewer at the start)
        self.ptr = torch.zeros(batch, **long)                  # where the predicted byte is in history
        self.length = torch.zeros(batch, **long)               # verified matching bytes; 0 = no prediction
        n = max(_BUCKET) + 1
        self.hits = torch.zeros(batch, n, **long)
        self.misses = torch.zeros(batch, n, **long)
        self.bucket = torch.tensor(_BUCKET, **long)

    def mix(self, freqs: torch.Tensor) -> torch.Tensor:
        """(B, V) int32 network frequencies -> (B, V) int64 with the predicted byte's share raised."""
        f = freqs.long()
        b = self.bucket[self.length]                                                          # (B,)
        w = ((self.hits.gather(1, b[:, None]) + 1) << 16) // (self.misses.gather(1, b[:, None]) + 1)
        w = w.squeeze(1).clamp_(max=W_CAP) * (self.length > 0)                               # (B,)
        boost = (f.sum(1) * w) >> 16
        predicted = self.history.gather(1, self.ptr[:, None]).long()                          # (B, 1)
        return f.scatter_add_(1, predicted, boost[:, None])

    def update(self, t: int, symbols: torch.Tensor) -> None:
        """Record the byte at position t of each stream: symbols (B,) int64."""
        predicting = self.length > 0
        predicted = self.history.gather(1, self.ptr[:, None]).squeeze(1).long()
        hit = predicting & (predicted == symbols)
        b = self.bucket[self.length][:, None]
        self.hits.scatter_add_(1, b, hit.long()[:, None])
        self.misses.scatter_add_(1, b, (predicting & ~hit).long()[:, None])
        self.length = torch.where(hit, (self.length + 1).clamp_(max=LENGTH_CAP), 0)
        self.ptr = torch.where(hit, self.ptr + 1, self.ptr)
        self.history[:, t] = symbols.to(torch.uint8)
        self.ctx = ((self.ctx << 8) | symbols) & 0xFFFFFFFF
        if t + 1 < self.context:
            return
        slot = self.row + (((self.ctx * _HASH_MULTIPLIER) & 0xFFFFFFFF) >> (32 - self.table_bits))
        key = (self.ctx & 0x7FFFFFFF) << 32
        entry = self.table[slot]
        found = ((entry >> 32) << 32 == key) & (entry > 0) & (self.length == 0)
        self.ptr = torch.where(found, entry & 0xFFFFFFFF, self.ptr)
        self.length = torch.where(found, self.context, self.length)
        self.table[slot] = key | (t + 1)


class Predictor:
    """Frequencies for the next byte of every stream in a batch, one step at a time: call frequencies(), then
    advance() with the bytes that came."""

    def __init__(self, model: LSTMModel, batch: int, steps: int):
        self.model, self.t = model, 0
        self.state, self.prev = model.initial_state(batch), model.start_tokens(batch)
        c = model.config
        self.match = MatchModel(batch, steps, c.match_context, c.match_table_bits, model.device) \
            if c.match_context else None

    def frequencies(self) -> torch.Tensor:
        """(B, V) integer frequencies (each >= 1) for the next byte of each stream."""
        self.state = self.model.step(self.state, self.prev)
        f = self.model.frequencies(self.state)
        return self.match.mix(f) if self.match is not None else f

    def advance(self, symbols: torch.Tensor) -> None:
        """symbols (B,) int64 on the model's device: the byte each stream actually had."""
        if self.match is not None:
            self.match.update(self.t, symbols)
        self.prev = symbols
        self.t += 1
