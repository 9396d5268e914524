"""Range coder v1: integer frequencies <-> words, the same words constriction makes."""

import hashlib

import constriction
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from neuralzip.coder import RangeDecoders, RangeEncoders
from neuralzip.errors import NeuralZipError

_CONSTRICTION = constriction.stream.model.Categorical(perfect=False)


def _case(n, seed=0):
    rng = np.random.default_rng(seed)
    freqs = rng.integers(1, 1 << 16, (n, 256))
    freqs[:, 7] = 1 << 20                  # a confident model: mostly 7
    symbols = np.where(rng.random(n) < 0.9, 7, rng.integers(0, 256, n))
    return symbols, freqs


def _constriction(symbols, freqs):
    """Coder v1 as FORMAT.md defines it: constriction's range coder on the frequencies as float64."""
    enc = constriction.stream.queue.RangeEncoder()
    if len(symbols):
        enc.encode(symbols.astype(np.int32), _CONSTRICTION, freqs.astype(np.float64))
    return enc.get_compressed().astype("<u4").tobytes()


def _encode(symbols, freqs, pieces=1):
    coders = RangeEncoders([len(symbols)])
    for part in np.array_split(np.arange(len(symbols)), pieces):
        if len(part):
            coders.encode(0, symbols[part], freqs[part])
    return coders.finish()[0]


@pytest.mark.parametrize("pieces", [1, 3, 100])
def test_round_trip_in_any_number_of_calls(pieces):
    symbols, freqs = _case(1000)
    payload = _encode(symbols, freqs, pieces)
    assert len(payload) % 4 == 0
    decoders = RangeDecoders([payload])
    decoded = [decoders.decode(0, freqs[i:i + 10]) for i in range(0, 1000, 10)]
    assert np.concatenate(decoded).tolist() == symbols.tolist()


def test_payload_is_frozen():
    symbols, freqs = _case(50, seed=1)
    assert hashlib.sha256(_encode(symbols, freqs)).hexdigest()[:16] == GOLDEN


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 300), st.sampled_from([2, 3, 256, 1000]), st.integers(1, 44))
def test_the_words_are_constrictions(seed, n, vocab, bits):
    """Any frequencies below 2**44 (sums exact in float64), any vocabulary, peaked or flat: the same words."""
    rng = np.random.default_rng(seed)
    freqs = rng.integers(1, 1 << bits, (n, vocab), dtype=np.int64)
    if seed % 2:
        freqs[np.arange(n), rng.integers(0, vocab, n)] = 1 << bits
    symbols = rng.integers(0, vocab, n)
    payload = _encode(symbols, freqs, pieces=1 + seed % 4)
    assert payload == _constriction(symbols, freqs)
    decoders = RangeDecoders([payload])
    assert decoders.decode(0, freqs).tolist() == symbols.tolist()


def test_many_coders_in_one_window_are_each_their_own():
    """Streams in lockstep, each to its own coder and some also to a shared one, as neural runs have them."""
    rng = np.random.default_rng(3)
    W, B, V = 40, 5, 256
    freqs = rng.integers(1, 1 << 12, (W, B, V), dtype=np.int64)
    symbols = rng.integers(0, V, (B, W)).astype(np.uint8)
    lengths = np.array([40, 40, 17, 40, 3], np.int64)
    targets = np.array([[0, 5], [1, -1], [2, 5], [3, 5], [4, -1]], np.int64)
    coders = RangeEncoders(lengths.tolist() + [40 + 17 + 40])
    coders.encode_window(freqs[:25], symbols, 0, lengths, targets)
    coders.encode_window(freqs[25:], symbols, 25, lengths, targets)
    payloads = coders.finish()
    for b in range(B):
        n = lengths[b]
        assert payloads[b] == _constriction(symbols[b, :n], freqs[:n, b])
    rows = [0, 2, 3]
    live = np.arange(W)[:, None] < lengths[rows][None, :]                                   # (W, 3)
    assert payloads[5] == _constriction(symbols[rows].T[live], freqs[:, rows][live])
    # and back, stepped as the engine steps them
    decoders = RangeDecoders(payloads[1:2] + payloads[4:6])
    sources = np.array([2, 0, 2, 2, 1], np.int64)
    out = np.zeros(B, np.int64)
    for t in range(W):
        decoders.decode_step(freqs[t], t, lengths, sources, out)
        assert out[lengths > t].tolist() == symbols[lengths > t, t].tolist()


def test_a_coder_given_more_than_its_capacity_is_refused():
    rng = np.random.default_rng(4)
    symbols, freqs = rng.integers(0, 256, 100), np.ones((100, 256), np.int64)     # 8 bits each: 25 words
    coders = RangeEncoders([10])
    coders.encode(0, symbols, freqs)
    with pytest.raises(ValueError, match="capacity"):
        coders.finish()


def test_payload_must_be_whole_words():
    with pytest.raises(NeuralZipError, match="whole number of words"):
        RangeDecoders([b"abc"])


@pytest.mark.parametrize("payload", [bytes(range(40)), b"\xff" * 40, b"", b"\x00" * 4])
def test_garbage_decodes_to_symbols_or_raises_our_error(payload):
    """Garbage decodes to what constriction's decoder makes of it (FORMAT.md's reference), or raises our error."""
    _, freqs = _case(200)
    decoders = RangeDecoders([payload])
    try:
        out = decoders.decode(0, freqs)
    except NeuralZipError:
        return
    words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
    reference = constriction.stream.queue.RangeDecoder(words)
    assert out.tolist() == reference.decode(_CONSTRICTION, freqs.astype(np.float64)).tolist()


GOLDEN = "c5326c79e42849fb"
