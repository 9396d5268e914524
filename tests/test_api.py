"""compress / decompress / describe and the incremental objects."""

import os
import zlib

import pytest
import torch

import neuralzip
from neuralzip import NeuralZipCompressor, NeuralZipDecompressor, NeuralZipError, zoo
from neuralzip.format import MAX_GROUP_BYTES, Method, parse_header

TEXT = b"""It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in
want of a wife. However little known the feelings or views of such a man may be on his first entering a
neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is considered the
rightful property of some one or other of their daughters. "My dear Mr. Bennet," said his lady to him one day,
"have you heard that Netherfield Park is let at last?" Mr. Bennet replied that he had not.
"""


def test_round_trip_text():
    blob = neuralzip.compress(TEXT)
    assert len(blob) < len(TEXT) // 2
    assert neuralzip.decompress(blob) == TEXT


@pytest.mark.parametrize("data", [b"", b"a", bytes(range(256)), b"\x00" * 5000, os.urandom(3000)])
def test_round_trip_edge_cases(data):
    assert neuralzip.decompress(neuralzip.compress(data, 1)) == data


def test_random_data_grows_by_framing_only():
    data = os.urandom(20000)
    blob = neuralzip.compress(data, level=1)     # 4 KiB chunks: 5 frames
    assert len(blob) <= len(data) + 100
    assert {f: n for f, n in neuralzip.describe(blob)[0].frames.items() if n} == {"stored": 1}   # joined


def test_accepts_any_bytes_like_and_refuses_others():
    assert neuralzip.decompress(neuralzip.compress(bytearray(b"abc"))) == b"abc"
    assert neuralzip.decompress(neuralzip.compress(memoryview(b"abc"))) == b"abc"
    with pytest.raises(TypeError):
        neuralzip.compress("text")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("level", [1, 3, 6, 7])
def test_cuda_stream_equals_cpu(level):
    """A stream made on CUDA is the CPU's, byte for byte, and decodes there (DESIGN.md 1): network, match model,
    counts and maps alike."""
    data = TEXT * 30 + TEXT[::-1] * 10 + bytes(range(256)) * 4
    on_cpu = neuralzip.compress(data, level, device="cpu")
    assert neuralzip.compress(data, level, device="cuda") == on_cpu
    assert neuralzip.decompress(on_cpu, device="cuda") == data


@pytest.mark.parametrize("level", [0, 10, -1])
def test_bad_levels(level):
    with pytest.raises(ValueError, match="level"):
        neuralzip.compress(b"x", level)


def test_bad_device_and_model():
    with pytest.raises(ValueError, match="device"):
        neuralzip.compress(b"x", device="tpu")
    with pytest.raises(ValueError, match="no model"):
        neuralzip.compress(b"x", model="no-such-model")


def _batches_of_text_and_noise() -> bytes:
    """Five chunks: prose, three of noise (which skip the network, so that narrow batches cost little) and a short
    one of prose."""
    from conftest import prose
    return prose(4096, 1) + __import__("random").Random(5).randbytes(3 * 4096) + prose(1000, 2)


def test_output_does_not_depend_on_how_input_is_fed(batch_width, count_batches, ungrouped_model):
    data = _batches_of_text_and_noise()
    one_shot = neuralzip.compress(data, 1, model=ungrouped_model)
    batch_width(2)                                         # three batches
    c = NeuralZipCompressor(1, model=ungrouped_model)
    pieces = [c.compress(data[i:i + 777]) for i in range(0, len(data), 777)]
    assert b"".join(pieces) + c.flush() == one_shot
    assert count_batches["encode"] == [5, 2, 2, 1]


def test_batch_size_does_not_change_the_output(batch_width, count_batches, ungrouped_model):
    data = _batches_of_text_and_noise()
    wide = neuralzip.compress(data, 1, model=ungrouped_model)
    batch_width(1)
    assert neuralzip.compress(data, 1, model=ungrouped_model) == wide
    assert count_batches["encode"] == [5, 1, 1, 1, 1, 1]
    assert neuralzip.decompress(wide, model=ungrouped_model) == data


