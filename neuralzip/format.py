"""The .nz stream format: headers, frames and checksums, as bytes only (see FORMAT.md).

Writers make version 3 (a 10-byte header: the chunk size as a power of two, the model named by the first 4 bytes
of its SHA-256; the last frame flagged, so that no end frame follows it; each frame's CRC over the content so far,
the last one's inverted); readers read versions 1, 2 and 3. Parsers take a buffer and a position and return
``None`` when the buffer ends before the item does, so the same code serves whole buffers and incremental
decompression; damaged bytes raise NeuralZipError.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

from .errors import NeuralZipError

MAGIC = b"\x89NZP"
FORMAT_VERSION = 3          # what writers make
READ_VERSIONS = (1, 2, 3)
MODEL_ID_BYTES = 4          # version 3 names the model by this much of its SHA-256
_MODEL_ID_BYTES = {1: 32, 2: 8, 3: MODEL_ID_BYTES}      # ... and each version
LAST_FRAME = 0x80           # version 3: set in the method byte of a stream's last frame, which no end frame follows
_CHUNK_LOG2_MASK = 0x1F     # version 3: the header's chunk size byte holds log2 of the size in these bits ...
_RESERVED_BITS = 0xE0       # ... and these are 0 (a reader refuses others, as it does flags)
CODER_RANGE_V1 = 1          # constriction's queue range coder, Categorical(perfect=False): FORMAT.md
MAX_CHUNK_LOG2 = 20
MAX_CHUNK_SIZE = 1 << MAX_CHUNK_LOG2    # bounds the work and memory one (possibly damaged) frame can cost a reader
MAX_STORED_SIZE = 1 << 22   # a stored frame may join consecutive stored chunks, up to this size
MAX_GROUP_BYTES = 1 << 22   # a model's match groups span a power of two of content bytes, at most this
MAX_GROUP_FRAMES = 1024     # frames that start in one such span, and chunks in one match group (4 MiB of 4 KiB
                            # chunks): bounds what a reader holds and decodes together, whatever a damaged stream says

_START = struct.Struct("<4sB")         # magic, version: the same in every version
_START_V2 = struct.Struct("<4sBBB")    # version 2: magic, version, flags, coder
_HEAD_V3 = struct.Struct("<4sBB4s")    # version 3: magic, version, log2 of the chunk size, model id: all of it
# version 1: fixed-width fields
_HEAD_V1 = struct.Struct("<4sBBBI32sB")   # magic, version, flags, coder, chunk_size, model sha256, name length
_FRAME_V1 = struct.Struct("<BIII")        # method, original size, payload size, crc32 of the original
_END_V1 = struct.Struct("<BQII")          # END, total original size, frame count, crc32 of all original bytes
_CRC = struct.Struct("<I")
_CRC_MASK = 0xFFFFFFFF
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
    model_name: str         # versions 1 and 2 only ("" in version 3, whose model id alone names the model)
    model_id: bytes         # the start of the model file's SHA-256: 4 bytes (version 2: 8; version 1: all 32)
    chunk_size: int
    coder: int = CODER_RANGE_V1
    version: int = FORMAT_VERSION

    def to_bytes(self) -> bytes:
        name = self.model_name.encode()
        expected = _MODEL_ID_BYTES[self.version]
        if len(self.model_id) != expected:
            raise ValueError(f"a version {self.version} header holds {expected} bytes of the model's SHA-256, "
                             f"not {len(self.model_id)}")
        if self.version == 3:
            if name:
                raise ValueError("a version 3 header holds no model name (its model id names the model): give ''")
            if self.coder != CODER_RANGE_V1:
                raise ValueError(f"version 3 implies coder {CODER_RANGE_V1}, not {self.coder}")
            log2 = self.chunk_size.bit_length() - 1
            if self.chunk_size < 1 or self.chunk_size != 1 << log2 or log2 > MAX_CHUNK_LOG2:
                raise ValueError(f"a version 3 chunk size is a power of two up to {MAX_CHUNK_SIZE}, "
                                 f"not {self.chunk_size}")
            return _HEAD_V3.pack(MAGIC, 3, log2, self.model_id)
        if self.version == 1:
            head = _HEAD_V1.pack(MAGIC, 1, 0, self.coder, self.chunk_size, self.model_id, len(name)) + name
        else:
            head = (_START_V2.pack(MAGIC, self.version, 0, self.coder) + varint(self.chunk_size) + self.model_id
                    + bytes([len(name)]) + name)
        return head + _CRC.pack(zlib.crc32(head))


@dataclass(frozen=True)
class Frame:
    method: Method
    size: int               # original bytes
    payload_size: int
    crc32: int              # frame_crc32: of the original bytes (version 3: of the stream's up to this frame's end)
    last: bool = False      # version 3: the stream's last frame (LAST_FRAME)

    def to_bytes(self, version: int = FORMAT_VERSION) -> bytes:
        if self.last and version < 3:
            raise ValueError(f"a version {version} frame cannot be flagged last: an end frame follows it")
        if version == 1:
            return _FRAME_V1.pack(self.method, self.size, self.payload_size, self.crc32)
        method = self.method | LAST_FRAME if self.last else self.method
        return bytes([method]) + varint(self.size) + varint(self.payload_size) + _CRC.pack(self.crc32)


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


def frame_crc32(original, before: int, version: int = FORMAT_VERSION, last: bool = False) -> int:
    """What a frame's CRC field holds, for its original bytes after content whose CRC-32 is before. From version 3,
    the CRC-32 of the stream's content up to the end of the frame, so that a frame dropped, repeated or moved fails
    its check, as the end frame's totals, which version 3 leaves out, made it fail; in the last frame, its
    complement, so that the last-frame bit is checked too (set by damage, it would end the stream early, and a
    valid stream would be cut short). Before version 3, the CRC-32 of the frame's own bytes."""
    if version < 3:
        return zlib.crc32(original)
    return zlib.crc32(original, before) ^ (_CRC_MASK if last else 0)


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
    _, version = _START.unpack_from(buf, pos)
    if version not in READ_VERSIONS:
        raise NeuralZipError(f"stream format version {version} is not supported by this neuralzip "
                             f"(it reads versions {', '.join(map(str, READ_VERSIONS))}); upgrade neuralzip to read it")
    if version == 3:
        return _parse_header_v3(buf, pos)
    if len(buf) - pos < _START_V2.size:
        return None
    _, _, flags, coder = _START_V2.unpack_from(buf, pos)
    if version == 1:
        if len(buf) - pos < _HEAD_V1.size:
            return None
        *_, chunk_size, model_id, name_len = _HEAD_V1.unpack_from(buf, pos)
        name_at = pos + _HEAD_V1.size
    else:
        parsed = _parse_varint(buf, pos + _START_V2.size, "the stream header")
        if parsed is None or len(buf) - parsed[1] < _MODEL_ID_BYTES[2] + 1:
            return None
        chunk_size, at = parsed
        model_id, name_len = bytes(buf[at:at + _MODEL_ID_BYTES[2]]), buf[at + _MODEL_ID_BYTES[2]]
        name_at = at + _MODEL_ID_BYTES[2] + 1
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


