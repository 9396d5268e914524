"""The .nz stream format: headers, frames and checksums, as bytes only (see FORMAT.md).

Writers make version 2 (sizes as varints, the model named by the first 8 bytes of its SHA-256); readers read
versions 1 and 2. Parsers take a buffer and a position and return ``None`` when the buffer ends before the item
does, so the same code serves whole buffers and incremental decompression; damaged bytes raise NeuralZipError.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

from .errors import NeuralZipError

MAGIC = b"\x89NZP"
FORMAT_VERSION = 2          # what writers make
READ_VERSIONS = (1, 2)
MODEL_ID_BYTES = 8          # version 2 names the model by this much of its SHA-256
CODER_RANGE_V1 = 1          # constriction's queue range coder, Categorical(perfect=False): FORMAT.md
MAX_CHUNK_SIZE = 1 << 20   # bounds the work and memory one (possibly damaged) frame can cost a reader
MAX_STORED_SIZE = 1 << 22   # a stored frame may join consecutive stored chunks, up to this size
MAX_GROUP_BYTES = 1 << 22   # a model's match groups span a power of two of content bytes, at most this
MAX_GROUP_FRAMES = 1024     # frames that start in one such span, and chunks in one match group (4 MiB of 4 KiB
                            # chunks): bounds what a reader holds and decodes together, whatever a damaged stream says

_START = struct.Struct("<4sBBB")       # magic, version, flags, coder: the same in every version
# version 1: fixed-width fields
_HEAD_V1 = struct.Struct("<4sBBBI32sB")   # magic, version, flags, coder, chunk_size, model sha256, name length
_FRAME_V1 = struct.Struct("<BIII")        # method, original size, payload size, crc32 of the original
_END_V1 = struct.Struct("<BQII")          # END, total original size, frame count, crc32 of all original bytes
_CRC = struct.Struct("<I")
MAX_VARINT_BYTES = 10                     # enough for any 64-bit value


class Method(IntEnum):
    STORED = 0
    ZSTD = 1
    NEURAL = 2
    NEURAL_RUN = 3          # consecutive chunks of one match group, range-coded together
    LZMA = 4                # a raw LZMA2 stream of consecutive chunks: what a whole 4 MiB span compresses to best
    END = 0xFF


def varint(n: int) -> bytes:
    """n as an unsigned LEB128 varint: 7 bits a byte, least significant first, the high bit set on all but the
    last."""
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _parse_varint(buf, pos: int, where: str) -> tuple[int, int] | None:
    """The varint at buf[pos:] and where it ends; None if buf ends first. Only the shortest encoding of a value
    is valid, so every value has one."""
    n = shift = 0
    for i in range(pos, min(len(buf), pos + MAX_VARINT_BYTES)):
        byte = buf[i]
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            if byte == 0 and i > pos:
                raise NeuralZipError(f"damaged stream: {where} holds an over-long number")
            return n, i + 1
        shift += 7
    if len(buf) - pos < MAX_VARINT_BYTES:
        return None
    raise NeuralZipError(f"damaged stream: {where} holds a number of more than {MAX_VARINT_BYTES} bytes")


@dataclass(frozen=True)
class StreamHeader:
    model_name: str
    model_id: bytes         # the model file's SHA-256: its first MODEL_ID_BYTES bytes (version 1: all 32)
    chunk_size: int
    coder: int = CODER_RANGE_V1
    version: int = FORMAT_VERSION

    def to_bytes(self) -> bytes:
        name = self.model_name.encode()
        expected = 32 if self.version == 1 else MODEL_ID_BYTES
        if len(self.model_id) != expected:
            raise ValueError(f"a version {self.version} header holds {expected} bytes of the model's SHA-256, "
                             f"not {len(self.model_id)}")
        if self.version == 1:
            head = _HEAD_V1.pack(MAGIC, 1, 0, self.coder, self.chunk_size, self.model_id, len(name)) + name
        else:
            head = (_START.pack(MAGIC, self.version, 0, self.coder) + varint(self.chunk_size) + self.model_id
                    + bytes([len(name)]) + name)
        return head + _CRC.pack(zlib.crc32(head))


@dataclass(frozen=True)
class Frame:
    method: Method
    size: int               # original bytes
    payload_size: int
    crc32: int              # of the original bytes

    def to_bytes(self, version: int = FORMAT_VERSION) -> bytes:
        if version == 1:
            return _FRAME_V1.pack(self.method, self.size, self.payload_size, self.crc32)
        return bytes([self.method]) + varint(self.size) + varint(self.payload_size) + _CRC.pack(self.crc32)


def frame_header_size(size: int, payload_size: int) -> int:
    """Bytes of a frame's header (what a writer pays per frame, besides the payload)."""
    return len(Frame(Method.STORED, size, payload_size, 0).to_bytes())


@dataclass(frozen=True)
class EndFrame:
    total_size: int
    frames: int
    crc32: int

    def to_bytes(self, version: int = FORMAT_VERSION) -> bytes:
        if version == 1:
            return _END_V1.pack(Method.END, self.total_size, self.frames, self.crc32)
        return bytes([Method.END]) + varint(self.total_size) + varint(self.frames) + _CRC.pack(self.crc32)


