"""The byte layout of FORMAT.md, frozen: version 3, which writers make, and versions 2 and 1, which readers still
read."""

import random
import zlib
from pathlib import Path

import pytest

import neuralzip
from neuralzip import zoo
from neuralzip.errors import NeuralZipError
from neuralzip.format import (EndFrame, Frame, Method, StreamHeader, frame_crc32, frame_header_size, parse_frame,
                              parse_header, reframe, varint)

SHA = bytes(range(32))
HEADER = StreamHeader("", SHA[:4], 16384)
HEADER_BYTES = bytes.fromhex("89 4e 5a 50 03 0e 00010203")
HEADER_V2 = StreamHeader("m", SHA[:8], 16384, version=2)
HEADER_V2_BYTES = bytes.fromhex("89 4e 5a 50 02 00 01 808001") + SHA[:8] + b"\x01m" + bytes.fromhex("8f 29 26 af")
HEADER_V1 = StreamHeader("m", SHA, 16384, version=1)
HEADER_V1_BYTES = bytes.fromhex("89 4e 5a 50 01 00 01 00 40 00 00") + SHA + b"\x01m" + bytes.fromhex("6b 9d d0 d2")
STREAMS = Path(__file__).parent / "streams"


@pytest.mark.parametrize("header, header_bytes", [(HEADER, HEADER_BYTES), (HEADER_V2, HEADER_V2_BYTES),
                                                  (HEADER_V1, HEADER_V1_BYTES)])
def test_header_golden_bytes(header, header_bytes):
    assert header.to_bytes() == header_bytes
    assert parse_header(header_bytes) == (header, len(header_bytes))


def test_frame_and_end_golden_bytes():
    assert Frame(Method.NEURAL, 300, 100, 0xDEADBEEF).to_bytes() == bytes.fromhex("02 ac02 64 efbeadde")
    assert Frame(Method.NEURAL_RUN, 8192, 100, 7).to_bytes() == bytes.fromhex("03 8040 64 07000000")
    assert Frame(Method.STORED, 1, 1, 7, last=True).to_bytes() == bytes.fromhex("80 01 01 07000000")
    assert Frame(Method.LZMA, 300, 100, 7, last=True).to_bytes() == bytes.fromhex("84 ac02 64 07000000")
    assert EndFrame(5, 1, 0x01020304).to_bytes() == bytes.fromhex("ff 05 01 04030201")
    assert Frame(Method.NEURAL, 300, 100, 0xDEADBEEF).to_bytes(2) == bytes.fromhex("02 ac02 64 efbeadde")
    assert Frame(Method.NEURAL, 300, 100, 0xDEADBEEF).to_bytes(1) == bytes.fromhex("02 2c010000 64000000 efbeadde")
    assert EndFrame(5, 1, 0x01020304).to_bytes(1) == bytes.fromhex("ff 0500000000000000 01000000 04030201")
    for version in (1, 2):
        with pytest.raises(ValueError, match="cannot be flagged last"):
            Frame(Method.STORED, 1, 1, 7, last=True).to_bytes(version)


def test_stream_golden_bytes():
    """Whole streams of version 3: an empty one (header and end, 17 bytes), one byte (a last stored frame, 18
    bytes), and two frames whose CRCs run over the content so far, the last one's inverted."""
    model = zoo.load(zoo.level(1).model)
    head = bytes.fromhex("89 4e 5a 50 03 0c") + model.sha256[:4]
    assert model.sha256[:4] == bytes.fromhex("bd1b12b5")
    assert neuralzip.compress(b"", 1) == head + bytes.fromhex("ff 00 00 00000000")
    one = head + bytes.fromhex("80 01 01") + (zlib.crc32(b"x") ^ 0xFFFFFFFF).to_bytes(4, "little") + b"x"
    assert neuralzip.compress(b"x", 1) == one
    from conftest import zstd_chunk
    zstd = zstd_chunk(1)                                    # goes out zstd
    noise = random.Random(1).randbytes(5000)                # near-random: stored, its two chunks joined in one frame
    blob = neuralzip.compress(zstd + noise, 1)
    crc_zstd, crc_all = zlib.crc32(zstd), zlib.crc32(zstd + noise)
    assert blob.startswith(head + bytes.fromhex("01 8020"))
    frame, end = parse_frame(blob, 10, parse_header(blob)[0])
    assert (frame.method, frame.size, frame.crc32, frame.last) == (Method.ZSTD, 4096, crc_zstd, False)
    tail = bytes.fromhex("80 8827 8827") + (crc_all ^ 0xFFFFFFFF).to_bytes(4, "little") + noise
    assert blob[end + frame.payload_size:] == tail
    assert frame_crc32(noise, crc_zstd) == crc_all and frame_crc32(noise, crc_zstd, last=True) == crc_all ^ 0xFFFFFFFF
    assert frame_crc32(noise, crc_zstd, version=2) == frame_crc32(noise, crc_zstd, 2, True) == zlib.crc32(noise)


