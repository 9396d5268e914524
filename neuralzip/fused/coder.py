"""Range coder v1 (FORMAT.md "Frames") as compiled loops: many frames at once, straight from integer frequencies.

Coder v1 is constriction's queue RangeEncoder (32-bit words, 64-bit state, 24-bit probabilities) with its lazy
leaky categorical model fed the frequencies as float64. That model is simple enough to compute here exactly:
for frequencies f (each >= 1, sum N, all below 2**53 so that float64 holds every partial sum) the symbol x gets
the 24-bit interval

    left(x) = trunc(C(x) * s) + x,   right(x) = trunc(C(x + 1) * s) + x + 1  (2**24 for the last symbol),
    C(x) = f[0] + ... + f[x - 1],    s = (2**24 - V) / N  (one correctly rounded float64 division),

and C(x) * s is one correctly rounded float64 product, so every machine computes the same integers. The loops
below are constriction's encode_symbol, seal and decode_symbol on those intervals, word for word; constriction
itself, fed the same frequencies, makes the same bytes (tests/test_coder.py holds the two equal). Going through
it cost more than the model's own arithmetic at the fast level: a float64 copy of every frequency, a Python call
per frame and window, and a chain of 256 dependent float additions per symbol. Here the sums are int64 and the
work for one symbol is a few dozen nanoseconds.

The coders' state lives in arrays, one entry per coder, so that a single call codes a whole window of steps for
every frame of a batch: lower and range (uint64), the inverted-carry situation (how many words are held back and
the first of them), and each coder's words in its own slice of one flat buffer.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import inline, njit

PRECISION = 24
_FULL = np.uint64(0xFFFFFFFFFFFFFFFF)      # the state's range before any symbol
_RENORM = np.uint64(1 << 32)               # range below this: shift a word out
_WORD = np.uint64(0xFFFFFFFF)


class Encoders(NamedTuple):
    """A set of coders' state, one entry per coder (numba takes it as a tuple of arrays)."""
    lower: np.ndarray            # uint64
    range_: np.ndarray           # uint64
    held: np.ndarray             # int64: how many words are held back for a carry that may come
    first_held: np.ndarray       # uint64: the first of them
    words: np.ndarray            # uint32: every coder's words, each in its slice
    ends: np.ndarray             # int64: where each coder's next word goes
    limits: np.ndarray           # int64: the end of each coder's slice


class Decoders(NamedTuple):
    """A set of decoders' state, one entry per decoder but the payloads' words."""
    words: np.ndarray            # uint32: every payload's words, each in its slice
    end: np.ndarray              # int64: the end of each payload's slice
    lower: np.ndarray            # uint64
    range_: np.ndarray           # uint64
    point: np.ndarray            # uint64
    cursor: np.ndarray           # int64: the next word to read


@njit
def _interval(freqs, x):
    """(left, probability) of symbol x under freqs (V,) int64, as coder v1's model gives them."""
    V = freqs.shape[0]
    total = np.int64(0)
    for v in range(V):
        total += freqs[v]
    before = np.int64(0)
    for v in range(x):
        before += freqs[v]
    scale = np.float64((1 << PRECISION) - V) / np.float64(total)
    left = np.int64(np.float64(before) * scale) + x
    if x == V - 1:
        right = np.int64(1 << PRECISION)
    else:
        right = np.int64(np.float64(before + freqs[x]) * scale) + x + 1
    return left, right - left


@inline
def _write(s, e, word):
    """Append a word to coder e's slice of words; past its end (more symbols than the coder was made for) the
    word is dropped and the end moves on, which RangeEncoders.finish() reports."""
    if s.ends[e] < s.limits[e]:
        s.words[s.ends[e]] = np.uint32(word)
    s.ends[e] += 1


@inline
def _release(s, e, carried):
    """Write coder e's held words: the first as held and the rest 0xFFFFFFFF, or, when a carry came (the lower
    end wrapped), the first plus 1 and the rest 0."""
    if carried:
        first, rest = (s.first_held[e] + np.uint64(1)) & _WORD, np.uint64(0)
    else:
        first, rest = s.first_held[e], _WORD
    _write(s, e, first)
    for _ in range(s.held[e] - 1):
        _write(s, e, rest)
    s.held[e] = 0


@inline
def _encode_symbol(s, e, left, probability):
    """Encode an interval with coder e (constriction's RangeEncoder::encode_symbol)."""
    lower, range_, held = s.lower, s.range_, s.held
    scale = range_[e] >> np.uint64(PRECISION)
    new_range = scale * np.uint64(probability)
    new_lower = lower[e] + scale * np.uint64(left)            # wraps, as the state does
    if held[e] > 0 and new_lower + new_range > new_lower:      # the carry is settled: release the held words
        _release(s, e, new_lower < lower[e])
    lower[e] = new_lower
    range_[e] = new_range
    if new_range < _RENORM:
        range_[e] = new_range << np.uint64(32)
        word = new_lower >> np.uint64(32)
        lower[e] = new_lower << np.uint64(32)
        if held[e] > 0:
            held[e] += 1
        elif lower[e] + range_[e] > lower[e]:
            _write(s, e, word)
        else:                                                  # a carry may still come: hold the word back
            held[e] = 1
            s.first_held[e] = word


