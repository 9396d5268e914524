"""neuralzip.spans: a 4 MiB span, or a run of its frames that are not neural, as one LZMA frame where smaller."""

import lzma
import random

import pytest

import neuralzip
from neuralzip.format import MAX_GROUP_BYTES, EndFrame, Frame, Method, StreamHeader, crc32, frame_crc32
from neuralzip.api import BATCH_CHUNKS
from neuralzip.spans import floor, lzma_compress, lzma_decompress
from test_api import _loser, _prose, grouped_model  # noqa: F401 (a fixture)

TEXT = (b"It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in "
        b"want of a wife.\n")


def _noise(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _frames(data: bytes) -> dict:
    return {m: n for m, n in neuralzip.describe(data)[0].frames.items() if n}


def _stream(*frames: tuple[Method, bytes, bytes]) -> bytes:
    """A stream of hand-made frames (method, original, payload), with the fastest level's header."""
    model = neuralzip.zoo.load(neuralzip.zoo.level(1).model)
    out = StreamHeader("", model.sha256[:4], 4096).to_bytes()
    content = b""
    for number, (method, original, payload) in enumerate(frames, 1):
        last = number == len(frames)
        out += Frame(method, len(original), len(payload), frame_crc32(original, crc32(content), last=last),
                     last).to_bytes() + payload
        content += original
    return out if frames else out + EndFrame(0, 0, 0).to_bytes()


def test_repeats_far_apart_go_out_as_one_lzma_frame_no_larger_than_xz():
    """Random 64 KiB blocks, each repeated: every chunk is near-random, so chunk by chunk it is all stored, while
    one LZMA2 stream over the span finds the repeats."""
    data = b"".join(_noise(1 << 16, seed) * 3 for seed in range(4))
    packed = neuralzip.compress(data, 1)
    assert neuralzip.decompress(packed) == data
    assert _frames(packed) == {"lzma": 1}
    assert len(packed) <= len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


def test_each_span_is_its_own_frame_whatever_the_batching(monkeypatch):
    data = _noise(1 << 16, 1) * 66 + _noise(1 << 15, 2) * 4       # a little over 4 MiB: two spans
    packed = neuralzip.compress(data, 1)
    assert _frames(packed) == {"lzma": 2}
    assert neuralzip.compress(data, 1, threads=2) == packed
    assert neuralzip.decompress(packed, threads=2) == data
    monkeypatch.setitem(neuralzip.api.BATCH_CHUNKS, "cpu", neuralzip.api.BATCH_CHUNKS["cuda"])
    assert neuralzip.compress(data, 1) == packed


def test_a_span_split_across_batches_gets_the_same_frames(monkeypatch):
    """lstm384-v2 has no match groups, so its batches are 256 chunks (1 MiB), or 2 here: the span's frames are
    chosen once it is whole."""
    data = _noise(1 << 16, 1) * 20 + TEXT * 40
    packed = neuralzip.compress(data, model="lstm384-v2")
    monkeypatch.setitem(BATCH_CHUNKS, "cpu", 2)
    assert neuralzip.compress(data, model="lstm384-v2") == packed
    assert neuralzip.compress(data, model="lstm384-v2", threads=2) == packed
    assert neuralzip.decompress(packed) == data
    assert "lzma" in _frames(packed)


def test_a_run_the_model_lost_becomes_one_frame_beside_the_neural_ones(monkeypatch, grouped_model):
    """Groups of 8 KiB: prose in the first and last, a chunk zstd wins twice over in the middle one."""
    data = _prose(8192, 1) + _loser() * 2 + _prose(8192, 2)
    packed = neuralzip.compress(data, 1, model=grouped_model)
    assert _frames(packed) == {"neural_run": 2, "lzma": 1}
    for batch in (1, 3):         # the LZMA frame's chunks are members of its group, as its bytes
        monkeypatch.setitem(BATCH_CHUNKS, "cpu", batch)
        d = neuralzip.NeuralZipDecompressor(model=grouped_model)
        assert b"".join(d.decompress(packed[i:i + 500]) for i in range(0, len(packed), 500)) == data and d.eof


def test_a_run_stays_inside_its_group():
    """Two chunks that zstd coded one by one and LZMA2 codes well together, between chunks that only the model
    codes well: they become one LZMA frame only where they lie in one match group."""
    loser = _noise(4096, 5)
    chunks = [_noise(4096, 6), loser, loser, _noise(4096, 7)]
    coded = [(Method.NEURAL, b"n" * 10, 1), (Method.ZSTD, loser[:4000], 1), (Method.ZSTD, loser[:4000], 1),
             (Method.NEURAL, b"n" * 10, 1)]
    offsets = [0, 4096, 8192, 12288]
    assert [m for m, _, _ in floor(chunks, coded, offsets, 16384)] == [Method.NEURAL, Method.LZMA, Method.NEURAL]
    assert floor(chunks, coded, offsets, 8192) == coded
    assert [m for m, _, _ in floor(chunks, coded, offsets, 0)] == [Method.NEURAL, Method.LZMA, Method.NEURAL]


def test_text_keeps_its_neural_frames():
    data = TEXT * 3
    assert "lzma" not in _frames(neuralzip.compress(data, 1))


def test_code_with_many_calls_takes_the_x86_chain_where_it_is_smaller():
    """Calls (E8) to a few targets, their offsets relative: the x86 filter makes them absolute, so they repeat."""
    rng = random.Random(8)
    targets = [rng.randrange(1 << 20) for _ in range(20)]
    code = b"".join(b"\x55\x48\x89\xe5\xe8" + ((rng.choice(targets) - i * 9) % (1 << 32)).to_bytes(4, "little")
                    for i in range(20000))
    payload = lzma_compress(code)
    assert payload[0] == 1 and len(payload) < len(lzma.compress(code, preset=9 | lzma.PRESET_EXTREME))
    assert lzma_decompress(payload, len(code)) == code
    assert lzma_compress(TEXT * 30)[0] == 0


def test_lzma_payload_must_hold_exactly_its_size():
    original = b"abc" * 1000
    payload = lzma_compress(original)
    assert lzma_decompress(payload, len(original)) == original
    for size in (len(original) - 1, len(original) + 1):
        with pytest.raises(neuralzip.NeuralZipError, match="LZMA"):
            lzma_decompress(payload, size)
    with pytest.raises(neuralzip.NeuralZipError, match="LZMA"):
        lzma_decompress(payload + b"\0", len(original))             # bytes after its end marker
    with pytest.raises(neuralzip.NeuralZipError, match="LZMA"):
        lzma_decompress(payload[:len(payload) // 2], len(original))
    with pytest.raises(neuralzip.NeuralZipError, match="filter chain"):
        lzma_decompress(b"\xff" * 20, len(original))
    with pytest.raises(neuralzip.NeuralZipError, match="filter chain"):
        lzma_decompress(b"", len(original))


def test_a_hand_made_lzma_frame_decodes_and_a_damaged_one_is_refused():
    original = TEXT * 50
    good = _stream((Method.LZMA, original, lzma_compress(original)))
    assert neuralzip.decompress(good) == original
    bad = bytearray(good)
    bad[len(good) // 2] ^= 0x10
    with pytest.raises(neuralzip.NeuralZipError):
        neuralzip.decompress(bytes(bad))


def test_an_lzma_frame_that_crosses_a_4_mib_multiple_is_refused():
    before = b"\0" * (MAX_GROUP_BYTES - 100)
    crossing = b"ab" * 100
    stream = _stream((Method.STORED, before, before), (Method.LZMA, crossing, lzma_compress(crossing)))
    with pytest.raises(neuralzip.NeuralZipError, match="crosses"):
        neuralzip.decompress(stream)


def test_the_floor_runs_on_several_threads_at_once():
    """Batches apply the floor on worker threads side by side: it shares no compressor between them (one
    ZstdCompressor shared by the threads crashed the process, so the threads run in a process of their own)."""
    import subprocess
    import sys
    code = """if True:
        import os, threading
        from neuralzip.format import Method
        from neuralzip.spans import floor
        chunks = [os.urandom(4096) for _ in range(64)]            # noise: zstd is tried on the span, LZMA2 is not
        coded = [(Method.ZSTD, b"z" * 100, 1) for _ in chunks]
        offsets = [4096 * i for i in range(len(chunks))]
        want, results = floor(chunks, coded, offsets, 1 << 22), []
        def run():
            for _ in range(100):
                results.append(floor(chunks, coded, offsets, 1 << 22))
        threads = [threading.Thread(target=run) for _ in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(results) == 400 and all(r == want for r in results)
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
