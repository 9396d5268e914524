"""The loops of neuralzip.counts' ContextCounts: the blend of every context's counts, the running code length of
each set of betas, and the tables' bookkeeping (the lookup, the rows claimed and halved, the counts added).

Same integers as ContextCounts.mix, _score, update and _locate, bit for bit: the group's rows keep their rule that
every stream of a step looks up before any writes, and what a row becomes depends only on the set of its writers
(gathered per row here, as torch.unique gathers them there). The divisions of a whole row by one sum, and of 2**27
by each set's divisor, run in floating point and are then corrected to the exact integer floor.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import floor_div as _floor_div, njit, prefetch as _prefetch
from .hashing import MASK32 as _MASK32, MURMUR as _MULTIPLIER, next_word as _next_word

# the counts' constants, defined here and read by neuralzip.counts (which imports this module, not the reverse)
Q_BITS = 22
RECIPROCAL_BITS = 27         # (2 c Q + beta q) <= (2 n + beta) Q, so times 2**27 / (2 n + beta) fits in int64
COUNT_MAX = 255
COST_BITS = 12               # running code lengths are in 2**-12 bits
COST_DECAY = 6               # each step keeps all but 1/64 of a group's running code lengths
WAYS = 4                     # rows a context may sit in
_FIBONACCI = 0x9E3779B97F4A7C15 - (1 << 64)    # 2**64 / the golden ratio, as an int64 (hashing rows)
_AHEAD = 4                    # how many streams (or rows) ahead a loop asks for the rows it will read


class CountsState(NamedTuple):
    """What the loops of one ContextCounts read and change, in one object (numba takes it as a tuple of arrays):
    the tables, the streams' contexts, the blend's constants, and the work space of update()."""
    # the tables of every group: rows of counts, each row's tag, sum of counts and number of counts not 0
    counts: np.ndarray           # (R + 2, 256) uint8; row `discard`: finished streams write there, `empty`: none
    tags: np.ndarray             # (R + 2,) int64
    totals: np.ndarray
    kinds: np.ndarray
    discard: int
    empty: int
    table_bits: int              # 2**table_bits rows per group
    # the streams
    lengths: np.ndarray          # (B,) each stream's length
    group: np.ndarray            # (B,) its group, from 0
    words: np.ndarray            # (B, W) the last bytes, 4 to a word, newest first
    word: np.ndarray             # (B, W) the word context's hashes (words itself where there is none)
    has_word: int
    masks: np.ndarray            # (K, W) per order, the bytes of each word it reads
    salts: np.ndarray            # (K,)
    rows: np.ndarray             # (B, K) each context's row, its tag, and whether the tag was found there
    tag: np.ndarray
    found: np.ndarray
    # the blend: J sets of betas, each group's running code length per set
    betas: np.ndarray            # (J, K, 2)
    betas_a: np.ndarray          # (K, J) each set's first beta per context, and its second
    betas_b: np.ndarray
    fast: bool                   # every divisor from 1 to 2**40: floating point may divide (see _score)
    cost: np.ndarray             # (G, J)
    chosen: np.ndarray           # (G,) mix()'s set per group
    sums: np.ndarray             # (B,) mix()'s sum of each stream's freqs
    log2_table: np.ndarray       # (256,)
    # update()'s work space: places (a power of 2, at least 2 B K), all 0 between calls, a hash table of a step's
    # rows (each one's index among them, plus one); place, link, byte, unique, head, kept, claim (B K,); add
    # (256,), all 0 between calls; cells (256,)
    places: np.ndarray
    place: np.ndarray
    link: np.ndarray
    byte: np.ndarray
    unique: np.ndarray
    head: np.ndarray
    kept: np.ndarray
    claim: np.ndarray
    add: np.ndarray
    cells: np.ndarray


@njit
def _prefetch_row(counts, totals, kinds, r):
    """A row's counts (four cache lines: the tables start on one, neuralzip.counts) and its total and kinds."""
    for line in range(0, 256, 64):
        _prefetch(counts, r * 256 + line)
    _prefetch(totals, r)
    _prefetch(kinds, r)


@njit
def _floor_times(a, d, inverse):
    """a // d for 0 <= a < 2**53, 1 <= d < 2**53 and a / d < 2**50, given inverse = 1 / d in doubles: a times it
    is within 1 of a / d, then corrected (and a multiplication is much quicker than a division)."""
    r = np.int64(np.float64(a) * inverse)
    r -= np.int64(r * d > a)
    r += np.int64((r + 1) * d <= a)
    return r


