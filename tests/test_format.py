"""The byte layout of FORMAT.md, frozen: version 2, which writers make, and version 1, which readers still read."""

import zlib

import pytest

from neuralzip.errors import NeuralZipError
from neuralzip.format import (EndFrame, Frame, Method, StreamHeader, frame_header_size, parse_frame, parse_header,
                              varint)

SHA = bytes(range(32))
HEADER = StreamHeader("m", SHA[:8], 16384)
HEADER_BYTES = bytes.fromhex("89 4e 5a 50 02 00 01 808001") + SHA[:8] + b"\x01m" + bytes.fromhex("8f 29 26 af")
HEADER_V1 = StreamHeader("m", SHA, 16384, version=1)
HEADER_V1_BYTES = bytes.fromhex("89 4e 5a 50 01 00 01 00 40 00 00") + SHA + b"\x01m" + bytes.fromhex("6b 9d d0 d2")


def test_header_golden_bytes():
    assert HEADER.to_bytes() == HEADER_BYTES
    assert parse_header(HEADER_BYTES) == (HEADER, len(HEADER_BYTES))
    assert HEADER_V1.to_bytes() == HEADER_V1_BYTES
    assert parse_header(HEADER_V1_BYTES) == (HEADER_V1, len(HEADER_V1_BYTES))


def test_frame_and_end_golden_bytes():
    assert Frame(Method.NEURAL, 300, 100, 0xDEADBEEF).to_bytes() == bytes.fromhex("02 ac02 64 efbeadde")
    assert Frame(Method.NEURAL_RUN, 8192, 100, 7).to_bytes() == bytes.fromhex("03 8040 64 07000000")
    assert EndFrame(5, 1, 0x01020304).to_bytes() == bytes.fromhex("ff 05 01 04030201")
    assert Frame(Method.NEURAL, 300, 100, 0xDEADBEEF).to_bytes(1) == bytes.fromhex("02 2c010000 64000000 efbeadde")
    assert EndFrame(5, 1, 0x01020304).to_bytes(1) == bytes.fromhex("ff 0500000000000000 01000000 04030201")


@pytest.mark.parametrize("n, encoded", [(0, "00"), (127, "7f"), (128, "8001"), (300, "ac02"), (16384, "808001"),
                                        ((1 << 64) - 1, "ffffffffffffffffff01")])
def test_varints_are_leb128(n, encoded):
    assert varint(n) == bytes.fromhex(encoded)
    assert parse_frame(b"\xff" + varint(n) + b"\x00" + bytes(4), 0, HEADER)[0].total_size == n


@pytest.mark.parametrize("header, header_bytes", [(HEADER, HEADER_BYTES), (HEADER_V1, HEADER_V1_BYTES)])
def test_partial_header_asks_for_more(header, header_bytes):
    for cut in range(len(header_bytes)):
        assert parse_header(header_bytes[:cut]) is None
    assert parse_header(b"xyz" + header_bytes, 3) == (header, 3 + len(header_bytes))


@pytest.mark.parametrize("offset, value, message", [
    (0, 0x88, "magic"), (4, 3, "version 3.*reads versions 1, 2"), (5, 1, "flags"), (6, 7, "coder 7"),
    (12, 0, "checksum")])
def test_bad_header_fields(offset, value, message):
    bad = bytearray(HEADER_BYTES)
    bad[offset] = value
    if offset in (5, 6):   # make the checksum right so the field itself is what is refused
        bad[-4:] = zlib.crc32(bad[:-4]).to_bytes(4, "little")
    with pytest.raises(NeuralZipError, match=message):
        parse_header(bytes(bad))


def test_a_chunk_size_beyond_1_mib_is_refused():
    head = StreamHeader("m", SHA[:8], (1 << 20) + 1).to_bytes()
    with pytest.raises(NeuralZipError, match="chunk size"):
        parse_header(head)


@pytest.mark.parametrize("header", [HEADER, HEADER_V1])
def test_frames_parse_and_validate(header):
    v = header.version
    raw = Frame(Method.ZSTD, 300, 100, 7).to_bytes(v)
    assert parse_frame(raw, 0, header) == (Frame(Method.ZSTD, 300, 100, 7), len(raw))
    assert len(raw) == (13 if v == 1 else 8) and frame_header_size(300, 100) == 8
    for cut in range(len(raw)):
        assert parse_frame(raw[:cut], 0, header) is None
    end = EndFrame(1, 2, 3).to_bytes(v)
    assert parse_frame(end, 0, header) == (EndFrame(1, 2, 3), len(end))
    for cut in range(len(end)):
        assert parse_frame(end[:cut], 0, header) is None
    for bad in (Frame(Method.ZSTD, 300, 301, 0), Frame(Method.STORED, 300, 299, 0), Frame(Method.NEURAL, 0, 0, 0),
                Frame(Method.NEURAL, 16385, 10, 0), Frame(Method.STORED, (1 << 22) + 1, (1 << 22) + 1, 0)):
        with pytest.raises(NeuralZipError, match="damaged"):
            parse_frame(bad.to_bytes(v), 0, header)
    big = Frame(Method.STORED, 1 << 22, 1 << 22, 0)          # stored frames may join chunks
    assert parse_frame(big.to_bytes(v), 0, header)[0] == big
    with pytest.raises(NeuralZipError, match="method 7.*upgrade"):
        parse_frame(b"\x07" + raw[1:], 0, header)


@pytest.mark.parametrize("raw, message", [(b"\x01\x80\x00\x64" + bytes(4), "over-long"),
                                          (b"\x01" + b"\x80" * 10 + b"\x01", "more than 10 bytes")])
def test_a_number_has_one_encoding_of_at_most_10_bytes(raw, message):
    with pytest.raises(NeuralZipError, match=f"damaged stream: a frame header holds .*{message}"):
        parse_frame(raw, 0, HEADER)


def test_a_run_holds_at_most_4_mib_and_1024_chunks():
    run = Frame(Method.NEURAL_RUN, 1 << 22, 100, 0)                           # 256 chunks of 16 KiB
    assert parse_frame(run.to_bytes(), 0, HEADER)[0] == run
    small = StreamHeader("m", SHA[:8], 1024)
    assert parse_frame(Frame(Method.NEURAL_RUN, 1 << 20, 100, 0).to_bytes(), 0, small)[0].size == 1 << 20
    for header, size in ((HEADER, (1 << 22) + 1), (small, (1 << 20) + 1)):
        with pytest.raises(NeuralZipError, match="frame size"):
            parse_frame(Frame(Method.NEURAL_RUN, size, 100, 0).to_bytes(), 0, header)


def test_a_header_holds_as_much_of_the_sha256_as_its_version_says():
    with pytest.raises(ValueError, match="8 bytes"):
        StreamHeader("m", SHA, 4096).to_bytes()
