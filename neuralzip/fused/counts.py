"""The loops of neuralzip.counts' ContextCounts: the blend of every context's counts, the running code length of
each set of betas, and the tables' bookkeeping (the lookup, the rows claimed and halved, the counts added).

Same integers as ContextCounts.mix, _score, update and _locate, bit for bit: the group's rows keep their rule that
every stream of a step looks up before any writes, and what a row becomes depends only on the set of its writers
(gathered per row here, as torch.unique gathers them there). The divisions of a whole row by one sum, and of 2**27
by each set's divisor, run in floating point and are then corrected to the exact integer floor.
"""

from __future__ import annotations

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
def locate(words, word, has_word, masks, salts, group, table_bits, tags, totals, tag, found, rows):
    """Each stream's context per order (the word context first, when has_word): its tag, and its row and whether
    the tag was found there (ContextCounts._locate); writes tag, found and rows (B, K)."""
    B, K = rows.shape
    W = words.shape[1]
    free = 32 - table_bits
    low = (WAYS << free) - 1
    for b in range(B):
        base = group[b] << table_bits
        for k in range(K):
            h = salts[k]
            if has_word and k == 0:
                for w in range(W):
                    h = ((h ^ word[b, w]) * _MULTIPLIER) & _MASK32
            else:
                order = k - has_word
                for w in range(W):
                    h = ((h ^ (words[b, w] & masks[order, w])) * _MULTIPLIER) & _MASK32
            h = h ^ (h >> 15)
            h = ((h * _MULTIPLIER) & _MASK32) ^ (h >> 13)
            bucket = base + ((h >> free) & -WAYS)
            tag[b, k] = (h & low) + 1
            rows[b, k] = bucket
            _prefetch(tags, bucket)          # every bucket asked for first, then read
            _prefetch(totals, bucket)
    for b in range(B):
        for k in range(K):
            bucket, g = rows[b, k], tag[b, k]
            way = -1
            for w in range(WAYS):
                if tags[bucket + w] == g:
                    way = w
                    break
            found[b, k] = way >= 0
            if way < 0:                      # the bucket's row of fewest counts, the first such
                way = 0
                for w in range(1, WAYS):
                    if totals[bucket + w] < totals[bucket + way]:
                        way = w
            rows[b, k] = bucket + way


@njit
def mix(freqs, cost, group, betas, rows, found, empty, counts, totals, kinds, fast, chosen, sums, out):
    """freqs (B, V) -> out (B, V) int64 with every context's counts blended in (ContextCounts.mix), each group with
    its set of least running code length (chosen (G,), the first on ties); sums (B,) gets each stream's sum of
    freqs, from which update() scores the actual byte. fast: as update()'s."""
    B, V = freqs.shape
    G, J = cost.shape
    K = rows.shape[1]
    for g in range(G):
        j = 0
        for i in range(1, J):
            if cost[g, i] < cost[g, j]:
                j = i
        chosen[g] = j
    for b in range(-_AHEAD, B):
        if b + _AHEAD < B:                   # the rows of a stream a few ahead
            for k in range(K):
                if found[b + _AHEAD, k]:
                    _prefetch_row(counts, totals, kinds, rows[b + _AHEAD, k])
        if b < 0:
            continue
        total = np.int64(0)
        low, high = np.int64(0), np.int64(0)
        for v in range(V):
            x = np.int64(freqs[b, v])
            total += x
            low, high = min(low, x), max(high, x)
        sums[b] = total
        # freqs from 0 to 2**31 (f 2**22 below 2**53): every q stays at most Q = 2**22 (a weighted mean of
        # c Q / n <= Q and the q before, as every row's total is the sum of its counts), so that every product
        # below is of two factors below 2**32
        small = fast and total > 0 and low >= 0 and high < (1 << (53 - Q_BITS))
        if small:
            inverse = np.true_divide(1.0, np.float64(total))
            for v in range(V):
                out[b, v] = _floor_times(np.int64(freqs[b, v]) << Q_BITS, total, inverse)
        else:
            for v in range(V):
                out[b, v] = (np.int64(freqs[b, v]) << Q_BITS) // total
        j = chosen[group[b]]
        for k in range(K):
            row = rows[b, k] if found[b, k] else empty
            beta = kinds[row] * betas[j, k, 0] + betas[j, k, 1]
            reciprocal = (1 << RECIPROCAL_BITS) // ((totals[row] << 1) + beta)
            bm = beta * reciprocal
            if not small:
                cm = reciprocal << (Q_BITS + 1)
                for v in range(V):
                    out[b, v] = (np.int64(counts[row, v]) * cm + bm * out[b, v]) >> RECIPROCAL_BITS
            elif found[b, k]:
                # (2 c Q + beta q) * reciprocal as (c reciprocal) 2 Q + (beta reciprocal) q: the masks change no
                # value (each is below 2**32), they let the products run as 32 by 32 bits
                reciprocal &= _MASK32
                bm &= _MASK32
                for v in range(V):
                    out[b, v] = (((np.int64(counts[row, v]) * reciprocal) << (Q_BITS + 1))
                                 + (out[b, v] & _MASK32) * bm) >> RECIPROCAL_BITS
            elif bm != 1 << RECIPROCAL_BITS:  # the empty row: no counts (and with beta a power of 2, no change)
                bm &= _MASK32
                for v in range(V):
                    out[b, v] = ((out[b, v] & _MASK32) * bm) >> RECIPROCAL_BITS
        for v in range(V):
            out[b, v] += 1