def _parse_header_v3(buf, pos: int) -> tuple[StreamHeader, int] | None:
    """A version 3 header. It has no checksum: every field is checked here or, damaged, fails the frames' CRCs
    (a damaged chunk size or model id decodes neural frames wrongly, or names a model no one holds)."""
    if len(buf) - pos < _HEAD_V3.size:
        return None
    _, _, shape, model_id = _HEAD_V3.unpack_from(buf, pos)
    if shape & _RESERVED_BITS:
        raise NeuralZipError(f"stream uses header bits {shape & _RESERVED_BITS:#04x} unknown to this neuralzip; "
                             "upgrade neuralzip")
    if (shape & _CHUNK_LOG2_MASK) > MAX_CHUNK_LOG2:
        raise NeuralZipError(f"stream header gives an invalid chunk size 2^{shape & _CHUNK_LOG2_MASK}")
    return StreamHeader("", model_id, 1 << shape, CODER_RANGE_V1, 3), pos + _HEAD_V3.size


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
    last = header.version >= 3 and bool(buf[pos] & LAST_FRAME)
    method = buf[pos] & ~LAST_FRAME if last else buf[pos]
    if method not in (Method.STORED, Method.ZSTD, Method.NEURAL, Method.NEURAL_RUN, Method.LZMA):
        raise NeuralZipError(f"damaged stream: unknown frame method {method} (or one from a newer neuralzip: "
                             "upgrade neuralzip to read it)")
    parsed = _parse_fields(buf, pos, header.version, _FRAME_V1)
    if parsed is None:
        return None
    (_, size, payload_size, crc), end = parsed
    limit = {Method.STORED: max(header.chunk_size, MAX_STORED_SIZE),       # stored frames may join chunks
             Method.NEURAL_RUN: min(MAX_GROUP_BYTES, header.chunk_size * MAX_GROUP_FRAMES),
             Method.LZMA: MAX_GROUP_BYTES,
             }.get(method, header.chunk_size)
    if not 0 < size <= limit:
        raise NeuralZipError(f"damaged stream: frame size {size} outside 1..{limit}")
    # every method but stored is used only when it is smaller than the original
    if payload_size > size or (method == Method.STORED) != (payload_size == size):
        raise NeuralZipError(f"damaged stream: frame payload size {payload_size} for {size} bytes")
    return Frame(Method(method), size, payload_size, crc, last), end


