"""Hypothesis round trips over arbitrary bytes, and mutations of a valid stream.

The default profile is quick; NEURALZIP_SLOW_TESTS=1 runs many more examples.
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import neuralzip
from neuralzip import NeuralZipDecompressor, NeuralZipError

SLOW = os.environ.get("NEURALZIP_SLOW_TESTS") == "1"
EXAMPLES = 300 if SLOW else 25
CHUNK = 4096        # level 1

chunky = st.one_of(
    st.binary(max_size=64),
    st.binary(min_size=CHUNK - 3, max_size=CHUNK + 3),                     # around a chunk boundary
    st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=3), st.integers(1, 3000)),   # runs
    st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.lists(st.one_of(st.text(max_size=40).map(str.encode), st.binary(max_size=40)), max_size=20).map(b"".join),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=chunky, level=st.sampled_from([1, 6]))
def test_round_trip(data, level):
    assert neuralzip.decompress(neuralzip.compress(data, level)) == data


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 3000), max_size=5))
def test_incremental_decompression_in_any_pieces(data, cuts):
    blob = neuralzip.compress(data, 1)
    bounds = sorted({0, len(blob), *[c % (len(blob) + 1) for c in cuts]})
    d = NeuralZipDecompressor()
    out = b"".join(d.decompress(blob[a:b]) for a, b in zip(bounds, bounds[1:]))
    assert out == data and d.eof


SMALL = b"To be, or not to be, that is the question.\n"
STREAM = neuralzip.compress(SMALL)


def _outcome(blob: bytes):
    try:
        return neuralzip.decompress(blob)
    except (NeuralZipError, EOFError):
        return None


@pytest.mark.parametrize("bit", range(0, len(STREAM) * 8, 1 if SLOW else 7))
def test_every_bit_flip_is_caught_or_harmless(bit):
    blob = bytearray(STREAM)
    blob[bit // 8] ^= 1 << (bit % 8)
    assert _outcome(bytes(blob)) in (None, SMALL)


@pytest.mark.parametrize("cut", range(len(STREAM)))
def test_every_truncation_raises_eoferror(cut):
    with pytest.raises(EOFError):
        neuralzip.decompress(STREAM[:cut])


@settings(max_examples=EXAMPLES, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
       tail=st.binary(max_size=8))
def test_random_edits_and_appended_garbage(edits, tail):
    blob = bytearray(STREAM)
    for pos, value in edits:
        blob[pos % len(blob)] = value
    assert _outcome(bytes(blob) + tail) in (None, SMALL)