def test_batch_size_does_not_change_stored_frames(batch_width, count_batches, ungrouped_model):
    """Stored chunks are joined across batch boundaries, so CPU and CUDA batches give the same stream."""
    data = _batches_of_text_and_noise()
    wide = neuralzip.compress(data, 1, model=ungrouped_model)
    batch_width(2)
    assert neuralzip.compress(data, 1, model=ungrouped_model) == wide
    assert len(count_batches["encode"]) == 4               # the noise spans the second and third batches
    assert neuralzip.decompress(wide, model=ungrouped_model) == data
    assert neuralzip.describe(wide)[0].frames["stored"] == 1      # one frame for the whole run of noise


@pytest.fixture(scope="module")
def grouped_model(tmp_path_factory):
    """lstm384-v10 (the default before lstm384-v12, whose maps make the frames these tests expect come out as
    others) with match groups of 8 KiB: two level-1 chunks per group, so small inputs span several groups."""
    import dataclasses
    from neuralzip import modelfile
    base = zoo.load("lstm384-v10")
    config = dataclasses.replace(base.config, match_group_bytes=8192, match_table_bits=14)
    path = tmp_path_factory.mktemp("models") / "grouped.nzm"
    path.write_bytes(modelfile.dump("grouped-8k", config, base.tensors))
    return str(path)


def _loser(seed: int = 3) -> bytes:
    """A chunk that is not near-random but that zstd codes smaller than the model does: 16 symbols, 700 at
    random, then repeated."""
    rng = __import__("random").Random(seed)
    return (bytes(rng.randrange(16) + 100 for _ in range(700)) * 7)[:4096]


def _prose(size: int, seed: int) -> bytes:
    """Sentences of TEXT's words in a random order: text the model codes better than zstd."""
    rng, words, out = __import__("random").Random(seed), TEXT.split(), b""
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(12)) + b".\n"
    return out[:size]


def test_grouped_streams_do_not_depend_on_the_batch(batch_width, grouped_model):
    noise = __import__("random").Random(9).randbytes(5000)
    data = _prose(4096, 1) + _loser() + _prose(4096, 2) + noise + _prose(6000, 3) + _prose(9000, 4)
    wide = neuralzip.compress(data, 1, model=grouped_model)
    frames = neuralzip.describe(wide)[0].frames          # groups of 8 KiB: neural frames in three, a run in one
    assert frames["neural"] >= 3 and frames["neural_run"] >= 1 and frames["zstd"] >= 1 and frames["stored"] >= 1
    for batch in (1, 3):
        batch_width(batch)
        assert neuralzip.compress(data, 1, model=grouped_model) == wide
        d = NeuralZipDecompressor(model=grouped_model)
        assert b"".join(d.decompress(wide[i:i + 500]) for i in range(0, len(wide), 500)) == data and d.eof