def crc32(data, value: int = 0) -> int:
    return zlib.crc32(data, value)


def parse_header(buf, pos: int = 0) -> tuple[StreamHeader, int] | None:
    """The stream header at buf[pos:], and where it ends; None if buf ends first."""
    if len(buf) - pos < 4:
        if bytes(buf[pos:]) != MAGIC[:len(buf) - pos]:
            raise NeuralZipError("not a neuralzip stream (bad magic bytes)")
        return None
    if bytes(buf[pos:pos + 4]) != MAGIC:
        raise NeuralZipError("not a neuralzip stream (bad magic bytes)")
    if len(buf) - pos < _START.size:
        return None
    _, version, flags, coder = _START.unpack_from(buf, pos)
    if version not in READ_VERSIONS:
        raise NeuralZipError(f"stream format version {version} is not supported by this neuralzip "
                             f"(it reads versions {', '.join(map(str, READ_VERSIONS))}); upgrade neuralzip to read it")
    if version == 1:
        if len(buf) - pos < _HEAD_V1.size:
            return None
        *_, chunk_size, model_id, name_len = _HEAD_V1.unpack_from(buf, pos)
        name_at = pos + _HEAD_V1.size
    else:
        parsed = _parse_varint(buf, pos + _START.size, "the stream header")
        if parsed is None or len(buf) - parsed[1] < MODEL_ID_BYTES + 1:
            return None
        chunk_size, at = parsed
        model_id, name_len = bytes(buf[at:at + MODEL_ID_BYTES]), buf[at + MODEL_ID_BYTES]
        name_at = at + MODEL_ID_BYTES + 1
    end = name_at + name_len + _CRC.size
    if len(buf) < end:
        return None
    if _CRC.unpack_from(buf, end - 4)[0] != zlib.crc32(buf[pos:end - 4]):
        raise NeuralZipError("stream header is damaged (checksum mismatch)")
    if flags:
        raise NeuralZipError(f"stream uses flags {flags:#04x} unknown to this neuralzip; upgrade neuralzip")
    if coder != CODER_RANGE_V1:
        raise NeuralZipError(f"stream uses coder {coder}, unknown to this neuralzip; upgrade neuralzip")
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise NeuralZipError(f"stream header gives an invalid chunk size {chunk_size}")
    try:
        name = bytes(buf[name_at:end - 4]).decode()
    except UnicodeDecodeError:
        raise NeuralZipError("stream header is damaged (model name is not UTF-8)") from None
    return StreamHeader(name, bytes(model_id), chunk_size, coder, version), end


def _parse_fields(buf, pos: int, version: int, fixed: struct.Struct) -> tuple[tuple, int] | None:
    """A frame's or end's (marker, number, number, crc) at buf[pos:] in the header's version, and where they end."""
    if version == 1:
        return (fixed.unpack_from(buf, pos), pos + fixed.size) if len(buf) - pos >= fixed.size else None
    numbers, at = [], pos + 1
    for _ in range(2):
        parsed = _parse_varint(buf, at, "a frame header")
        if parsed is None:
            return None
        numbers.append(parsed[0])
        at = parsed[1]
    if len(buf) - at < _CRC.size:
        return None
    return (buf[pos], *numbers, _CRC.unpack_from(buf, at)[0]), at + _CRC.size


def parse_frame(buf, pos: int, header: StreamHeader) -> tuple[Frame | EndFrame, int] | None:
    """The frame header (not its payload) or end frame at buf[pos:], and where it ends; None if buf ends first."""
    if len(buf) - pos < 1:
        return None
    if buf[pos] == Method.END:
        parsed = _parse_fields(buf, pos, header.version, _END_V1)
        if parsed is None:
            return None
        (_, total, frames, crc), end = parsed
        return EndFrame(total, frames, crc), end
    if buf[pos] not in (Method.STORED, Method.ZSTD, Method.NEURAL, Method.NEURAL_RUN, Method.LZMA):
        raise NeuralZipError(f"damaged stream: unknown frame method {buf[pos]} (or one from a newer neuralzip: "
                             "upgrade neuralzip to read it)")
    parsed = _parse_fields(buf, pos, header.version, _FRAME_V1)
    if parsed is None:
        return None
    (method, size, payload_size, crc), end = parsed
    limit = {Method.STORED: max(header.chunk_size, MAX_STORED_SIZE),       # stored frames may join chunks
             Method.NEURAL_RUN: min(MAX_GROUP_BYTES, header.chunk_size * MAX_GROUP_FRAMES),
             Method.LZMA: MAX_GROUP_BYTES,
             }.get(method, header.chunk_size)
    if not 0 < size <= limit:
        raise NeuralZipError(f"damaged stream: frame size {size} outside 1..{limit}")
    # every method but stored is used only when it is smaller than the original
    if payload_size > size or (method == Method.STORED) != (payload_size == size):
        raise NeuralZipError(f"damaged stream: frame payload size {payload_size} for {size} bytes")
    return Frame(Method(method), size, payload_size, crc), end