@njit
def update(t, symbols, lengths, group, rows, tag, found, discard, empty, counts, tags, totals, kinds,
           score, fast, freqs, sums, betas_a, betas_b, cost, log2_table, words, word, has_word, masks, salts,
           table_bits, places, place, link, byte, unique, head, kept, claim, add, cells):
    """Count the byte at position t of each stream (symbols (B,), bytes) as ContextCounts.update, after mix() of
    the same step (freqs: its input, sums: what it wrote). With score, first each set's code length of the byte
    into its group's running length (ContextCounts._score; betas_a, betas_b (K, J): each context's two betas
    per set); then the rows claimed, halved and counted; then each stream's next context located. fast: every
    beta from 0 to 2**31 and every second one from 1, so that every divisor is from 1 to 2**40.

    Work space: places (a power of 2, at least 2 B K), all 0 between calls (a hash table of this step's rows:
    each one's index among them, plus one); place, link, byte, unique, head, kept, claim (B K,); add (256,), all
    0 between calls; cells (256,)."""
    B, K = rows.shape
    G, J = cost.shape
    for b in range(B):
        if symbols[b] < 0 or symbols[b] > 255:
            raise ValueError("context counts count bytes")
    for h in range(0, places.shape[0], 16):  # the hash table is small, but rarely still in the cache: ask now
        _prefetch(places, h)
    if score:
        for g in range(G):
            for j in range(J):
                cost[g, j] -= cost[g, j] >> COST_DECAY
        q = np.empty(J, np.int64)
        one = np.int64(1 << RECIPROCAL_BITS)
        # the contexts whose empty row changes no set's q (beta = b_k, a power of 2 for every set: beta times
        # 2**27 // beta is 2**27), for q from 0 to 2**23 (as the chain keeps it, from such a q0)
        unit = np.empty(K, np.bool_)
        for k in range(K):
            unit[k] = fast
            for j in range(J):
                if betas_b[k, j] & (betas_b[k, j] - 1) != 0 or betas_b[k, j] > one:
                    unit[k] = False
        for b in range(-2 * _AHEAD, B):
            ahead = b + 2 * _AHEAD
            if ahead < B and lengths[ahead] > t:
                _prefetch(freqs, ahead * freqs.shape[1] + symbols[ahead])
                for k in range(K):
                    if found[ahead, k]:
                        r = rows[ahead, k]
                        _prefetch(counts, r * 256 + symbols[ahead])
                        _prefetch(totals, r)
                        _prefetch(kinds, r)
            if b < 0 or lengths[b] <= t:     # a finished stream adds 0
                continue
            x = symbols[b]
            q0 = (np.int64(freqs[b, x]) << Q_BITS) // sums[b]        # mix()'s for the byte
            for j in range(J):
                q[j] = q0
            plain = 0 <= q0 <= 1 << 23
            for k in range(K):
                if plain and unit[k] and not found[b, k]:
                    continue
                row = rows[b, k] if found[b, k] else empty
                c = np.int64(counts[row, x]) << (Q_BITS + 1)
                n2, u = totals[row] << 1, kinds[row]
                if fast:
                    for j in range(J):
                        beta = u * betas_a[k, j] + betas_b[k, j]
                        q[j] = ((c + beta * q[j]) * _floor_div(one, n2 + beta)) >> RECIPROCAL_BITS
                else:
                    for j in range(J):
                        beta = u * betas_a[k, j] + betas_b[k, j]
                        q[j] = ((c + beta * q[j]) * (one // (n2 + beta))) >> RECIPROCAL_BITS
            g = group[b]
            for j in range(J):
                p = q[j] + 1
                top = 0                      # how many of 2**1 ... 2**30 p reaches
                for shift in (16, 8, 4, 2, 1):
                    if top + shift <= 30 and p >= (np.int64(2) << (top + shift - 1)):
                        top += shift
                log2 = (top << COST_BITS) + log2_table[((p << 8) >> top) - 256]
                cost[g, j] += ((Q_BITS + 2) << COST_BITS) - log2
    # the rows written this step (finished streams: the discard row), through a hash table of this step's rows,
    # each with its writers (a list through head and link), whether one of them found its context there and the
    # largest writing tag; then each row as torch.unique gathers it, in any order
    flat_tag = tag.reshape(-1)                                  # writer b K + k's
    bits = 0                                                    # places: 2**bits of them
    while (1 << bits) < places.shape[0]:
        bits += 1
    m = 0
    for b in range(B):
        live = lengths[b] > t
        for k in range(K):
            r = rows[b, k] if live else discard
            h = ((r * _FIBONACCI) >> (64 - bits)) & ((1 << bits) - 1)
            while True:
                i = places[h] - 1
                if i < 0:                    # a row not yet written this step
                    i = m
                    unique[i], place[i], head[i], kept[i], claim[i] = r, h, -1, 0, 0
                    places[h] = m + 1
                    m += 1
                    break
                if unique[i] == r:
                    break
                h = (h + 1) & ((1 << bits) - 1)
            if live and found[b, k]:
                kept[i] = 1
            claim[i] = max(claim[i], tag[b, k])
            link[b * K + k] = head[i]
            head[i] = b * K + k
            byte[b * K + k] = symbols[b]
    for i in range(m):
        places[place[i]] = 0
    for i in range(m):
        if i + 2 * _AHEAD < m:
            r = unique[i + 2 * _AHEAD]
            _prefetch_row(counts, totals, kinds, r)
            _prefetch(tags, r)
        r = unique[i]
        if kept[i] == 0:                     # no writer holds the row's tag: the largest writing tag takes it
            tags[r] = claim[i]
            for v in range(256):
                counts[r, v] = 0
            totals[r], kinds[r] = 0, 0
        # the writers that hold the row's tag count their bytes
        distinct = 0
        w = head[i]
        while w >= 0:
            if flat_tag[w] == tags[r]:
                s = byte[w]
                if add[s] == 0:
                    cells[distinct] = s
                    distinct += 1
                add[s] += 1
            w = link[w]
        full = False
        for c in range(distinct):
            s = cells[c]
            if np.int64(counts[r, s]) + add[s] > COUNT_MAX:
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
            s = cells[c]
            before = np.int64(counts[r, s])
            after = min(before + add[s], COUNT_MAX)
            counts[r, s] = after
            totals[r] += after - before
            kinds[r] += before == 0
            add[s] = 0
    # the contexts move on by the byte
    W = words.shape[1]
    for b in range(B):
        s = symbols[b]
        for w in range(W - 1, 0, -1):
            words[b, w] = (words[b, w - 1] >> 24) | ((words[b, w] << 8) & _MASK32)
        words[b, 0] = s | ((words[b, 0] << 8) & _MASK32)
        if has_word:
            current = word[b, 0]
            grown = _next_word(current, s)
            if not (grown != 0 or current == 0):
                word[b, 1] = current
            word[b, 0] = grown
    locate(words, word, has_word, masks, salts, group, table_bits, tags, totals, tag, found, rows)