def test_threads_change_nothing_in_the_stream(batch_width, grouped_model):
    """Batches coded side by side come back in order: the same stream and the same content whatever the count,
    through the one-shot functions and the incremental objects fed in pieces (a span of noise makes the decoder
    decode a batch before the end)."""
    data = (_prose(8192, 1) + __import__("random").Random(5).randbytes(MAX_GROUP_BYTES) + _prose(12000, 2) +
            _loser() + _prose(8192, 3))
    batch_width(2)
    one = neuralzip.compress(data, 1, model=grouped_model)
    assert neuralzip.compress(data, 1, model=grouped_model, threads=3) == one
    c = NeuralZipCompressor(1, model=grouped_model, threads=2)
    assert b"".join(c.compress(data[i:i + 100_000]) for i in range(0, len(data), 100_000)) + c.flush() == one
    assert neuralzip.decompress(one, model=grouped_model, threads=2) == data
    d = NeuralZipDecompressor(model=grouped_model, threads=3)
    assert b"".join(d.decompress(one[i:i + 65536]) for i in range(0, len(one), 65536)) == data and d.eof
    damaged = bytearray(one)
    damaged[len(one) // 2] ^= 0x10
    with pytest.raises(NeuralZipError):
        neuralzip.decompress(bytes(damaged), model=grouped_model, threads=2)


@pytest.mark.parametrize("threads, error", [(-1, ValueError), ("2", TypeError), (True, TypeError)])
def test_threads_must_be_a_count(threads, error):
    with pytest.raises(error, match="threads"):
        neuralzip.compress(b"x", threads=threads)
    with pytest.raises(error, match="threads"):
        NeuralZipDecompressor(threads=threads)


def test_zero_threads_is_one_per_core():
    from neuralzip.pipeline import thread_count
    assert thread_count(0) >= 1 and thread_count(3) == 3
    assert neuralzip.decompress(neuralzip.compress(b"abc" * 50, threads=0), threads=0) == b"abc" * 50


def test_a_chunk_that_goes_out_zstd_stays_in_its_group(monkeypatch, grouped_model):
    from neuralzip import engine
    calls = []
    real = engine.neural_encode
    monkeypatch.setattr(engine, "neural_encode", lambda m, chunks, groups: calls.append(len(chunks)) or
                        real(m, chunks, groups))
    data = _prose(4096, 1) + _loser()                   # one group: a text chunk, and one zstd does better
    blob = neuralzip.compress(data, 1, model=grouped_model)
    assert calls == [2]                                 # one pass: the zstd chunk is coded with the group too
    assert {m: n for m, n in neuralzip.describe(blob)[0].frames.items() if n} == {"neural": 1, "zstd": 1}
    assert neuralzip.decompress(blob, model=grouped_model) == data


def test_neural_chunks_match_what_a_zstd_chunk_of_their_group_held(grouped_model):
    from neuralzip import engine
    from neuralzip.format import parse_frame, parse_header
    first = _loser()                                       # goes out zstd
    second = _prose(3000, 6) + first[3000:]                # goes out neural, and ends with what first holds
    blob = neuralzip.compress(first + second, 1, model=grouped_model)
    header, pos = parse_header(blob)
    frames = []
    while len(frames) < 2:
        frame, pos = parse_frame(blob, pos, header)
        frames.append((frame.method, blob[pos:pos + frame.payload_size]))
        pos += frame.payload_size
    assert [m for m, _ in frames] == [Method.ZSTD, Method.NEURAL]
    runtime = zoo.runtime(zoo.load(grouped_model), __import__("torch").device("cpu"))
    with_first = engine.neural_encode(runtime, [first, second], [0, 0]).alone[1]
    alone = engine.neural_encode(runtime, [second], [0]).alone[0]
    assert frames[1][1] == with_first and len(with_first) < len(alone)
    assert neuralzip.decompress(blob, model=grouped_model) == first + second


def test_chunks_of_a_group_match_each_other(grouped_model):
    line = b"2026-11-30 07:41:09 worker=17 job=7f3a9c2e42d1 state=done bytes=48213 path=/srv/data/x\n"
    data = (line * 60)[:8192]                       # one group of two chunks, the second all repeats
    alone = neuralzip.compress(data[4096:], 1, model=grouped_model)
    together = neuralzip.compress(data, 1, model=grouped_model)
    first = neuralzip.compress(data[:4096], 1, model=grouped_model)
    assert len(together) - len(first) < len(alone) // 2
    assert neuralzip.decompress(together, model=grouped_model) == data


def test_too_many_frames_in_one_span_are_refused_before_decoding(monkeypatch, grouped_model):
    """1-byte chunks would put thousands of frames in one group, all to be decoded at once: no writer does that."""
    from neuralzip.format import MAX_GROUP_FRAMES, Frame, StreamHeader
    model = zoo.load(grouped_model)
    frame = Frame(Method.NEURAL, 1, 0, zlib.crc32(b"a")).to_bytes()          # payloads are never decoded
    blob = StreamHeader("", model.sha256[:4], 1).to_bytes() + frame * (MAX_GROUP_FRAMES + 1)
    monkeypatch.setattr(neuralzip.api, "decode_chunks", lambda *a: pytest.fail("decoded a frame"))
    with pytest.raises(NeuralZipError, match="frames in"):
        NeuralZipDecompressor(model=grouped_model).decompress(blob)


def test_a_stored_frame_of_too_many_chunks_in_a_group_is_refused(monkeypatch, grouped_model):
    from neuralzip import engine
    from neuralzip.format import EndFrame, Frame, StreamHeader
    model = zoo.load(grouped_model)
    text = _prose(2000, 4)                              # 2,000 one-byte chunks, then a neural one, in one group
    blob = (StreamHeader("", model.sha256[:4], 1).to_bytes()
            + Frame(Method.STORED, len(text), len(text), zlib.crc32(text)).to_bytes() + text
            + Frame(Method.NEURAL, 1, 0, zlib.crc32(b"a")).to_bytes() + EndFrame(2001, 2, 0).to_bytes())
    monkeypatch.setattr(engine, "neural_decode", lambda *a: pytest.fail("decoded a frame"))
    with pytest.raises(NeuralZipError, match="chunks in one match group"):
        neuralzip.decompress(blob, model=grouped_model)


STREAMS = __import__("pathlib").Path(__file__).parent / "streams"


def test_the_chunks_of_a_group_go_out_as_one_run():
    """One coder for a group's chunks: a frame header and a coder flush less per chunk."""
    import hashlib
    data = _prose(10000, 5)                             # three level-1 chunks, one group
    blob = neuralzip.compress(data, 1, model="lstm384-v3")      # the model the stream of chunk frames was made with
    assert {m: n for m, n in neuralzip.describe(blob)[0].frames.items() if n} == {"neural_run": 1}
    one_per_chunk = (STREAMS / "lstm384-v3-chunk-frames.nz").read_bytes()
    assert len(_as_version(blob, 1)) <= len(one_per_chunk) - 2 * 13     # two frame headers and coder ends fewer
    assert hashlib.sha256(blob).hexdigest()[:16] == "e15b7929b481c803"
    assert hashlib.sha256(_as_version(blob, 2)).hexdigest()[:16] == "44fbea1546949207"      # 953c18f's stream
    assert hashlib.sha256(_as_version(blob, 1)).hexdigest()[:16] == "bd260636c9af4785"
    assert neuralzip.decompress(blob) == data


@pytest.mark.parametrize("level, model, name, digest, size, version_2", [
    (1, None, "lstm64-v1", "c0f62f3f80a7b619", 2379, "c337237aa6b777e6"),
    (2, None, "lstm128-v2", "c3b15faa92e36276", 1867, "8970e921d87c6807"),
    (2, "lstm128-v1", "lstm128-v1", "95258264f34fb9b3", 2291, "53598d25d4eef0c1")])      # level 2 until lstm128-v2
def test_the_fast_levels_streams_are_frozen(level, model, name, digest, size, version_2):
    """Levels 1 and 2: a change to their models, counts, mixer or coder shows here, as the other levels' digests.
    Framed as version 2, lstm64-v1's and lstm128-v1's are the streams 953c18f made (2,408 and 2,321 bytes)."""
    import hashlib
    data = _prose(10000, 5)
    blob = neuralzip.compress(data, level, model=model)
    assert neuralzip.describe(blob)[0].model_name == name
    assert hashlib.sha256(blob).hexdigest()[:16] == digest and len(blob) == size
    assert hashlib.sha256(_as_version(blob, 2)).hexdigest()[:16] == version_2
    assert neuralzip.decompress(blob) == data


def test_streams_of_format_version_1_still_decode():
    """Written by the version-1 writer (lstm384-v7, level 7): a neural run of two chunks."""
    import hashlib
    blob = (STREAMS / "lstm384-v7-format-v1.nz").read_bytes()
    info = neuralzip.describe(blob)[0]
    assert info.format_version == 1 and len(info.model_id) == 64
    assert {m: n for m, n in info.frames.items() if n} == {"neural_run": 1}
    data = neuralzip.decompress(blob)
    assert hashlib.sha256(data).hexdigest()[:16] == "b2ae5bdeda1ee090" and data == _prose(20000, 7)


def test_streams_of_one_frame_per_chunk_still_decode():
    """Written before neural runs existed (lstm384-v3, level 1): a frame per chunk, each with its own coder."""
    import hashlib
    blob = (STREAMS / "lstm384-v3-chunk-frames.nz").read_bytes()
    assert {m: n for m, n in neuralzip.describe(blob)[0].frames.items() if n} == {"neural": 3}
    data = neuralzip.decompress(blob)
    assert hashlib.sha256(data).hexdigest()[:16] == "3ed3e7e093db0d87" and data == _prose(10000, 5)


def test_a_run_that_crosses_a_4_mib_multiple_is_refused(monkeypatch, grouped_model):
    from neuralzip.format import MAX_GROUP_BYTES, EndFrame, Frame, StreamHeader
    model = zoo.load(grouped_model)
    head = b"a" * (MAX_GROUP_BYTES - 4096)
    blob = (StreamHeader("", model.sha256[:4], 4096).to_bytes()
            + Frame(Method.STORED, len(head), len(head), zlib.crc32(head)).to_bytes() + head
            + Frame(Method.NEURAL_RUN, 8192, 4, 0).to_bytes() + bytes(4) + EndFrame(len(head) + 8192, 2, 0).to_bytes())
    monkeypatch.setattr(neuralzip.api, "decode_chunks", lambda *a: pytest.fail("decoded a frame"))
    with pytest.raises(NeuralZipError, match="run crosses"):
        NeuralZipDecompressor(model=grouped_model).decompress(blob)


def test_a_run_counts_its_chunks_toward_a_span(monkeypatch, grouped_model):
    from neuralzip.format import MAX_GROUP_FRAMES, Frame, StreamHeader
    model = zoo.load(grouped_model)
    blob = (StreamHeader("", model.sha256[:4], 1).to_bytes()
            + Frame(Method.NEURAL_RUN, MAX_GROUP_FRAMES, 4, 0).to_bytes() + bytes(4)
            + Frame(Method.NEURAL, 1, 0, 0).to_bytes())
    monkeypatch.setattr(neuralzip.api, "decode_chunks", lambda *a: pytest.fail("decoded a frame"))
    with pytest.raises(NeuralZipError, match="frames in"):
        NeuralZipDecompressor(model=grouped_model).decompress(blob)


def test_near_random_chunks_skip_the_model(monkeypatch):
    from neuralzip import engine
    assert engine.looks_random(os.urandom(4096))
    assert not engine.looks_random(TEXT * 8) and not engine.looks_random(b"\x00" * 4096)
    assert not engine.looks_random(bytes(range(128)))       # chunks of up to 128 bytes are always tried
    modelled = []
    real = engine.neural_encode
    monkeypatch.setattr(engine, "neural_encode",
                        lambda m, chunks, groups: modelled.extend(chunks) or real(m, chunks, groups))
    text = (TEXT * 20)[:2 * 4096]                       # two whole level-1 chunks, then two of noise
    data = text + os.urandom(2 * 4096)
    assert neuralzip.decompress(neuralzip.compress(data, 1)) == data
    assert modelled == [text[:4096], text[4096:]]


def test_concatenated_streams():
    blob = neuralzip.compress(b"first ") + neuralzip.compress(b"") + neuralzip.compress(b"second", 1)
    assert neuralzip.decompress(blob) == b"first second"
    assert [s.original_size for s in neuralzip.describe(blob)] == [6, 0, 6]


def test_truncation_raises_eoferror():
    blob = neuralzip.compress(TEXT)
    for cut in (0, 3, 10, len(blob) // 2, len(blob) - 1):
        with pytest.raises(EOFError):
            neuralzip.decompress(blob[:cut])


def test_corruption_raises_neuralzip_error():
    blob = bytearray(neuralzip.compress(TEXT))
    blob[len(blob) // 2] ^= 0x10
    with pytest.raises(NeuralZipError):
        neuralzip.decompress(bytes(blob))


def test_trailing_garbage_is_refused():
    with pytest.raises(NeuralZipError, match="magic"):
        neuralzip.decompress(neuralzip.compress(b"abc") + b"junk")


def test_wrong_model_is_named():
    from fuzz.mutations import set_header_field
    blob = neuralzip.compress(TEXT)
    header, end = parse_header(blob)
    blob = set_header_field(blob[:end], "model_id", bytes(4)) + blob[end:]     # another model's hash
    with pytest.raises(NeuralZipError, match="needs model 00000000, which this neuralzip does not hold: pass .*"
                                             "--model PATH.*or the stream is damaged"):
        neuralzip.decompress(bytes(blob))
    assert neuralzip.describe(blob)[0].model_name == "00000000"             # no name to show: the id


def test_decompressor_max_length_and_needs_input():
    data = TEXT * 2
    blob = neuralzip.compress(data, 1)
    d = NeuralZipDecompressor()
    out = d.decompress(blob, max_length=100)
    assert len(out) == 100 and not d.needs_input and not d.eof
    while not d.eof:
        chunk = d.decompress(b"", max_length=1000)
        assert len(chunk) <= 1000
        out += chunk
    assert out == data and d.unused_data == b""


def test_max_size_refuses_before_decoding(monkeypatch):
    blob = neuralzip.compress(TEXT, 1)
    assert NeuralZipDecompressor(max_size=len(TEXT)).decompress(blob) == TEXT
    monkeypatch.setattr(neuralzip.api, "decode_chunks", lambda *a: pytest.fail("decoded a frame"))
    with pytest.raises(NeuralZipError, match=f"size limit of {len(TEXT) - 1} bytes"):
        NeuralZipDecompressor(max_size=len(TEXT) - 1).decompress(blob)
    with pytest.raises(ValueError, match="max_size"):
        NeuralZipDecompressor(max_size=-1)
    for bad in (1.5, "10", True):
        with pytest.raises(TypeError, match="max_size"):
            NeuralZipDecompressor(max_size=bad)


def test_decompressor_byte_by_byte_with_unused_data():
    blob = neuralzip.compress(b"hello")
    d = NeuralZipDecompressor()
    out = b"".join(d.decompress(blob[i:i + 1]) for i in range(len(blob)))
    assert out == b"hello" and d.eof
    d2 = NeuralZipDecompressor()
    assert d2.decompress(blob + b"next") == b"hello" and d2.unused_data == b"next"
    with pytest.raises(EOFError):
        d2.decompress(b"more")


def test_compressor_cannot_be_reused():
    c = NeuralZipCompressor()
    c.flush()
    with pytest.raises(ValueError):
        c.compress(b"x")


def test_describe_counts_methods():
    noise = os.urandom(5000)
    text_info, noise_info = neuralzip.describe(neuralzip.compress(TEXT) + neuralzip.compress(noise, level=1))
    assert text_info.model_name == zoo.DEFAULT_MODEL and text_info.chunk_size == zoo.level(None).chunk_size == 4096
    assert text_info.original_size == len(TEXT) and text_info.frames["neural"] == 1
    assert noise_info.chunk_size == 4096 and noise_info.frames["stored"] == 1
    assert noise_info.compressed_size > noise_info.original_size == 5000


def test_describe_reads_a_file_without_keeping_payloads(monkeypatch):
    import io
    from neuralzip.api import _FrameReader
    blob = neuralzip.compress(TEXT) + neuralzip.compress(os.urandom(200_000), level=1)
    whole = neuralzip.describe(blob)
    monkeypatch.setattr(_FrameReader, "PIECE", 100)          # frames and payloads straddle many reads
    assert neuralzip.describe(io.BytesIO(blob)) == whole
    for cut in (1, 50, len(blob) // 2, len(blob) - 1):
        with pytest.raises(EOFError):
            neuralzip.describe(io.BytesIO(blob[:cut]))
    assert neuralzip.describe(b"") == []


def test_method_enum_is_stable():
    assert [m.value for m in Method] == [0, 1, 2, 3, 4, 255]


def test_thread_count_gives_identical_streams():
    """Compressed in a process with 1 thread and one with 2: the same bytes, each decoding the other. threads=2
    gives a batch alone both threads, so its products are told to split across two (with threads=1 the pipeline
    pins them to one, whatever OMP_NUM_THREADS says); each process reports the count its batches ran with."""
    import subprocess
    import sys
    code = ("import sys, torch, neuralzip; from neuralzip import api; real = api.encode_chunks; "
            "api.encode_chunks = lambda *a: print(torch.get_num_threads(), file=sys.stderr) or real(*a); "
            "data = sys.stdin.buffer.read(); "
            "sys.stdout.buffer.write(neuralzip.compress(data, 1, threads=int(sys.argv[1])))")
    blobs = []
    for threads in ("1", "2"):
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        done = subprocess.run([sys.executable, "-c", code, threads], input=TEXT * 4, env=env, capture_output=True,
                              check=True)
        assert done.stderr.split() == [threads.encode()]
        blobs.append(done.stdout)
    assert blobs[0] == blobs[1]
    assert neuralzip.decompress(blobs[0]) == TEXT * 4


@pytest.mark.parametrize("model, level, digest, version_2, version_1", [
    # the default, lstm384-v16: lstm384-v10 and the bit mixer with an input map on the last two bytes and the key
    # context
    (None, None, "4ea06c756be1fb6f", "b5675c3099dbbe9a", "cd2ddf39608483b6"),
    # the default before lstm384-v16, lstm384-v13: lstm384-v12 and the bit mixer
    ("lstm384-v13", 6, "b579df2fe36f0268", "aff3fd1a90b280df", "9b0995347b9baae4"),
    # the best levels, lstm384-v14: lstm384-v11 and the bit mixer
    (None, 7, "e800a0f8b0c1de95", "a8c765f9b0539dcc", "4d9b06ac709a5b7f"),
    # the middle levels, lstm384-v15: lstm384-v9 and the bit mixer
    (None, 3, "4544b0ce93515efc", "7ee52a18d4d25931", "b0dc97c249af6b05"),
    # the default before lstm384-v13, lstm384-v12: lstm384-v10 and the maps on the nodes that hold 1/256 of the
    # prediction or more
    ("lstm384-v12", 6, "925b529fd7e3cf2c", "2023d8b43b8d7092", "9fb304cb93b8e50b"),
    # the default before lstm384-v12, lstm384-v10: lstm384-v6's counts and word context, 36,000 steps of training
    ("lstm384-v10", 6, "8552ec5ae4bc9f84", "6d08d1d417e2de48", "60ba72acd674b0b0"),
    # the best levels before lstm384-v14, lstm384-v11: lstm384-v10 and probability maps
    ("lstm384-v11", 7, "1b9b5db7101aceb0", "3ddb7930ab5c8c83", "0ceaa9eb456224e6"),
    # the sixth default: counts and a word context
    ("lstm384-v6", 6, "e31b4a0038e53835", "ddf537a7a475bd27", "c450c57d0dc5ad3f"),
    # the best levels before lstm384-v11: maps
    ("lstm384-v7", 7, "b343cf55b7f323fc", "6028395869c30ee2", "6dcc9c9e1e1f091a"),
    # the fifth default: six orders of counts, 27 sets
    ("lstm384-v5", 6, "67bc16c1317ad0cc", "8fd10d66cf961f82", "6e994e47f25cb16a"),
    # the fourth default (and levels 3-4): counts
    ("lstm384-v4", 7, "18d9bb5f2b9b8e2b", "92ba161b5f612af3", "a182bfe67c389f7b"),
    # the third default (and levels 1-2): match groups
    ("lstm384-v3", 8, "95a847f575a07fbe", "510c1f9e8cc74141", "88035be4502d966d"),
    # the second default, a match model per chunk
    ("lstm384-v2", 8, "ffb05cc6e93f6714", "cb89e412c11ae9b3", "b283a672f93115a4"),
    # the first default, network only
    ("lstm384-v1", 8, "672683140b998c2b", "b006598867e7a7e0", "80e2573db9007d0a"),
])
def test_golden_stream(model, level, digest, version_2, version_1):
    """The whole pipeline, frozen: format, embedded model, integer arithmetic, match model, counts and coder.
    (Level 8 makes the 16 KiB chunks that levels 6 and 7 made until lstm384-v4, level 7 the 8 KiB chunks of
    lstm384-v4's level 6.) Format versions 2 and 3 changed the framing only: framed as version 2 or 1, each stream
    is what that version's writer made (953c18f, and the version-1 writer), byte for byte."""
    import hashlib
    blob = neuralzip.compress(TEXT, level, model=model)
    assert blob[:4] == b"\x89NZP"
    assert hashlib.sha256(blob).hexdigest()[:16] == digest
    assert hashlib.sha256(_as_version(blob, 2)).hexdigest()[:16] == version_2
    assert hashlib.sha256(_as_version(blob, 1)).hexdigest()[:16] == version_1
    assert neuralzip.decompress(blob) == TEXT
    assert neuralzip.decompress(_as_version(blob, 2)) == TEXT
    assert neuralzip.decompress(_as_version(blob, 1)) == TEXT


def _as_version(blob: bytes, version: int) -> bytes:
    """A stream of an embedded model framed as an older version (its payloads unchanged), naming the model as that
    version does."""
    from neuralzip.format import StreamHeader, reframe
    header, _ = parse_header(blob)
    model = zoo.find(header.model_id, header.model_name)
    sha256 = model.sha256 if version == 1 else model.sha256[:8]
    return reframe(blob, StreamHeader(model.name, sha256, header.chunk_size, version=version))


def test_an_end_frame_may_follow_any_frame():
    """Writers end a stream with its last frame, or with an end frame when it has none; readers take an end frame
    after any frame too, and check its totals."""
    from neuralzip.format import LAST_FRAME, EndFrame, Frame
    last = neuralzip.compress(b"abc", 1)
    assert last[10] == Method.STORED | LAST_FRAME
    blob = last[:10] + Frame(Method.STORED, 3, 3, zlib.crc32(b"abc")).to_bytes() + b"abc"
    with pytest.raises(EOFError):
        neuralzip.decompress(blob)
    ended = blob + EndFrame(3, 1, zlib.crc32(b"abc")).to_bytes()
    assert neuralzip.decompress(ended + neuralzip.compress(b"d")) == b"abcd"
    assert [s.original_size for s in neuralzip.describe(ended)] == [3]
    for wrong in (EndFrame(4, 1, zlib.crc32(b"abc")), EndFrame(3, 2, zlib.crc32(b"abc")), EndFrame(3, 1, 0)):
        with pytest.raises(NeuralZipError, match="end-of-stream"):
            neuralzip.decompress(blob + wrong.to_bytes())


def test_streams_of_every_version_concatenate():
    data = TEXT * 3
    blob = neuralzip.compress(data, 1)
    both = blob + _as_version(blob, 2) + neuralzip.compress(b"") + _as_version(blob, 1) + blob
    assert neuralzip.decompress(both) == data * 4
    assert [s.format_version for s in neuralzip.describe(both)] == [3, 2, 3, 1, 3]
    d = NeuralZipDecompressor()
    assert d.decompress(both, max_length=10) == data[:10] and not d.eof
    while not d.eof:
        d.decompress(b"")
    assert d.unused_data == both[len(blob):]