@njit
def locate(s):
    """Each stream's context per order (the word context first, when has_word): its tag, and its row and whether
    the tag was found there (ContextCounts._locate); writes s.tag, s.found and s.rows."""
    B, K = s.rows.shape
    W = s.words.shape[1]
    free = 32 - s.table_bits
    low = (WAYS << free) - 1
    for b in range(B):
        base = s.group[b] << s.table_bits
        for k in range(K):
            h = s.salts[k]
            if s.has_word and k == 0:
                for w in range(W):
                    h = ((h ^ s.word[b, w]) * _MULTIPLIER) & _MASK32
            else:
                order = k - s.has_word
                for w in range(W):
                    h = ((h ^ (s.words[b, w] & s.masks[order, w])) * _MULTIPLIER) & _MASK32
            h = h ^ (h >> 15)
            h = ((h * _MULTIPLIER) & _MASK32) ^ (h >> 13)
            bucket = base + ((h >> free) & -WAYS)
            s.tag[b, k] = (h & low) + 1
            s.rows[b, k] = bucket
            _prefetch(s.tags, bucket)          # every bucket asked for first, then read
            _prefetch(s.totals, bucket)
    for b in range(B):
        for k in range(K):
            bucket, g = s.rows[b, k], s.tag[b, k]
            way = -1
            for w in range(WAYS):
                if s.tags[bucket + w] == g:
                    way = w
                    break
            s.found[b, k] = way >= 0
            if way < 0:                      # the bucket's row of fewest counts, the first such
                way = 0
                for w in range(1, WAYS):
                    if s.totals[bucket + w] < s.totals[bucket + way]:
                        way = w
            s.rows[b, k] = bucket + way


@njit
def mix(s, freqs, out):
    """freqs (B, V) -> out (B, V) int64 with every context's counts blended in (ContextCounts.mix), each group with
    its set of least running code length (s.chosen, the first on ties); s.sums gets each stream's sum of freqs,
    from which update() scores the actual byte."""
    B, V = freqs.shape
    G, J = s.cost.shape
    K = s.rows.shape[1]
    for g in range(G):
        j = 0
        for i in range(1, J):
            if s.cost[g, i] < s.cost[g, j]:
                j = i
        s.chosen[g] = j
    for b in range(-_AHEAD, B):
        if b + _AHEAD < B:                   # the rows of a stream a few ahead
            for k in range(K):
                if s.found[b + _AHEAD, k]:
                    _prefetch_row(s.counts, s.totals, s.kinds, s.rows[b + _AHEAD, k])
        if b < 0:
            continue
        total = np.int64(0)
        low, high = np.int64(0), np.int64(0)
        for v in range(V):
            x = np.int64(freqs[b, v])
            total += x
            low, high = min(low, x), max(high, x)
        s.sums[b] = total
        # freqs from 0 to 2**31 (f 2**22 below 2**53): every q stays at most Q = 2**22 (a weighted mean of
        # c Q / n <= Q and the q before, as every row's total is the sum of its counts), so that every product
        # below is of two factors below 2**32
        small = s.fast and total > 0 and low >= 0 and high < (1 << (53 - Q_BITS))
        if small:
            inverse = np.true_divide(1.0, np.float64(total))
            for v in range(V):
                out[b, v] = _floor_times(np.int64(freqs[b, v]) << Q_BITS, total, inverse)
        else:
            for v in range(V):
                out[b, v] = (np.int64(freqs[b, v]) << Q_BITS) // total
        j = s.chosen[s.group[b]]
        for k in range(K):
            found = s.found[b, k]
            row = s.rows[b, k] if found else s.empty
            beta = s.kinds[row] * s.betas[j, k, 0] + s.betas[j, k, 1]
            reciprocal = (1 << RECIPROCAL_BITS) // ((s.totals[row] << 1) + beta)
            bm = beta * reciprocal
            if not small:
                cm = reciprocal << (Q_BITS + 1)
                for v in range(V):
                    out[b, v] = (np.int64(s.counts[row, v]) * cm + bm * out[b, v]) >> RECIPROCAL_BITS
            elif found:
                # (2 c Q + beta q) * reciprocal as (c reciprocal) 2 Q + (beta reciprocal) q: the masks change no
                # value (each is below 2**32), they let the products run as 32 by 32 bits
                reciprocal &= _MASK32
                bm &= _MASK32
                for v in range(V):
                    out[b, v] = (((np.int64(s.counts[row, v]) * reciprocal) << (Q_BITS + 1))
                                 + (out[b, v] & _MASK32) * bm) >> RECIPROCAL_BITS
            elif bm != 1 << RECIPROCAL_BITS:  # the empty row: no counts (and with beta a power of 2, no change)
                bm &= _MASK32
                for v in range(V):
                    out[b, v] = ((out[b, v] & _MASK32) * bm) >> RECIPROCAL_BITS
        for v in range(V):
            out[b, v] += 1


