"""The byte layout of FORMAT.md, frozen."""

import pytest

from neuralzip.errors import NeuralZipError
from neuralzip.format import EndFrame, Frame, Method, StreamHeader, parse_frame, parse_header

SHA = bytes(range(32))
HEADER = StreamHeader("m", SHA, 16384)
HEADER_BYTES = bytes.fromhex("89 4e 5a 50 01 00 01 00 40 00 00") + SHA + b"\x01m" + bytes.fromhex("6b 9d d0 d2")


def test_header_golden_bytes():
    assert HEADER.to_bytes() == HEADER_BYTES
    assert parse_header(HEADER_BYTES) == (HEADER, len(HEADER_BYTES))


def test_frame_and_end_golden_bytes():
    assert Frame(Method.NEURAL, 300, 100, 0xDEADBEEF).to_bytes() == bytes.fromhex("02 2c010000 64000000 efbeadde")
    assert Frame(Method.NEURAL_RUN, 8192, 100, 7).to_bytes() == bytes.fromhex("03 00200000 64000000 07000000")
    assert EndFrame(5, 1, 0x01020304).to_bytes() == bytes.fromhex("ff 0500000000000000 01000000 04030201")


@pytest.mark.parametrize("cut", range(len(HEADER_BYTES)))
def test_partial_header_asks_for_more(cut):
    assert parse_header(HEADER_BYTES[:cut]) is None


def test_parse_at_offset():
    assert parse_header(b"xyz" + HEADER_BYTES, 3) == (HEADER, 3 + len(HEADER_BYTES))


@pytest.mark.parametrize("offset, value, message", [
    (0, 0x88, "magic"), (4, 2, "version 2"), (5, 1, "flags"), (6, 7, "coder 7"), (20, 0, "checksum")])
def test_bad_header_fields(offset, value, message):
    bad = bytearray(HEADER_BYTES)
    bad[offset] = value
    if offset in (5, 6):   # make the checksum right so the field itself is what is refused
        import zlib
        bad[-4:] = zlib.crc32(bad[:-4]).to_bytes(4, "little")
    with pytest.raises(NeuralZipError, match=message):
        parse_header(bytes(bad))


def test_frames_parse_and_validate():
    raw = Frame(Method.ZSTD, 300, 100, 7).to_bytes()
    assert parse_frame(raw, 0, HEADER) == (Frame(Method.ZSTD, 300, 100, 7), 13)
    assert parse_frame(raw[:12], 0, HEADER) is None
    end = EndFrame(1, 2, 3).to_bytes()
    assert parse_frame(end, 0, HEADER) == (EndFrame(1, 2, 3), 17)
    assert parse_frame(end[:16], 0, HEADER) is None
    for bad in (Frame(Method.ZSTD, 300, 301, 0), Frame(Method.STORED, 300, 299, 0), Frame(Method.NEURAL, 0, 0, 0),
                Frame(Method.NEURAL, 16385, 10, 0), Frame(Method.STORED, (1 << 22) + 1, (1 << 22) + 1, 0)):
        with pytest.raises(NeuralZipError, match="damaged"):
            parse_frame(bad.to_bytes(), 0, HEADER)
    big = Frame(Method.STORED, 1 << 22, 1 << 22, 0)          # stored frames may join chunks
    assert parse_frame(big.to_bytes(), 0, HEADER)[0] == big
    with pytest.raises(NeuralZipError, match="method 7.*upgrade"):
        parse_frame(b"\x07" + raw[1:], 0, HEADER)


def test_a_run_holds_at_most_4_mib_and_1024_chunks():
    run = Frame(Method.NEURAL_RUN, 1 << 22, 100, 0)                           # 256 chunks of 16 KiB
    assert parse_frame(run.to_bytes(), 0, HEADER)[0] == run
    small = StreamHeader("m", SHA, 1024)
    assert parse_frame(Frame(Method.NEURAL_RUN, 1 << 20, 100, 0).to_bytes(), 0, small)[0].size == 1 << 20
    for header, size in ((HEADER, (1 << 22) + 1), (small, (1 << 20) + 1)):
        with pytest.raises(NeuralZipError, match="frame size"):
            parse_frame(Frame(Method.NEURAL_RUN, size, 100, 0).to_bytes(), 0, header)
