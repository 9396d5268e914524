"""The loops of neuralzip.mixer: each byte's 8 decisions predicted, coded and learned from, stream after stream.

The stage runs on the host whatever the predictor's device (its input is the frequencies the coder receives
there), so these loops are its only form; FORMAT.md "Bit mixer" gives the same rules in words. Streams of a group
share its tables and take their turns in batch order (content order) within each step, so every machine and
batch computes the same integers. Everything is int64 arithmetic below 2**63 (a 32-bit value times MURMUR at
most), so the loops give the same integers run by numba or, without it, by Python on numpy scalars.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import inline, njit
from .apm import POINTS    # the map's interpolation points per row, as neuralzip.apm's
from .coder import decode_bit, encode_bit
from .hashing import MASK32, MURMUR, next_word

BASE_CONTEXTS = 12           # the context models, each a table of probabilities (FORMAT.md "Bit mixer")
CONTEXTS = BASE_CONTEXTS + 1 # and the key context, which a model has with mixer_key
INPUTS = CONTEXTS + 3        # the network's decision, a bias, each context's (0 for one not used) and the input map's
BIAS = 256                   # the bias input, in stretch units
LINE = 256                   # columns of the line above that the record contexts can read
FIELDS = 64                  # fields of a line whose starts the record contexts keep
WEIGHT_ONE = 1 << 16         # the mixer's weights are in 65536ths
SETS = 256 + 256             # weight sets: one per node (the partial byte), one per previous byte
PROB_BITS = 22               # a context's probability of a 1, in 2**22ths, beside its count in the low 10 bits
COUNT_MASK = 1023
HALF = 1 << (PROB_BITS - 1)  # a slot holds its probability XOR HALF, so that a new (zero) slot says 1/2
MAP_ROWS = 256 * 256         # the map's rows: previous byte x node
MAP_RATE = 6                 # the maps' points move 1/64 of the way to each bit
INPUT_MAP_SALT = 13 << 24    # salts the input map's hash (its rows are a table of their own)
WEIGHT_LIMIT = 1 << 23       # a weight's difference from its start stays within this


class MixerState(NamedTuple):
    """What the loops read and change, in one object (numba takes it as a tuple of arrays)."""
    group: np.ndarray            # (B,) its group's label
    history: np.ndarray          # (B,) its last 6 bytes, the newest lowest
    column: np.ndarray           # (B,) bytes since its last newline
    field: np.ndarray            # (B,) separators since its last newline (at most 255)
    word: np.ndarray             # (B,) the hash of the word being read
    above: np.ndarray            # (B, LINE) uint8 the line before, and its length in above_length
    above_length: np.ndarray     # (B,)
    line: np.ndarray             # (B, LINE) uint8 the line so far
    starts: np.ndarray           # (B, FIELDS) where each of the line's first fields began (its column)
    above_starts: np.ndarray     # (B, FIELDS + 1) the same of the line before, and where it ended
    above_fields: np.ndarray     # (B,) how many of them the line before had (at most FIELDS)
    token: np.ndarray            # (B,) the hash of the bytes since the last delimiter (or the delimiter itself)
    key: np.ndarray              # (B,) the hash of the last key: a JSON object's, an XML attribute's or tag's name
    quoted: np.ndarray           # (B,) the hash of the bytes since the last double quote
    last_quoted: np.ndarray      # (B,) the same, as it was at that quote
    in_tag: np.ndarray           # (B,) 1 between a < and the end of the name after it
    contexts: int                # the context models this model uses: 12, or 13 with the key context
    keys: np.ndarray             # (CONTEXTS,) this byte's context keys, for the stream at hand
    slots: np.ndarray            # (CONTEXTS,) this nibble's 16-slot block per context
    inputs: np.ndarray           # (INPUTS,) this decision's stretched inputs
    table_bits: np.ndarray       # (G,) each group's 2**bits blocks of 16 slots per context
    table_base: np.ndarray       # (G,) where each group's blocks begin
    tables: np.ndarray           # uint32 (sum over groups of CONTEXTS << bits, 16)
    weights: np.ndarray          # int32 (G, SETS, INPUTS), each weight's difference from its start
    points: np.ndarray           # int32 (G * MAP_ROWS * POINTS,), each point's difference from its start
    initial: np.ndarray          # (POINTS,) the starting points (neuralzip.apm.INITIAL_POINTS)
    stretch: np.ndarray          # (4096,) p -> stretch(p), PAQ's (neuralzip.apm)
    squash: np.ndarray           # (4095,) x + 2047 -> squash(x), PAQ's
    rate: int                    # the weights' learning rate
    reciprocal: np.ndarray       # (1024,) a slot's step at each count, in 65536ths: 2 / (2 n + 3)
    limit: int                   # a slot's count stops here
    cumulative: np.ndarray       # (257,) the frequencies' partial sums, for the stream at hand
    map_order: int               # the input map's context: the last map_order bytes (0: no input map)
    map_base: np.ndarray         # (G,) where each group's rows begin (2**table_bits of POINTS points each)
    map_points: np.ndarray       # int32 (rows * POINTS,), each point's difference from its start


@inline
def _hash(x):
    """A 32-bit value's 32-bit hash (a xorshift, then MurmurHash2's multiplier)."""
    return ((x ^ (x >> 15)) * MURMUR) & MASK32


@inline
def _begin(m, b):
    """Stream b's context keys for its next byte (FORMAT.md "Bit mixer" lists them)."""
    h = m.history[b]
    h1, h2, h3 = h & 0xFF, (h >> 8) & 0xFF, (h >> 16) & 0xFF
    c = m.column[b]
    above = np.int64(m.above[b, c]) if c < m.above_length[b] else np.int64(0)
    after = np.int64(m.above[b, c + 1]) if c + 1 < m.above_length[b] else np.int64(0)
    four = _hash(h & MASK32)
    # the byte at the same place in the same field of the line before: CSV's and logs' fields vary in length, so
    # the same column is often another field
    f = m.field[b]
    offset = c - m.starts[b, f] if f < FIELDS else 0
    aligned = np.int64(0)
    if f < m.above_fields[b]:
        at = m.above_starts[b, f] + offset
        if at < m.above_starts[b, f + 1] and at < m.above_length[b]:
            aligned = np.int64(m.above[b, at]) | 256
    k = m.keys
    k[0] = (m.token[b] * 31 + f) & MASK32
    k[1] = h1
    k[2] = h & 0xFFFF
    k[3] = h & 0xFFFFFF
    k[4] = four
    k[5] = _hash(four ^ (h >> 32))
    k[6] = m.word[b]
    k[7] = above | min(c, 255) << 8
    k[8] = above | after << 8 | h1 << 16
    k[9] = above | h1 << 8 | h2 << 16
    k[10] = m.field[b] | h1 << 8
    k[11] = aligned | min(offset, 255) << 9 | min(f, 63) << 17
    if m.contexts == CONTEXTS:
        k[12] = _hash(m.key[b]) ^ m.token[b]  # a value's bytes so far under its key
    for i in range(m.contexts):
        k[i] = _hash(_hash(k[i]) ^ (i + 1) << 24)