@njit
def update(s, t, symbols, score, freqs):
    """Count the byte at position t of each stream (symbols (B,), bytes) as ContextCounts.update, after mix() of
    the same step (freqs: its input). With score, first each set's code length of the byte into its group's
    running length; then the rows claimed, halved and counted; then each stream's next context located."""
    for b in range(symbols.shape[0]):
        if symbols[b] < 0 or symbols[b] > 255:
            raise ValueError("context counts count bytes")
    for h in range(0, s.places.shape[0], 16):  # the hash table is small, but rarely still in the cache: ask now
        _prefetch(s.places, h)
    if score:
        _score(s, t, symbols, freqs)
    _count(s, _gather_writers(s, t, symbols))
    _advance(s, symbols)
    locate(s)


@njit
def _score(s, t, symbols, freqs):
    """Each set's code length of each live stream's byte, added to its group's running length (ContextCounts._score:
    mix()'s chain for the actual byte only, under every set). s.fast: every beta from 0 to 2**31 and every second
    one from 1, so that every divisor is from 1 to 2**40 and may be divided in floating point."""
    B, K = s.rows.shape
    G, J = s.cost.shape
    for g in range(G):
        for j in range(J):
            s.cost[g, j] -= s.cost[g, j] >> COST_DECAY
    q = np.empty(J, np.int64)
    one = np.int64(1 << RECIPROCAL_BITS)
    # the contexts whose empty row changes no set's q (beta = b_k, a power of 2 for every set: beta times
    # 2**27 // beta is 2**27), for q from 0 to 2**23 (as the chain keeps it, from such a q0)
    unit = np.empty(K, np.bool_)
    for k in range(K):
        unit[k] = s.fast
        for j in range(J):
            if s.betas_b[k, j] & (s.betas_b[k, j] - 1) != 0 or s.betas_b[k, j] > one:
                unit[k] = False
    for b in range(-2 * _AHEAD, B):
        ahead = b + 2 * _AHEAD
        if ahead < B and s.lengths[ahead] > t:
            _prefetch(freqs, ahead * freqs.shape[1] + symbols[ahead])
            for k in range(K):
                if s.found[ahead, k]:
                    r = s.rows[ahead, k]
                    _prefetch(s.counts, r * 256 + symbols[ahead])
                    _prefetch(s.totals, r)
                    _prefetch(s.kinds, r)
        if b < 0 or s.lengths[b] <= t:     # a finished stream adds 0
            continue
        x = symbols[b]
        q0 = (np.int64(freqs[b, x]) << Q_BITS) // s.sums[b]        # mix()'s for the byte
        for j in range(J):
            q[j] = q0
        plain = 0 <= q0 <= 1 << 23
        for k in range(K):
            if plain and unit[k] and not s.found[b, k]:
                continue
            row = s.rows[b, k] if s.found[b, k] else s.empty
            c = np.int64(s.counts[row, x]) << (Q_BITS + 1)
            n2, u = s.totals[row] << 1, s.kinds[row]
            if s.fast:
                for j in range(J):
                    beta = u * s.betas_a[k, j] + s.betas_b[k, j]
                    q[j] = ((c + beta * q[j]) * _floor_div(one, n2 + beta)) >> RECIPROCAL_BITS
            else:
                for j in range(J):
                    beta = u * s.betas_a[k, j] + s.betas_b[k, j]
                    q[j] = ((c + beta * q[j]) * (one // (n2 + beta))) >> RECIPROCAL_BITS
        g = s.group[b]
        for j in range(J):
            p = q[j] + 1
            top = 0                      # how many of 2**1 ... 2**30 p reaches
            for shift in (16, 8, 4, 2, 1):
                if top + shift <= 30 and p >= (np.int64(2) << (top + shift - 1)):
                    top += shift
            log2 = (top << COST_BITS) + s.log2_table[((p << 8) >> top) - 256]
            s.cost[g, j] += ((Q_BITS + 2) << COST_BITS) - log2


@njit
def _gather_writers(s, t, symbols):
    """The rows written this step (finished streams: the discard row), through a hash table of this step's rows,
    each with its writers (a list through head and link), whether one of them found its context there and the
    largest writing tag: each row as torch.unique gathers it, in any order. Returns how many rows."""
    B, K = s.rows.shape
    bits = 0                                                    # places: 2**bits of them
    while (1 << bits) < s.places.shape[0]:
        bits += 1
    m = 0
    for b in range(B):
        live = s.lengths[b] > t
        for k in range(K):
            r = s.rows[b, k] if live else s.discard
            h = ((r * _FIBONACCI) >> (64 - bits)) & ((1 << bits) - 1)
            while True:
                i = s.places[h] - 1
                if i < 0:                    # a row not yet written this step
                    i = m
                    s.unique[i], s.place[i], s.head[i], s.kept[i], s.claim[i] = r, h, -1, 0, 0
                    s.places[h] = m + 1
                    m += 1
                    break
                if s.unique[i] == r:
                    break
                h = (h + 1) & ((1 << bits) - 1)
            if live and s.found[b, k]:
                s.kept[i] = 1
            s.claim[i] = max(s.claim[i], s.tag[b, k])
            s.link[b * K + k] = s.head[i]
            s.head[i] = b * K + k
            s.byte[b * K + k] = symbols[b]
    for i in range(m):
        s.places[s.place[i]] = 0
    return m


@njit
def _count(s, m):
    """Each of the m rows _gather_writers found: claimed by the largest writing tag where no writer holds its tag
    (emptied), halved where a count would pass COUNT_MAX, then counted by the writers that hold its tag."""
    flat_tag = s.tag.reshape(-1)                                # writer b K + k's
    counts, totals, kinds, tags = s.counts, s.totals, s.kinds, s.tags
    for i in range(m):
        if i + 2 * _AHEAD < m:
            r = s.unique[i + 2 * _AHEAD]
            _prefetch_row(counts, totals, kinds, r)
            _prefetch(tags, r)
        r = s.unique[i]
        if s.kept[i] == 0:                   # no writer holds the row's tag: the largest writing tag takes it
            tags[r] = s.claim[i]
            for v in range(256):
                counts[r, v] = 0
            totals[r], kinds[r] = 0, 0
        distinct = 0                         # the writers that hold the row's tag count their bytes
        w = s.head[i]
        while w >= 0:
            if flat_tag[w] == tags[r]:
                x = s.byte[w]
                if s.add[x] == 0:
                    s.cells[distinct] = x
                    distinct += 1
                s.add[x] += 1
            w = s.link[w]
        full = False
        for c in range(distinct):
            x = s.cells[c]
            if np.int64(counts[r, x]) + s.add[x] > COUNT_MAX:
                full = True
        if full:                             # a count would pass 255: the row is halved first
            total, kind = np.int64(0), np.int64(0)
            for v in range(256):
                half = counts[r, v] >> 1
                counts[r, v] = half
                total += half
                kind += half > 0
            totals[r], kinds[r] = total, kind
        for c in range(distinct):
            x = s.cells[c]
            before = np.int64(counts[r, x])
            after = min(before + s.add[x], COUNT_MAX)
            counts[r, x] = after
            totals[r] += after - before
            kinds[r] += before == 0
            s.add[x] = 0


@njit
def _advance(s, symbols):
    """The contexts move on by each stream's byte."""
    B, W = s.words.shape
    for b in range(B):
        x = symbols[b]
        for w in range(W - 1, 0, -1):
            s.words[b, w] = (s.words[b, w - 1] >> 24) | ((s.words[b, w] << 8) & _MASK32)
        s.words[b, 0] = x | ((s.words[b, 0] << 8) & _MASK32)
        if s.has_word:
            current = s.word[b, 0]
            grown = _next_word(current, x)
            if not (grown != 0 or current == 0):
                s.word[b, 1] = current
            s.word[b, 0] = grown