@pytest.mark.parametrize("n, encoded", [(0, "00"), (127, "7f"), (128, "8001"), (300, "ac02"), (16384, "808001"),
                                        ((1 << 64) - 1, "ffffffffffffffffff01")])
def test_varints_are_leb128(n, encoded):
    assert varint(n) == bytes.fromhex(encoded)
    assert parse_frame(b"\xff" + varint(n) + b"\x00" + bytes(4), 0, HEADER)[0].total_size == n


@pytest.mark.parametrize("header, header_bytes", [(HEADER, HEADER_BYTES), (HEADER_V2, HEADER_V2_BYTES),
                                                  (HEADER_V1, HEADER_V1_BYTES)])
def test_partial_header_asks_for_more(header, header_bytes):
    for cut in range(len(header_bytes)):
        assert parse_header(header_bytes[:cut]) is None
    assert parse_header(b"xyz" + header_bytes, 3) == (header, 3 + len(header_bytes))


@pytest.mark.parametrize("offset, value, message", [
    (0, 0x88, "magic"), (4, 4, "version 4.*reads versions 1, 2, 3"), (4, 0, "version 0"),
    (5, 0x20 | 14, "header bits 0x20.*upgrade"), (5, 0x80, "header bits 0x80.*upgrade"),
    (5, 21, "invalid chunk size 2\\^21"), (5, 31, "invalid chunk size 2\\^31")])
def test_bad_header_fields(offset, value, message):
    bad = bytearray(HEADER_BYTES)
    bad[offset] = value
    with pytest.raises(NeuralZipError, match=message):
        parse_header(bytes(bad))


@pytest.mark.parametrize("log2", [0, 12, 20])
def test_every_power_of_two_chunk_size_to_1_mib(log2):
    assert parse_header(StreamHeader("", SHA[:4], 1 << log2).to_bytes())[0].chunk_size == 1 << log2


@pytest.mark.parametrize("offset, value, message", [
    (0, 0x88, "magic"), (4, 9, "version 9.*reads versions 1, 2, 3"), (5, 1, "flags"), (6, 7, "coder 7"),
    (12, 0, "checksum")])
def test_bad_header_fields_of_version_2(offset, value, message):
    bad = bytearray(HEADER_V2_BYTES)
    bad[offset] = value
    if offset in (5, 6):   # make the checksum right so the field itself is what is refused
        bad[-4:] = zlib.crc32(bad[:-4]).to_bytes(4, "little")
    with pytest.raises(NeuralZipError, match=message):
        parse_header(bytes(bad))


def test_a_chunk_size_beyond_1_mib_is_refused():
    head = StreamHeader("m", SHA[:8], (1 << 20) + 1, version=2).to_bytes()
    with pytest.raises(NeuralZipError, match="chunk size"):
        parse_header(head)


@pytest.mark.parametrize("size", [0, 3, 4095, 1 << 21])
def test_a_version_3_writer_makes_power_of_two_chunks_to_1_mib_only(size):
    with pytest.raises(ValueError, match="power of two"):
        StreamHeader("", SHA[:4], size).to_bytes()


@pytest.mark.parametrize("header", [HEADER, HEADER_V2, HEADER_V1])
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
    if v == 3:                                               # the last-frame bit, on any method
        for method in Method:
            if method != Method.END:
                last = Frame(method, 300, 300 if method == Method.STORED else 100, 7, last=True)
                assert parse_frame(last.to_bytes(), 0, header) == (last, len(last.to_bytes()))
        with pytest.raises(NeuralZipError, match="method 7.*upgrade"):
            parse_frame(b"\x87" + raw[1:], 0, header)
    else:                                                    # older versions have no such bit
        with pytest.raises(NeuralZipError, match="method 129"):
            parse_frame(b"\x81" + raw[1:], 0, header)


@pytest.mark.parametrize("raw, message", [(b"\x01\x80\x00\x64" + bytes(4), "over-long"),
                                          (b"\x01" + b"\x80" * 10 + b"\x01", "more than 10 bytes")])
def test_a_number_has_one_encoding_of_at_most_10_bytes(raw, message):
    with pytest.raises(NeuralZipError, match=f"damaged stream: a frame header holds .*{message}"):
        parse_frame(raw, 0, HEADER)


