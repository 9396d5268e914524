"""Streams of several batches (tests/conftest.py's multi_batch, 8 MiB in three 4 MiB groups): per-frame checksums,
max_size, needs_input, batch widths and threads, through the API, NeuralZipFile and the command line."""

from __future__ import annotations

import io
import os

import pytest

import neuralzip
from neuralzip import NeuralZipDecompressor, NeuralZipError, cli
from neuralzip.format import EndFrame, Method, parse_frame, parse_header
from neuralzip.pipeline import WORKER_NAME

PIECE = 1 << 16


def frames(blob: bytes) -> list[tuple[Method, int, int, int]]:
    """(method, offset of its content, offset of its payload in blob, payload size) of each frame."""
    header, pos = parse_header(blob)
    out, offset = [], 0
    while not isinstance((parsed := parse_frame(blob, pos, header))[0], EndFrame):
        frame, end = parsed
        out.append((frame.method, offset, end, frame.payload_size))
        offset += frame.size
        pos = end + frame.payload_size
        if frame.last:
            break
    return out


def damaged(blob: bytes, method: Method, nth: int = 0) -> tuple[bytes, int]:
    """blob with one bit flipped in the middle of the payload of its nth frame of method, and the content offset
    of that frame."""
    method_frames = [f for f in frames(blob) if f[0] == method]
    _, offset, at, size = method_frames[nth]
    out = bytearray(blob)
    out[at + size // 2] ^= 0x04
    return bytes(out), offset


def decompress_in_pieces(blob: bytes, **options) -> tuple[bytes, Exception | None]:
    """What an incremental caller gets, fed PIECE bytes at a time: the bytes returned, and the error raised."""
    d, out = NeuralZipDecompressor(**options), bytearray()
    try:
        for i in range(0, len(blob), PIECE):
            out += d.decompress(blob[i:i + PIECE])
    except (NeuralZipError, EOFError) as e:
        return bytes(out), e
    return bytes(out), None


def test_the_stream_spans_several_batches_with_every_method_in_each_group(multi_batch, count_batches):
    assert multi_batch.groups == 3
    methods_by_group = {}
    for method, offset, _, _ in frames(multi_batch.blob):
        methods_by_group.setdefault(offset >> 22, set()).add(method)
    assert methods_by_group[0] == methods_by_group[1] == {Method.STORED, Method.ZSTD, Method.NEURAL}
    assert Method.NEURAL in methods_by_group[2]
    assert neuralzip.decompress(multi_batch.blob) == multi_batch.data
    assert len(count_batches["decode"]) >= 3


# 1. the per-frame checksum -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", [Method.STORED, Method.ZSTD, Method.NEURAL])
def test_a_damaged_frame_hands_no_damaged_byte_to_an_incremental_caller(multi_batch, method):
    """The frame's own checksum stops it, in its batch: not the end's checksum, 8 MiB later."""
    blob, offset = damaged(multi_batch.blob, method)
    out, error = decompress_in_pieces(blob)
    assert isinstance(error, NeuralZipError) and "checksum" in str(error)
    assert out == multi_batch.data[:len(out)] and len(out) <= offset


def test_a_damaged_frame_hands_no_damaged_byte_to_a_file_reader(multi_batch):
    blob, offset = damaged(multi_batch.blob, Method.STORED)
    out = bytearray()
    with neuralzip.NeuralZipFile(io.BytesIO(blob)) as f, pytest.raises(NeuralZipError, match="checksum"):
        while piece := f.read(PIECE):
            out += piece
    assert out == multi_batch.data[:len(out)] and len(out) <= offset


def test_a_damaged_frame_writes_no_damaged_byte_to_stdout(multi_batch, tmp_path, capsysbinary):
    path = tmp_path / "damaged.nz"
    path.write_bytes(damaged(multi_batch.blob, Method.STORED)[0])
    assert cli.main_unzip(["-c", str(path)]) == 1
    out, err = capsysbinary.readouterr()
    assert out == multi_batch.data[:len(out)] and b"checksum" in err
    assert cli.main_unzip(["-t", str(path)]) == 1


# 2. max_size counts every frame, decoded or not ------------------------------------------------------------------

@pytest.mark.parametrize("limit", [5000, (4 << 20) + 5000])
def test_max_size_refuses_the_frame_that_would_pass_it(multi_batch, count_batches, limit):
    out, error = decompress_in_pieces(multi_batch.blob, max_size=limit)
    assert isinstance(error, NeuralZipError) and f"size limit of {limit} bytes" in str(error)
    assert len(out) <= limit
    whole = NeuralZipDecompressor(max_size=limit)
    with pytest.raises(NeuralZipError, match="size limit"):
        whole.decompress(multi_batch.blob)


def test_max_size_of_exactly_the_content_passes(multi_batch):
    d = NeuralZipDecompressor(max_size=len(multi_batch.data))
    assert d.decompress(multi_batch.blob) == multi_batch.data and d.eof
    with pytest.raises(NeuralZipError, match="size limit"):
        NeuralZipDecompressor(max_size=len(multi_batch.data) - 1).decompress(multi_batch.blob)


def test_max_size_on_the_command_line_writes_no_more_than_it(multi_batch, tmp_path, capsysbinary):
    path = tmp_path / "big.nz"
    path.write_bytes(multi_batch.blob)
    assert cli.main_unzip(["-c", "--max-size", "5000", str(path)]) == 1
    out, err = capsysbinary.readouterr()
    assert len(out) <= 5000 and b"size limit" in err
    assert cli.main_unzip(["-k", "--max-size", "5000", str(path)]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.nz"]


# 3. needs_input while the given input holds more batches ---------------------------------------------------------

def test_needs_input_is_false_while_given_input_holds_more_batches(multi_batch, count_batches):
    d = NeuralZipDecompressor()
    out = d.decompress(multi_batch.blob, max_length=PIECE)
    while not d.eof:
        assert not d.needs_input
        out += d.decompress(b"", max_length=PIECE)
    assert out == multi_batch.data and len(count_batches["decode"]) >= 3


def test_a_file_reader_reads_several_batches(multi_batch):
    with neuralzip.NeuralZipFile(io.BytesIO(multi_batch.blob)) as f:
        assert f.read(PIECE) == multi_batch.data[:PIECE]
        assert f.read() == multi_batch.data[PIECE:]
        assert f.read(1) == b""


def test_nunzip_keeps_a_file_of_several_batches_and_writes_it_whole(multi_batch, tmp_path):
    path = tmp_path / "big.nz"
    path.write_bytes(multi_batch.blob)
    assert cli.main_unzip(["-k", str(path)]) == 0
    assert (tmp_path / "big").read_bytes() == multi_batch.data
    assert cli.main_unzip(["-t", "-q", str(path)]) == 0


# 4. batch width ---------------------------------------------------------------------------------------------

def test_batches_of_the_cuda_width_make_the_cpu_stream(multi_batch, batch_width, count_batches):
    """A CUDA batch holds 4096 chunks (16 MiB): the whole content at once, where the CPU's hold a group each."""
    from neuralzip.api import BATCH_CHUNKS
    batch_width(BATCH_CHUNKS["cuda"])
    assert neuralzip.compress(multi_batch.data, 1) == multi_batch.blob
    assert count_batches["encode"] == [len(multi_batch.data) // 4096 + 1]


@pytest.mark.parametrize("width", [1, 3])
def test_narrow_decoding_batches_give_the_same_content(multi_batch, batch_width, count_batches, width):
    batch_width(width)
    d = NeuralZipDecompressor()
    out = b"".join(d.decompress(multi_batch.blob[i:i + PIECE]) for i in range(0, len(multi_batch.blob), PIECE))
    assert out == multi_batch.data and d.eof
    assert len(count_batches["decode"]) >= 3


# 5. threads ---------------------------------------------------------------------------------------------------

def test_two_threads_make_the_same_stream_batch_by_batch(multi_batch, count_batches):
    assert neuralzip.compress(multi_batch.data, 1, threads=2) == multi_batch.blob
    assert len(count_batches["encode"]) == 3 and set(count_batches["threads"]) == {WORKER_NAME}


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_return_the_batches_in_order(multi_batch, count_batches, threads):
    out, error = decompress_in_pieces(multi_batch.blob, threads=threads)
    assert error is None and out == multi_batch.data
    assert len(count_batches["decode"]) >= 3 and set(count_batches["threads"]) == {WORKER_NAME}


def test_zero_threads_means_one_per_core(multi_batch, count_batches, monkeypatch):
    """threads=0 takes the cores this process may use: here two, so batches run on worker threads (with one
    thread they would run in the caller's)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    from neuralzip.pipeline import thread_count
    assert thread_count(0) == 2
    assert neuralzip.decompress(multi_batch.blob, threads=0) == multi_batch.data
    assert set(count_batches["threads"]) == {WORKER_NAME}


def test_nunzip_threads_write_the_batches_in_order(multi_batch, tmp_path, monkeypatch, count_batches):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    path = tmp_path / "big.nz"
    path.write_bytes(multi_batch.blob)
    assert cli.main_unzip(["-T0", str(path)]) == 0
    assert (tmp_path / "big").read_bytes() == multi_batch.data
    assert set(count_batches["threads"]) == {WORKER_NAME}
