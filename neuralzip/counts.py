"""Context counts: what followed each recent context in this group of chunks, blended into the prediction.

The network knows text in general and the match model copies the one longest recent match; neither learns which
bytes this file puts after a context it has seen a few times (a bibliography's field names, a novel's names, a
log's fixed phrases). Context counts do. For each order k of the model's count_orders (say 4, 8, 12 bytes), a
table row holds, per byte value, how many times that byte followed the current k-byte context so far in this
group; the rows blend into the distribution q from the network and match model one order after another, lowest
first, as a Dirichlet posterior whose prior is the distribution so far, worth beta_k half observations:

    q_0(b) = f(b) * Q / T,    q_k(b) = (2 c_k(b) * Q + beta_k * q_{k-1}(b)) / (2 n_k + beta_k),    Q = 2**22,
    beta_k = a_k * u_k + b_k,    n_k = the sum of c_k,  u_k = how many byte values c_k counts,

so a context seen often and always followed by the same byte predicts it strongly, one followed by many
different bytes defers to the lower orders (as PPM's escape method C does), and an unseen one (n_k = 0) changes
nothing. The divisions are integer, exactly as FORMAT.md "Context counts" gives them.

A model may also count a word context (count_word): the word being read (its ASCII letters case-folded, and
UTF-8's two-byte letters: é, ä, Greek, Cyrillic) with the word before it. It sees what follows "the" or "said
Alice" wherever the line breaks and whatever the case, where byte contexts see only the last few bytes. It is
blended first, below the orders, with betas of its own.

How much to trust the counts depends on the file: a bibliography or a play repeats itself far more than the
mixed held-out text a single set of betas is calibrated on. So the model's count_betas hold one or more sets
(a_1, b_1, a_2, b_2, ...), and each group uses the set that would have coded its recent bytes shortest: per group
and set, a running code length of the actual bytes (in 4096ths of a bit, from an exact integer log2 table, the
older part decaying by 1/64 a step), and every step blends with the set whose running length is least (the first
on ties). The sets are chosen on held-out text (neuralzip.train.count_betas).

Tables are shared by the chunks of a match group (neuralzip.predictor), in lockstep: at step t every member
looks up, then every member inserts. A hash of (order, context) picks a bucket of WAYS rows and a tag; a context
is found in the row with its tag, or else takes the bucket's row of fewest counts. When no writer of a step has a
row's tag, the row goes to the largest writing tag and starts from zero. Counts are
bytes; a row whose count would pass 255 is halved first. Every rule depends only on the set of a step's writers,
never on their order or the batch, so every machine and batch computes the same counts.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend
from .backend import Backend
from .fused import counts as fused_counts
from .fused.counts import COST_BITS, COST_DECAY, COUNT_MAX, Q_BITS, RECIPROCAL_BITS, WAYS
from .fused.hashing import MURMUR as _HASH_MULTIPLIER, ORDER_SALT as _ORDER_SALT, WORD_SALT as _WORD_SALT
from .intops import first_least, first_true
from .tensorlib import torch

MAX_ORDER = 16                   # contexts are read from the last 16 bytes
MAX_BETA_SETS = 64


def _log2_floor(m: int) -> int:
    """floor(4096 log2(m / 256)), exactly: a double's log2 is within 1e-12 of it, which decides the floor unless it
    lies within 1e-6 of an integer, and there the integers decide (m**4096's top bit: exact, but 100 times
    slower, 70 ms for the table)."""
    x = (1 << COST_BITS) * math.log2(m)
    k = math.floor(x)
    if min(x - k, k + 1 - x) < 1e-6:
        k = (m ** (1 << COST_BITS)).bit_length() - 1
    return k - (8 << COST_BITS)


_NO_FREQS = np.zeros((1, 1), np.int64)        # update()'s freqs where nothing is scored

LOG2_TABLE = [_log2_floor(m) for m in range(256, 512)]     # floor(4096 log2(m / 256)) for m = 256 ... 511


class ContextCounts:
    """Counts of the bytes that followed each context of the given orders, per group, for a batch of streams.

    groups: (B,) which group each stream is in; lengths: (B,) each stream's length (a finished stream's padding
    never enters a table); orders: context lengths in bytes, ascending; betas: one or more sets of, per order, the
    prior's weight in half observations per distinct byte seen and its base (a_k, b_k), flat; table_bits:
    2**table_bits rows per group, for all orders together; start_token: the byte every stream is read as
    following; where: the backend (neuralzip.backend).

    In the loops' form mix() and update() run as compiled loops (neuralzip.fused.counts) on the same tables, in
    the same integers; the tensor code below is the path on CUDA, and their reference.
    """

    def __init__(self, groups: list[int], lengths: list[int], orders: tuple, betas: tuple, table_bits: int,
                 start_token: int, where: Backend, word: bool = False):
        where = backend.choose(where)          # a device names its backend
        batch = len(groups)
        self.table_bits = table_bits
        self.lengths = np.array(lengths, np.int64)
        label = {g: i for i, g in enumerate(dict.fromkeys(groups))}
        self.group = np.array([label[g] for g in groups], np.int64)                           # (B,)
        self.base = self.group[:, None] << table_bits                                         # (B, 1)
        rows = len(label) << table_bits
        # a row of counts and a bucket of tags and totals on whole cache lines (Backend.zeros' large tables start
        # on a page): a row read is 4 lines from memory, not 5
        self.counts = where.zeros((rows + 2, 256), np.uint8)                                  # (R + 2, 256)
        # 0: empty; row R: finished streams write there, R+1: none
        self.tags = where.zeros(rows + 2, np.int64)
        self.totals = where.zeros(rows + 2, np.int64)       # each row's sum of counts
        self.kinds = where.zeros(rows + 2, np.int64)        # and how many of them are not 0
        self.discard, self.empty = rows, rows + 1       # what a context not found reads: no counts
        self._ways = np.arange(WAYS, dtype=np.int64)
        self.betas = np.array(betas, np.int64).reshape(-1, len(orders) + word, 2)               # (J, K, 2)
        self.cost = np.zeros((len(label), len(self.betas)), np.int64)  # (G, J) running code length per set
        self.log2_table = np.array(LOG2_TABLE, np.int64)
        self.powers = 1 << np.arange(1, 31, dtype=np.int64)            # (30,) to find a value's top bit
        # per order, per 4-byte word of the context (newest first): the mask of the bytes that order reads
        words = max(-(-orders[-1] // 4), 1 + word)
        self.masks = np.array([[(1 << 8 * min(max(k - 4 * w, 0), 4)) - 1 for w in range(words)]
                               for k in orders], np.int64)                                    # (K, W)
        self.salts = np.array([_WORD_SALT] * word + [_ORDER_SALT ^ k for k in orders], np.int64)   # (K,)
        self.words = np.zeros((batch, words), np.int64)                                       # (B, W)
        self.words[:, 0] = start_token
        # the word context's words: hashes of the word being read (0 between words), of the word before it, 0...
        self.word = np.zeros((batch, words), np.int64) if word else None                      # (B, W)
        self.backend, self.fused = where, where.loops
        if self.fused:
            self._fused_init()
        else:
            where.adopt(self)
            self._locate()

    def _fused_init(self) -> None:
        """The loops' state (neuralzip.fused.counts), the tables themselves and a work space: they change it in
        place."""
        batch, contexts = self.words.shape[0], self.salts.shape[0]
        shape, n = (batch, contexts), batch * contexts
        self.rows, self.tag = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
        self.found = np.zeros(shape, np.bool_)
        betas = self.betas
        fast = bool(betas.min() >= 0 and betas[:, :, 1].min() >= 1 and betas.max() < 1 << 31)   # floats may divide
        work = {name: np.zeros(n, np.int64) for name in ("place", "link", "byte", "unique", "head", "kept", "claim")}
        self._state = fused_counts.CountsState(
            counts=self.counts, tags=self.tags, totals=self.totals, kinds=self.kinds, discard=self.discard,
            empty=self.empty, table_bits=self.table_bits, lengths=self.lengths, group=self.group, words=self.words,
            word=self.word if self.word is not None else self.words, has_word=int(self.word is not None),
            masks=self.masks, salts=self.salts, rows=self.rows, tag=self.tag, found=self.found, betas=self.betas,
            betas_a=np.ascontiguousarray(betas[:, :, 0].T), betas_b=np.ascontiguousarray(betas[:, :, 1].T),   # (K, J)
            fast=fast, cost=self.cost, chosen=np.zeros(self.cost.shape[0], np.int64), sums=np.zeros(batch, np.int64),
            log2_table=self.log2_table, places=np.zeros(1 << (2 * n - 1).bit_length(), np.int32), **work,
            add=np.zeros(256, np.int64), cells=np.zeros(256, np.int64))
        self._freqs = None
        fused_counts.locate(self._state)

    def _locate(self) -> None:
        """The row and tag of each stream's current context, per order, and whether it was found there.

        A context may sit in any of the WAYS rows of its bucket; one not found there takes the bucket's row of
        fewest counts (the first such), so that frequent contexts stay and one-off ones make room."""
        words = self.words[:, None, :] & self.masks                                           # (B, K, W)
        if self.word is not None:                                                             # first
            words = torch.cat([self.word[:, None], words], 1)
        h = self.salts.expand(words.shape[:2])
        for w in range(words.shape[2]):
            h = ((h ^ words[:, :, w]) * _HASH_MULTIPLIER) & 0xFFFFFFFF
        h = h ^ (h >> 15)
        h = ((h * _HASH_MULTIPLIER) & 0xFFFFFFFF) ^ (h >> 13)                                  # (B, K) 32 bits
        free = 32 - self.table_bits
        bucket = self.base + ((h >> free) & -WAYS)                                            # (B, K)
        self.tag = (h & ((WAYS << free) - 1)) + 1         # the bits of h the bucket does not hold, never 0
        ways = (bucket[:, :, None] + self._ways).view(-1)                                     # (B K WAYS,)
        match = self.tags.index_select(0, ways).view(*bucket.shape, WAYS) == self.tag[:, :, None]
        self.found = match.any(2)                                                             # (B, K)
        # first_true / first_least: the first way on ties, whatever the kernel (argmax and argmin promise nothing)
        way = torch.where(self.found, first_true(match, 2),
                          first_least(self.totals.index_select(0, ways).view(*bucket.shape, WAYS), 2))
        self.rows = bucket + way

    def lookup(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each stream's current context, per order: its counts (B, K, V) uint8, their sum n (B, K, 1) and how many
        are not 0, u (B, K, 1); all 0 where the context was not found."""
        shape = self.rows.shape
        if self.fused:
            rows = np.where(self.found, self.rows, self.empty).reshape(-1)
            return (self.counts[rows].reshape(*shape, -1), self.totals[rows].reshape(*shape, 1),
                    self.kinds[rows].reshape(*shape, 1))
        rows = torch.where(self.found, self.rows, self.empty).view(-1)                        # (B K,)
        return (self.counts.index_select(0, rows).view(*shape, -1),
                self.totals.index_select(0, rows).view(*shape, 1), self.kinds.index_select(0, rows).view(*shape, 1))

    def mix(self, freqs: torch.Tensor) -> torch.Tensor:
        """(B, V) integer frequencies -> (B, V) int64 frequencies (each >= 1) with every order's counts blended
        in (see the module docstring). Each order's division is a multiplication by one reciprocal per stream,
        floor(2**RECIPROCAL_BITS / divisor), which scales the whole row alike: the coder normalises by the sum."""
        if self.fused:
            f = np.ascontiguousarray(freqs, np.int64)
            out = np.empty(f.shape, np.int64)
            fused_counts.mix(self._state, f, out)
            self._freqs = f          # update() scores the byte from these (unchanged until then, as Predictor has it)
            return out
        f = freqs.long()
        q = (f << Q_BITS) // f.sum(1, keepdim=True)                                           # (B, V), sum ~ Q
        c, n, u = self.lookup()
        self._seen = q, c, n, u                                       # what update() scores every set with
        betas = self.betas[first_least(self.cost, 1)[self.group]]                             # (B, K, 2)
        beta = u * betas[:, :, :1] + betas[:, :, 1:]                                          # (B, K, 1)
        reciprocal = (1 << RECIPROCAL_BITS) // ((n << 1) + beta)                              # (B, K, 1)
        # (2 c Q + beta q) * reciprocal, distributed: one product for all orders' counts
        c = c.long() * (reciprocal << Q_BITS + 1)                                             # (B, K, V)
        beta = beta * reciprocal
        for k in range(c.shape[1]):
            q = (c[:, k] + beta[:, k] * q) >> RECIPROCAL_BITS
        return q.add_(1)

    def _score(self, live: torch.Tensor, symbols: torch.Tensor) -> None:
        """Add each set's code length of this step's bytes (of the live streams, live (B, 1)) to its group's
        running length (mix()'s chain, for the actual byte only, under every set)."""
        q, c, n, u = self._seen
        x = symbols[:, None]                                                                  # (B, 1)
        q = q.gather(1, x)                                                                    # (B, 1) -> (B, J)
        c = c.gather(2, x[:, :, None].expand(-1, c.shape[1], 1)).long()                       # (B, K, 1)
        beta = u * self.betas[:, :, 0].T + self.betas[:, :, 1].T                              # (B, K, J)
        reciprocal = (1 << RECIPROCAL_BITS) // ((n << 1) + beta)
        for k in range(c.shape[1]):
            q = ((c[:, k] << Q_BITS + 1) + beta[:, k] * q) * reciprocal[:, k] >> RECIPROCAL_BITS
        q = q + 1                                                                             # (B, J), < 2**24
        top = (q[:, :, None] >= self.powers).sum(2)                                           # floor(log2 q)
        log2 = (top << COST_BITS) + self.log2_table[((q << 8) >> top) - 256]
        cost = ((Q_BITS + 2 << COST_BITS) - log2) * live                                      # (B, J), > 0
        self.cost -= self.cost >> COST_DECAY
        self.cost.index_add_(0, self.group, cost)

    def update(self, t: int, symbols: torch.Tensor) -> None:
        """Count the byte at position t of each stream (symbols (B,) int64); follows mix() for the same step."""
        if self.fused:
            if len(self.betas) > 1 and self._freqs is None:
                raise RuntimeError("with several sets of betas, update() follows mix()")
            fused_counts.update(self._state, t, np.ascontiguousarray(symbols, np.int64), len(self.betas) > 1,
                                _NO_FREQS if self._freqs is None else self._freqs)
            return
        live = (self.lengths > t)[:, None]
        if len(self.betas) > 1:
            self._score(live, symbols)
        # Fixed shapes only, so that a step on a GPU is one stream of kernels with no wait for the host: the
        # writers (B K of them) sorted by cell (row, byte), which also groups them by row; each row's and each
        # cell's sums are taken over its run of writers by a cumulative count (no torch.unique, whose size the host
        # must learn). Every writer of a row or a cell writes the same value there, so a write with repeated
        # indices is the same whichever writer lands last, and an index_add_ of integers is the same in any order.
        rows = torch.where(live, self.rows, self.discard).view(-1)                            # (N,) N = B K
        keys, order = (rows * 256 + symbols[:, None].expand(self.rows.shape).reshape(-1)).sort()  # (N,) cells
        rows, byte = keys >> 8, keys & 255
        tag, found = self.tag.view(-1)[order], (self.found & live).view(-1)[order]
        new_row, new_cell = torch.ones_like(found), torch.ones_like(found)
        new_row[1:], new_cell[1:] = rows[1:] != rows[:-1], keys[1:] != keys[:-1]
        row_run, cell_run = new_row.cumsum(0) - 1, new_cell.cumsum(0) - 1     # each writer's run of its row, cell
        # a row that no writer has the tag of goes to the largest writing tag, emptied
        best = torch.zeros_like(rows).scatter_reduce_(0, row_run, (found.long() << 32) | tag, "amax")[row_run]
        lost = best < (1 << 32)                             # no writer found it; then best is the largest tag
        row_tag = torch.where(lost, best, self.tags.index_select(0, rows))
        self.tags.index_put_((rows,), row_tag)
        # writers that hold their row's tag count their byte
        own = (row_tag == tag).long()
        add = torch.zeros_like(rows).index_add_(0, cell_run, own)[cell_run]            # own writers of the cell
        counts = torch.where(lost[:, None], 0, self.counts.index_select(0, rows))            # (N, 256)
        before = counts.gather(1, byte[:, None]).squeeze(1).long()
        # a row where a count would pass COUNT_MAX is halved first
        full = torch.zeros_like(rows).scatter_reduce_(0, row_run, (before + add > COUNT_MAX).long(), "amax")
        counts = torch.where(full[row_run, None] > 0, counts >> 1, counts)
        self.counts.index_put_((rows,), counts)
        self.totals.index_put_((rows,), counts.sum(1, dtype=torch.int64))
        self.kinds.index_put_((rows,), (counts > 0).sum(1))
        before = counts.gather(1, byte[:, None]).squeeze(1).long()
        after = (before + add).clamp_(max=COUNT_MAX)
        self.counts.view(-1).index_put_((keys,), after.to(torch.uint8))
        counted = new_cell & (add > 0)                      # each counted cell once
        self.totals.index_add_(0, rows, torch.where(counted, after - before, 0))
        self.kinds.index_add_(0, rows, (counted & (before == 0)).long())
        self.words = torch.cat([symbols[:, None], self.words[:, :-1] >> 24], 1) | ((self.words << 8) & 0xFFFFFFFF)
        if self.word is not None:
            self._read_word(symbols)
        self._locate()

    def _read_word(self, symbols: torch.Tensor) -> None:
        """The current word grows by a letter, or ends and becomes the previous one (see next_word)."""
        current, previous = self.word[:, 0], self.word[:, 1]
        grown = next_word(current, symbols)
        self.word[:, 1] = torch.where((grown != 0) | (current == 0), previous, current)
        self.word[:, 0] = grown


def next_word(current: torch.Tensor, symbols: torch.Tensor) -> torch.Tensor:
    """The hash of the word being read (0 between words) after each stream's next byte: letters extend it, any
    other byte ends the word. Letters are ASCII ones, case-folded, and the bytes of UTF-8's two-byte characters
    (Latin, Greek, Cyrillic... letters: a lead byte 0xC0-0xDF, and a continuation byte 0x80-0xBF inside a word),
    but not those of longer ones (0xE0 up: punctuation such as quotes and dashes, symbols, and scripts that do not
    put spaces between words)."""
    folded = symbols | 0x20
    letter = (((folded >= 97) & (folded <= 122)) | ((symbols >= 0xC0) & (symbols < 0xE0))
              | ((symbols >= 0x80) & (symbols < 0xC0) & (current != 0)))
    grown = ((current ^ torch.where(symbols >= 128, symbols, folded)) * _HASH_MULTIPLIER
             & 0xFFFFFFFF) | 1                                              # never 0: 0 is "between words"
    return torch.where(letter, grown, 0)
