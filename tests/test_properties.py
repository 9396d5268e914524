"""Hypothesis round trips over arbitrary bytes, and mutations of a valid stream.

The default profile is quick; NEURALZIP_SLOW_TESTS=1 runs many more examples.
"""

import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import neuralzip
from neuralzip import NeuralZipDecompressor, NeuralZipError
from neuralzip.format import LAST_FRAME, Method
from fuzz.mutations import check, join, mutate, set_header_field, split
from fuzz.mutate import seeds

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
def test_bit_flips_every_7th_or_every_when_slow_are_caught_or_harmless(bit):
    """Every 7th bit of the stream, every bit with NEURALZIP_SLOW_TESTS=1."""
    blob = bytearray(STREAM)
    blob[bit // 8] ^= 1 << (bit % 8)
    assert _outcome(bytes(blob)) in (None, SMALL)


@pytest.mark.parametrize("cut", range(len(STREAM)))
def test_truncation_at_every_position_raises_eoferror(cut):
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


RUN_TEXT = SMALL * 100            # two level-1 chunks in one group: one neural run
RUN_STREAM = neuralzip.compress(RUN_TEXT, 1)


def test_run_stream_is_one_run():
    assert [f[0] & ~LAST_FRAME for f in split(RUN_STREAM)[1]] == [Method.NEURAL_RUN]


@pytest.mark.parametrize("bit", range(0, len(RUN_STREAM) * 8, 3 if SLOW else 61))
def test_bit_flips_in_a_run_every_61st_or_3rd_when_slow_are_caught_or_harmless(bit):
    blob = bytearray(RUN_STREAM)
    blob[bit // 8] ^= 1 << (bit % 8)
    assert _outcome(bytes(blob)) in (None, RUN_TEXT)


@pytest.mark.parametrize("cut", range(0, len(RUN_STREAM), 1 if SLOW else 9))
def test_truncated_runs_every_9th_or_every_cut_when_slow_raise_eoferror(cut):
    with pytest.raises(EOFError):
        neuralzip.decompress(RUN_STREAM[:cut])


# structure: frames swapped, duplicated, dropped; header fields edited with a correct CRC ---------------------

MIXED = b"\x00" * 4096 + random.Random(2).randbytes(4096) + b"\x00" * 4096 + SMALL * 5   # zstd, stored, zstd, neural
MIXED_STREAM = neuralzip.compress(MIXED, 1, model="lstm384-v3")   # lstm384-v8 codes the zeros better than zstd
HEAD, FRAMES, END = split(MIXED_STREAM)


def test_split_sees_every_frame():
    assert [f[0] & ~LAST_FRAME for f in FRAMES] == [Method.ZSTD, Method.STORED, Method.ZSTD, Method.NEURAL]
    assert join(HEAD, FRAMES, END) == MIXED_STREAM


@pytest.mark.parametrize("order", [[1, 0, 2, 3], [0, 1, 3, 2], [3, 2, 1, 0], [2, 0, 1, 3]])
def test_swapped_frames_are_refused(order):
    """Each frame's CRC runs over the content up to its end: a frame out of place fails it."""
    with pytest.raises(NeuralZipError, match="checksum"):
        neuralzip.decompress(join(HEAD, [FRAMES[i] for i in order], END))


@pytest.mark.parametrize("frames, message", [([0, 0, 1, 2, 3], "checksum"), ([1, 2, 3], "checksum"),
                                             ([0, 2, 3], "checksum"), ([0, 1, 2, 3, 3], "magic")])
def test_duplicated_or_dropped_frames_are_refused(frames, message):
    """(A frame after the last one is taken for the start of another stream.)"""
    with pytest.raises(NeuralZipError, match=message):
        neuralzip.decompress(join(HEAD, [FRAMES[i] for i in frames], END))


def test_frames_that_need_no_model_are_refused_out_of_place_too():
    """Zstd and stored frames decode alone, each to the bytes its CRC was made for: only a CRC over the content so
    far (or an end frame's totals, as in version 2) tells that they are out of place."""
    from conftest import zstd_chunk
    data = zstd_chunk(1) + random.Random(3).randbytes(4096) + zstd_chunk(2)
    head, frames, end = split(neuralzip.compress(data, 1))
    assert [f[0] & ~LAST_FRAME for f in frames] == [Method.ZSTD, Method.STORED, Method.ZSTD] and not end
    for order in ([1, 0, 2], [0, 0, 2], [0, 2]):
        with pytest.raises(NeuralZipError, match="does not match its checksum"):
            neuralzip.decompress(join(head, [frames[i] for i in order], end))


def test_a_stream_cut_after_a_frame_that_is_not_its_last_is_truncated():
    for count in range(len(FRAMES)):
        with pytest.raises(EOFError):
            neuralzip.decompress(join(HEAD, FRAMES[:count], END))


@pytest.mark.parametrize("field, value, message", [
    ("version", 4, "version 4 is not supported.*upgrade"), ("version", 0, "version 0"),
    ("chunk_log2", 0x40 | 12, "header bits 0x40.*upgrade"), ("chunk_log2", 21, "chunk size 2\\^21"),
    ("chunk_size", 1024, "frame size 4096 outside 1..1024"),
    ("model_id", bytes(4), "needs model 00000000, which this neuralzip does not hold.*--model PATH")])
def test_edited_header_fields_say_what_is_wrong(field, value, message):
    with pytest.raises(NeuralZipError, match=message):
        neuralzip.decompress(join(set_header_field(HEAD, field, value), FRAMES, END))


def test_a_larger_chunk_size_in_the_header_is_harmless():
    assert neuralzip.decompress(join(set_header_field(HEAD, "chunk_size", 1 << 20), FRAMES, END)) == MIXED


# the same for version 2, which readers still read: tests/streams holds a stream its writer made
V2_STREAM = (Path(__file__).parent / "streams" / "lstm64-v1-format-v2.nz").read_bytes()
V2_HEAD, V2_FRAMES, V2_END = split(V2_STREAM)


def test_frames_of_version_2_out_of_place_are_refused():
    assert len(V2_FRAMES) == 4 and V2_END
    for frames in ([1, 0, 2, 3], [0, 1, 2, 3, 3], [0, 1, 2]):
        with pytest.raises(NeuralZipError):
            neuralzip.decompress(join(V2_HEAD, [V2_FRAMES[i] for i in frames], V2_END))


@pytest.mark.parametrize("field, value, message", [
    ("version", 4, "version 4 is not supported.*upgrade"), ("version", 0, "version 0"),
    ("flags", 0x80, "flags 0x80.*upgrade"), ("coder", 9, "coder 9.*upgrade"),
    ("chunk_size", 0, "chunk size 0"), ("chunk_size", (1 << 20) + 1, "chunk size"),
    ("chunk_size", 100, "frame size 4096 outside 1..100"), ("model_id", bytes(8), "compressed with model 'lstm64-v1'")])
def test_edited_header_fields_of_version_2_say_what_is_wrong(field, value, message):
    with pytest.raises(NeuralZipError, match=message):
        neuralzip.decompress(join(set_header_field(V2_HEAD, field, value), V2_FRAMES, V2_END))


# random mutations, as fuzz/mutate.py makes them, and the cases fuzzing has found --------------------------

@pytest.mark.parametrize("seed", range(40 if SLOW else 4))
def test_random_mutations_obey_the_rule(seed):
    rng = random.Random(seed)
    corpus = seeds()
    for _ in range(250):
        _, original, stream = rng.choice(corpus)
        check(original, mutate(stream, rng), seconds=30)


@pytest.mark.parametrize("path", sorted(Path(__file__).parent.joinpath("regressions").glob("*.nz")),
                         ids=lambda p: p.stem)
def test_regressions_found_by_fuzzing(path):
    """Inputs that once broke the rule: each must now raise NeuralZipError or EOFError."""
    with pytest.raises((NeuralZipError, EOFError)):
        neuralzip.decompress(path.read_bytes())


def test_a_last_frame_bit_set_by_damage_does_not_end_the_stream_early():
    """The last frame's CRC is inverted: a frame flagged last by damage fails its check, rather than end a valid
    stream early (which only the bytes after it, unused_data, would tell)."""
    from fuzz.mutations import set_frame_field
    for i in range(len(FRAMES) - 1):
        frames = list(FRAMES)
        frames[i] = set_frame_field(HEAD, frames[i], "last", True)
        with pytest.raises(NeuralZipError, match="does not match its checksum"):
            NeuralZipDecompressor(model="lstm384-v3").decompress(join(HEAD, frames, END))
    frames = FRAMES[:-1] + [set_frame_field(HEAD, FRAMES[-1], "last", False)]
    with pytest.raises(EOFError):
        neuralzip.decompress(join(HEAD, frames, END))