@njit
def encode_window(s, freqs, symbols, start, lengths, targets):
    """Code steps start ... start + W - 1 of every stream with the coders s: freqs (W, B, V) int64, symbols (B, T)
    uint8, lengths (B,) each stream's symbols; stream b's symbol at a step goes to each coder of targets[b] (B, K),
    -1 for none, streams in batch order."""
    W, B, _ = freqs.shape
    for w in range(W):
        t = start + w
        for b in range(B):
            if lengths[b] <= t:
                continue
            x = np.int64(symbols[b, t])
            left, probability = _interval(freqs[w, b], x)
            for k in range(targets.shape[1]):
                e = targets[b, k]
                if e >= 0:
                    _encode_symbol(s, e, left, probability)


@njit
def seal(s, e):
    """Write coder e's last words (constriction's RangeEncoder::seal); nothing if it coded nothing."""
    if s.range_[e] == _FULL:
        return
    lower = s.lower[e]
    point = lower + (_RENORM - np.uint64(1))
    if s.held[e] > 0:
        _release(s, e, point < lower)
    point_word = point >> np.uint64(32)
    _write(s, e, point_word)
    if (lower + s.range_[e]) >> np.uint64(32) == point_word:
        _write(s, e, 0)


@njit
def start_decoder(s, e, begin):
    """Read the first two words of decoder e's payload, from words[begin] (constriction's read_point)."""
    words, end, cursor = s.words, s.end, s.cursor
    s.lower[e] = np.uint64(0)
    s.range_[e] = _FULL
    p, n = np.uint64(0), 0
    cursor[e] = begin
    while cursor[e] < end[e] and n < 2:
        p = (p << np.uint64(32)) | np.uint64(words[cursor[e]])
        cursor[e] += 1
        n += 1
    if n == 1:
        p = p << np.uint64(32)
    s.point[e] = p


BIT_BITS = 12                 # a binary decision's probability of a 1, in 4096ths (1 ... 4095)


@inline
def bit_split(p1):
    """Where a decision's 0 ends and its 1 begins in the 24-bit interval: coder v1's model on the frequencies
    (4096 - p1, p1), whose scale (2**24 - 2) / 4096 makes every product exact, so it is integers alone."""
    return (((1 << BIT_BITS) - p1) * ((1 << PRECISION) - 2) >> BIT_BITS) + 1


@inline
def encode_bit(s, e, p1, bit):
    """Encode one binary decision with coder e: bit 1 has probability p1 / 4096, exactly as the symbol of the
    frequencies (4096 - p1, p1) (neuralzip.mixer)."""
    split = bit_split(p1)
    if bit:
        _encode_symbol(s, e, split, (1 << PRECISION) - split)
    else:
        _encode_symbol(s, e, 0, split)


@inline
def _narrow(s, e, scale, left, right):
    """Decoder e takes the interval [left, right) of its scaled range, and reads a word when the range is short."""
    s.lower[e] += scale * np.uint64(left)
    s.range_[e] = scale * np.uint64(right - left)
    if s.range_[e] < _RENORM:
        s.lower[e] = s.lower[e] << np.uint64(32)
        s.range_[e] = s.range_[e] << np.uint64(32)
        s.point[e] = s.point[e] << np.uint64(32)
        if s.cursor[e] < s.end[e]:
            s.point[e] = s.point[e] | np.uint64(s.words[s.cursor[e]])
            s.cursor[e] += 1


@inline
def decode_bit(s, e, p1):
    """Decode one binary decision of probability p1 / 4096 for a 1 (encode_bit's inverse); -1 where decoder e's
    data cannot be a coder v1 payload."""
    scale = s.range_[e] >> np.uint64(PRECISION)
    quantile = np.int64((s.point[e] - s.lower[e]) // scale)
    if quantile >= 1 << PRECISION:
        return -1
    split = bit_split(p1)
    if quantile >= split:
        _narrow(s, e, scale, split, np.int64(1 << PRECISION))
        return 1
    _narrow(s, e, scale, np.int64(0), split)
    return 0


@njit
def decode_step(s, freqs, t, lengths, sources, out):
    """Decode step t with the decoders s: each stream b with lengths[b] > t and a decoder sources[b] >= 0 gets its
    symbol in out[b] (streams in batch order), from freqs (B, V) int64. Returns the first stream whose data cannot
    be a coder v1 payload, or -1."""
    B, V = freqs.shape
    lower, range_, point = s.lower, s.range_, s.point
    for b in range(B):
        e = sources[b]
        if e < 0 or lengths[b] <= t:
            continue
        f = freqs[b]
        scale = range_[e] >> np.uint64(PRECISION)
        quantile = np.int64((point[e] - lower[e]) // scale)    # below 2**56: the scale is at least 2**8
        if quantile >= 1 << PRECISION:
            return b
        total = np.int64(0)
        for v in range(V):
            total += f[v]
        unit = np.float64((1 << PRECISION) - V) / np.float64(total)
        # skip, in integers, the symbols whose right end is surely at or below the quantile: C(x + 1) below
        # bound means trunc(C(x + 1) s) + x + 1 < quantile (the factor covers the product's rounding, and more)
        bound = np.int64(np.float64(quantile - V) / unit * (1.0 - 1e-9)) - 1 if quantile > V else np.int64(0)
        x, before = 0, np.int64(0)
        while x < V - 1 and before + f[x] < bound:
            before += f[x]
            x += 1
        left = np.int64(np.float64(before) * unit) + x
        while True:                                            # then the exact search, as the encoder sees it
            if x == V - 1:
                right = np.int64(1 << PRECISION)
                break
            right = np.int64(np.float64(before + f[x]) * unit) + x + 1
            if right > quantile:
                break
            before += f[x]
            left = right
            x += 1
        out[b] = x
        _narrow(s, e, scale, left, right)
    return -1