def reframe(stream, header: StreamHeader) -> bytes:
    """One whole stream, its payloads unchanged, framed in header's version with header's model name and id (its
    chunk size must be the stream's): the same coded content as another version writes it, say for a reader of that
    version. The frames' CRCs go from one version's meaning to the other's by CRC arithmetic: nothing is decoded."""
    parsed = parse_header(stream)
    if parsed is None:
        raise ValueError("not a whole stream: it ends inside its header")
    source, pos = parsed
    if header.chunk_size != source.chunk_size:
        raise ValueError(f"the stream's chunk size is {source.chunk_size}, not {header.chunk_size}")
    frames, content_crc, total = [], 0, 0        # (frame, its payload); the CRC and size of the content so far
    while True:
        parsed = parse_frame(stream, pos, source)
        if parsed is None or (not isinstance(parsed[0], EndFrame) and len(stream) < parsed[1] + parsed[0].payload_size):
            raise ValueError("not a whole stream: it ends inside a frame")
        frame, pos = parsed
        if isinstance(frame, EndFrame):
            break
        own = frame.crc32
        if source.version >= 3:
            own = _continued_crc32(own ^ (_CRC_MASK if frame.last else 0), content_crc, frame.size)
        frames.append((frame, own, stream[pos:pos + frame.payload_size]))
        pos += frame.payload_size
        content_crc, total = _continued_crc32(own, content_crc, frame.size), total + frame.size
        if frame.last:
            break
    if pos != len(stream):
        raise ValueError("the stream is followed by other bytes: give one stream")
    out, content_crc = bytearray(header.to_bytes()), 0
    for number, (frame, own, payload) in enumerate(frames, 1):
        last = header.version >= 3 and number == len(frames)
        field = own
        if header.version >= 3:
            field = _continued_crc32(own, content_crc, frame.size) ^ (_CRC_MASK if last else 0)
        out += Frame(frame.method, frame.size, frame.payload_size, field, last).to_bytes(header.version) + payload
        content_crc = _continued_crc32(own, content_crc, frame.size)
    if header.version < 3 or not frames:
        out += EndFrame(total, len(frames), content_crc).to_bytes(header.version)
    return bytes(out)


def _continued_crc32(crc: int, before: int, size: int) -> int:
    """crc32(data, before) from crc32(data) for data of size bytes, and the other way round: CRC-32 is affine
    (over GF(2)) in its start value and its data, so the two differ by what they differ by on size zero bytes."""
    zeros = bytes(size)
    return crc ^ zlib.crc32(zeros, before) ^ zlib.crc32(zeros)