@inline
def _locate(m, g, nibble):
    """Each context's block of 16 slots for this nibble (0 for a byte's first, 16 + the first for its second)."""
    bits = m.table_bits[g]
    for i in range(m.contexts):
        m.slots[i] = m.table_base[g] + (i << bits) + (_hash(m.keys[i] ^ nibble) >> (32 - bits))


@inline
def _squash(m, x):
    return m.squash[min(max(x, -2047), 2047) + 2047]


@inline
def _node_probability(m, depth, node):
    """The prediction's probability that the next bit is 1 at node (depth bits read, under a leading 1), in
    4096ths (1 ... 4095), from the frequencies' partial sums: the share of the node's bytes whose bit is 1."""
    low = (node - (1 << depth)) << (8 - depth)
    half = 1 << (7 - depth)
    zeros = m.cumulative[low + half] - m.cumulative[low]
    ones = m.cumulative[low + 2 * half] - m.cumulative[low + half]
    return min(max((ones << 12) // (zeros + ones), 1), 4095)


@inline
def _read_map(m, points, row, x):
    """A map's reading at stretch x (its row's two points around it, interpolated), in 4096ths, and the cell of
    the nearer point, which learns."""
    position = x + 2048
    low, w = position >> 7, position & 127
    cell = row * POINTS + low
    a = np.int64(points[cell]) + m.initial[low]
    c = np.int64(points[cell + 1]) + m.initial[low + 1]
    return (a * (128 - w) + c * w) >> 11, cell + (w >= 64)


@inline
def _input_map(m, g, node, history):
    """The input map's reading of the network's decision (x[0]) in the context of the last map_order bytes and the
    node, as a stretched input, and its cell; (0, -1) where the model has no input map."""
    if m.map_order == 0:
        return np.int64(0), np.int64(-1)
    key = (history & ((np.int64(1) << (8 * m.map_order)) - 1)) << 8 | node
    row = m.map_base[g] + (_hash(_hash((key & MASK32) ^ (key >> 32)) ^ INPUT_MAP_SALT) >> (32 - m.table_bits[g]))
    p, cell = _read_map(m, m.map_points, row, m.inputs[0])
    return m.stretch[min(max(p, 1), 4095)], cell


@inline
def _predict(m, g, node, place, previous, history, p_net):
    """The decision's probability of a 1 (1 ... 4095): the two weight sets' mixes of the inputs, averaged, then
    mixed with the map's reading of it; returns it with both mixes and the two maps' cells, for _learn."""
    x = m.inputs
    x[0] = m.stretch[p_net]
    x[1] = BIAS
    for i in range(m.contexts):
        x[2 + i] = m.stretch[((np.int64(m.tables[m.slots[i], place]) >> 10) ^ HALF) >> (PROB_BITS - 12)]
    x[INPUTS - 1], input_cell = _input_map(m, g, node, history)
    dot_node, dot_byte = np.int64(0), np.int64(0)
    for k in range(INPUTS):
        start = WEIGHT_ONE if k == 0 else 0
        dot_node += (np.int64(m.weights[g, node, k]) + start) * x[k]
        dot_byte += (np.int64(m.weights[g, 256 + previous, k]) + start) * x[k]
    p_node, p_byte = _squash(m, dot_node >> 16), _squash(m, dot_byte >> 16)
    mixed = min(max((p_node + p_byte) >> 1, 1), 4095)
    mapped, cell = _read_map(m, m.points, g * MAP_ROWS + (previous << 8 | node), m.stretch[mixed])
    p = min(max((mixed + 3 * mapped) >> 2, 1), 4095)
    return p, p_node, p_byte, cell, input_cell


@inline
def _train_point(m, points, cell, bit):
    points[cell] += ((bit << 16) - (np.int64(points[cell]) + m.initial[cell % POINTS])) >> MAP_RATE


@inline
def _learn(m, g, node, place, previous, bit, p_node, p_byte, cell, input_cell):
    """After a decision: the maps' nearer points, both weight sets and every context's slot move toward the bit."""
    _train_point(m, m.points, cell, bit)
    if input_cell >= 0:
        _train_point(m, m.map_points, input_cell, bit)
    x = m.inputs
    error_node = ((bit << 12) - p_node) * m.rate
    error_byte = ((bit << 12) - p_byte) * m.rate
    for k in range(INPUTS):
        w = np.int64(m.weights[g, node, k]) + ((x[k] * error_node + (1 << 15)) >> 16)
        m.weights[g, node, k] = min(max(w, -WEIGHT_LIMIT), WEIGHT_LIMIT)
        w = np.int64(m.weights[g, 256 + previous, k]) + ((x[k] * error_byte + (1 << 15)) >> 16)
        m.weights[g, 256 + previous, k] = min(max(w, -WEIGHT_LIMIT), WEIGHT_LIMIT)
    for i in range(m.contexts):
        e = np.int64(m.tables[m.slots[i], place])
        p, n = (e >> 10) ^ HALF, e & COUNT_MASK
        p += (((bit << PROB_BITS) - p) * m.reciprocal[n]) >> 16
        m.tables[m.slots[i], place] = ((p ^ HALF) << 10) | min(n + 1, m.limit)


@inline
def _end(m, b, s):
    """Stream b read byte s: its history, line, column, fields, token and word move on."""
    m.history[b] = ((m.history[b] << 8) | s) & 0xFFFFFFFFFFFF
    c = m.column[b]
    if s == 10:
        n = min(c, LINE)
        m.above[b, :n] = m.line[b, :n]
        m.above_length[b] = n
        fields = min(m.field[b] + 1, FIELDS)
        m.above_starts[b, :fields] = m.starts[b, :fields]
        m.above_starts[b, fields] = c
        m.above_fields[b] = fields
        m.column[b] = 0
        m.field[b] = 0
    else:
        if c < LINE:
            m.line[b, c] = s
        m.column[b] = c + 1
        if s == 9 or s == 44 or s == 59 or s == 124:          # tab , ; | separate fields
            m.field[b] = min(m.field[b] + 1, 255)
            if m.field[b] < FIELDS:
                m.starts[b, m.field[b]] = c + 1
    # delimiters: the field separators, newline, space, " : { } [ ]
    if s == 9 or s == 10 or s == 32 or s == 34 or s == 44 or s == 58 or s == 59 or s == 91 or s == 93 or s == 123 \
            or s == 124 or s == 125:
        m.token[b] = s
    else:
        m.token[b] = (m.token[b] * 773 + s + 1) & MASK32
    word = m.word[b]
    m.word[b] = next_word(word, s)
    if m.contexts == CONTEXTS:
        _next_key(m, b, s, word)


@inline
def _next_key(m, b, s, word):
    """After byte s (word: the word hash before it): the key a value that follows belongs to. JSON: the quoted
    string before a colon; XML and HTML: the word before an equals sign, or a tag's name once it ends."""
    if s == 61 and word != 0:                                   # name=
        m.key[b] = word
    if s == 60:                                                 # <, then the tag's name (after a / too)
        m.in_tag[b] = 1
    elif m.in_tag[b] == 1 and m.word[b] == 0 and (word != 0 or s != 47):
        if word != 0:
            m.key[b] = word
        m.in_tag[b] = 0
    if s == 34:
        m.last_quoted[b] = m.quoted[b]
        m.quoted[b] = 0
    else:
        m.quoted[b] = (m.quoted[b] * 773 + s + 1) & MASK32
        if s == 58 and ((m.history[b] >> 8) & 0xFF) == 34:    # "name":
            m.key[b] = m.last_quoted[b]


@inline
def _partial_sums(m, f):
    total = np.int64(0)
    m.cumulative[0] = 0
    for v in range(256):
        total += f[v]
        m.cumulative[v + 1] = total


@inline
def _open(m, b, f):
    """Stream b's byte begins, under frequencies f (256,): its group, its previous byte, the prediction's partial
    sums and the context keys."""
    _partial_sums(m, f)
    _begin(m, b)
    return m.group[b], m.history[b] & 0xFF


@inline
def _decision(m, b, g, depth, node, place, previous):
    """The decision at node (depth bits read) of stream b: each context's block found at a nibble's start (where
    place starts again at 1), then the prediction; returns _predict's values and the place."""
    if depth == 0 or depth == 4:
        _locate(m, g, 0 if depth == 0 else node)
        place = 1
    p, p_node, p_byte, cell, input_cell = _predict(m, g, node, place, previous, m.history[b],
                                                   _node_probability(m, depth, node))
    return p, p_node, p_byte, cell, input_cell, place


@njit
def encode_window(m, coders, freqs, symbols, start, lengths, targets):
    """Code steps start ... start + W - 1 of every stream, 8 decisions a byte, with the coders (neuralzip.fused.coder
    Encoders): freqs (W, B, 256) int64, symbols (B, T) uint8, lengths (B,); stream b's decisions go to each coder
    of targets[b] (B, K), -1 for none; every stream that has a byte at the step learns from it, in batch order."""
    W, B, _ = freqs.shape
    for w in range(W):
        t = start + w
        for b in range(B):
            if lengths[b] <= t:
                continue
            s = np.int64(symbols[b, t])
            g, previous = _open(m, b, freqs[w, b])
            node, place = 1, 1
            for depth in range(8):
                p, p_node, p_byte, cell, input_cell, place = _decision(m, b, g, depth, node, place, previous)
                bit = (s >> (7 - depth)) & 1
                for k in range(targets.shape[1]):
                    if targets[b, k] >= 0:
                        encode_bit(coders, targets[b, k], p, bit)
                _learn(m, g, node, place, previous, bit, p_node, p_byte, cell, input_cell)
                node, place = node * 2 + bit, place * 2 + bit
            _end(m, b, s)


@njit
def decode_step(m, decoders, freqs, t, lengths, sources, out):
    """Decode step t (encode_window's inverse): each stream b longer than t with a decoder sources[b] >= 0 gets its
    byte in out[b]; the others (known bytes, fed in for their groups) learn from out[b] as it is. Returns the first
    stream whose data cannot be a coder v1 payload, or -1."""
    for b in range(freqs.shape[0]):
        if lengths[b] <= t:
            continue
        e, known = sources[b], np.int64(out[b])
        g, previous = _open(m, b, freqs[b])
        node, place = 1, 1
        for depth in range(8):
            p, p_node, p_byte, cell, input_cell, place = _decision(m, b, g, depth, node, place, previous)
            bit = decode_bit(decoders, e, p) if e >= 0 else (known >> (7 - depth)) & 1
            if bit < 0:
                return b
            _learn(m, g, node, place, previous, bit, p_node, p_byte, cell, input_cell)
            node, place = node * 2 + bit, place * 2 + bit
        out[b] = node - 256
        _end(m, b, node - 256)
    return -1