def test_a_run_holds_at_most_4_mib_and_1024_chunks():
    run = Frame(Method.NEURAL_RUN, 1 << 22, 100, 0)                           # 256 chunks of 16 KiB
    assert parse_frame(run.to_bytes(), 0, HEADER)[0] == run
    small = StreamHeader("", SHA[:4], 1024)
    assert parse_frame(Frame(Method.NEURAL_RUN, 1 << 20, 100, 0).to_bytes(), 0, small)[0].size == 1 << 20
    for header, size in ((HEADER, (1 << 22) + 1), (small, (1 << 20) + 1)):
        with pytest.raises(NeuralZipError, match="frame size"):
            parse_frame(Frame(Method.NEURAL_RUN, size, 100, 0).to_bytes(), 0, header)


def test_a_header_holds_as_much_of_the_sha256_as_its_version_says():
    with pytest.raises(ValueError, match="4 bytes"):
        StreamHeader("", SHA[:8], 4096).to_bytes()
    with pytest.raises(ValueError, match="8 bytes"):
        StreamHeader("m", SHA, 4096, version=2).to_bytes()
    with pytest.raises(ValueError, match="no model name"):
        StreamHeader("m", SHA[:4], 4096).to_bytes()


def test_four_bytes_of_sha256_tell_the_embedded_models_apart():
    ids = [zoo.embedded_sha256(name)[:4] for name in zoo.embedded_names()]
    assert len(set(ids)) == len(ids)


def test_a_one_byte_input_is_at_most_24_bytes_at_every_level():
    """18 bytes: a header of 10, a frame header of 7 and the byte (gzip -9 makes 21, zstd -19 14)."""
    for level in range(zoo.MIN_LEVEL, zoo.MAX_LEVEL + 1):
        blob = neuralzip.compress(b"x", level)
        assert len(blob) == 18 and neuralzip.decompress(blob) == b"x"
    assert len(neuralzip.compress(b"")) == 17


def test_a_one_chunk_text_is_no_larger_than_in_version_2():
    """A 4 KiB chunk of prose at the default level: 850 bytes in format version 2 (953c18f, measured 2026-12-07
    with neuralzip.compress(tests.conftest.prose(4096, 1))), 819 in version 3: a header of 10 bytes for 33, and no
    end frame of 8."""
    from conftest import prose
    data = prose(4096, 1)
    blob = neuralzip.compress(data)
    assert len(blob) <= 850 - 31 and neuralzip.decompress(blob) == data


def test_a_version_2_stream_still_decodes():
    """Written by 953c18f's writer (format version 2, lstm64-v1, level 1): neural, zstd, stored and neural frames,
    then an end frame. Framed as version 3 it is what writers make now, byte for byte: the payloads did not
    change."""
    from conftest import prose, zstd_chunk
    data = prose(4096, 8) + zstd_chunk(3) + random.Random(8).randbytes(4096) + prose(1000, 9)
    blob = (STREAMS / "lstm64-v1-format-v2.nz").read_bytes()
    info = neuralzip.describe(blob)[0]
    assert (info.format_version, info.model_name, info.model_id) == (2, "lstm64-v1", "bd1b12b5b2ced714")
    assert {m: n for m, n in info.frames.items() if n} == {"stored": 1, "zstd": 1, "neural": 2}
    assert neuralzip.decompress(blob) == data
    now = neuralzip.compress(data, 1)
    assert reframe(blob, StreamHeader("", bytes.fromhex("bd1b12b5"), 4096)) == now
    assert len(now) == len(blob) - 29      # header 31 -> 10 bytes, end frame of 8 gone, frames unchanged
    assert reframe(now, StreamHeader("lstm64-v1", bytes.fromhex("bd1b12b5b2ced714"), 4096, version=2)) == blob


def test_reframe_needs_one_whole_stream():
    blob = neuralzip.compress(b"abc", 1)
    same = StreamHeader("", blob[6:10], 4096)
    assert reframe(blob, same) == blob
    for bad, message in ((blob[:-1], "ends inside a frame"), (blob[:5], "ends inside its header"),
                         (blob + blob, "followed by other bytes")):
        with pytest.raises(ValueError, match=message):
            reframe(bad, same)
    with pytest.raises(ValueError, match="chunk size"):
        reframe(blob, StreamHeader("", blob[6:10], 8192))
    empty = neuralzip.compress(b"", 1)
    assert reframe(reframe(empty, StreamHeader("x", bytes(8), 4096, version=2)), same) == empty
