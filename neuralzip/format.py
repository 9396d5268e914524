"""The .nz stream format, version 1: headers, frames and checksums, as bytes only (see FORMAT.md).

Parsers take a buffer and a position and return ``None`` when the buffer ends before the item does, so the
same code serves whole buffers and incremental decompression; damaged bytes raise NeuralZipError.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

from .errors import NeuralZipError

MAGIC = b"\x89NZP"
FORMAT_VERSION = 1
CODER_RANGE_V1 = 1          # constriction queue range coder, 32-bit words, Categorical(perfect=False)
MAX_CHUNK_SIZE = 1 << 20   # bounds the work and memory one (possibly damaged) frame can cost a reader
MAX_STORED_SIZE = 1 << 22   # a stored frame may join consecutive stored chunks, up to this size
MAX_GROUP_BYTES = 1 << 22   # a model's match groups span a power of two of content bytes, at most this
MAX_GROUP_FRAMES = 1024     # frames that start in one such span, and chunks in one match group (4 MiB of 4 KiB
                            # chunks): bounds what a reader holds and decodes together, whatever a damaged stream says

_HEAD = struct.Struct("<4sBBBI32sB")   # magic, version, flags, coder, chunk_size, model sha256, name length
_FRAME = struct.Struct("<BIII")        # method, original size, payload size, crc32 of the original
FRAME_BYTES = _FRAME.size
_END = struct.Struct("<BQII")          # END, total original size, frame count, crc32 of all original bytes
_CRC = struct.Struct("<I")


class Method(IntEnum):
    STORED = 0
    ZSTD = 1
    NEURAL = 2
    NEURAL_RUN = 3          # consecutive chunks of one match group, range-coded together
    END = 0xFF


@dataclass(frozen=True)
class StreamHeader:
    model_name: str
    model_sha256: bytes
    chunk_size: int
    coder: int = CODER_RANGE_V1

    def to_bytes(self) -> bytes:
        name = self.model_name.encode()
        head = _HEAD.pack(MAGIC, FORMAT_VERSION, 0, self.coder, self.chunk_size, self.model_sha256, len(name)) + name
        return head + _CRC.pack(zlib.crc32(head))


@dataclass(frozen=True)
class Frame:
    method: Method
    size: int               # original bytes
    payload_size: int
    crc32: int              # of the original bytes

    def to_bytes(self) -> bytes:
        return _FRAME.pack(self.method, self.size, self.payload_size, self.crc32)


@dataclass(frozen=True)
class EndFrame:
    total_size: int
    frames: int
    crc32: int

    def to_bytes(self) -> bytes:
        return _END.pack(Method.END, self.total_size, self.frames, self.crc32)


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
    if len(buf) - pos < _HEAD.size:
        return None
    magic, version, flags, coder, chunk_size, sha, name_len = _HEAD.unpack_from(buf, pos)
    if version != FORMAT_VERSION:
        raise NeuralZipError(f"stream format version {version} is not supported by this neuralzip "
                             f"(it reads version {FORMAT_VERSION}); upgrade neuralzip to read it")
    end = pos + _HEAD.size + name_len + _CRC.size
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
        name = bytes(buf[pos + _HEAD.size:end - 4]).decode()
    except UnicodeDecodeError:
        raise NeuralZipError("stream header is damaged (model name is not UTF-8)") from None
    return StreamHeader(name, bytes(sha), chunk_size, coder), end


def parse_frame(buf, pos: int, header: StreamHeader) -> tuple[Frame | EndFrame, int] | None:
    """The frame header (not its payload) or end frame at buf[pos:], and where it ends; None if buf ends first."""
    if len(buf) - pos < 1:
        return None
    method = buf[pos]
    if method == Method.END:
        if len(buf) - pos < _END.size:
            return None
        _, total, frames, crc = _END.unpack_from(buf, pos)
        return EndFrame(total, frames, crc), pos + _END.size
    if len(buf) - pos < _FRAME.size:
        return None
    method, size, payload_size, crc = _FRAME.unpack_from(buf, pos)
    if method not in (Method.STORED, Method.ZSTD, Method.NEURAL, Method.NEURAL_RUN):
        raise NeuralZipError(f"damaged stream: unknown frame method {method} (or one from a newer neuralzip: "
                             "upgrade neuralzip to read it)")
    limit = {Method.STORED: max(header.chunk_size, MAX_STORED_SIZE),       # stored frames may join chunks
             Method.NEURAL_RUN: min(MAX_GROUP_BYTES, header.chunk_size * MAX_GROUP_FRAMES),
             }.get(method, header.chunk_size)
    if not 0 < size <= limit:
        raise NeuralZipError(f"damaged stream: frame size {size} outside 1..{limit}")
    # every method but stored is used only when it is smaller than the original
    if payload_size > size or (method == Method.STORED) != (payload_size == size):
        raise NeuralZipError(f"damaged stream: frame payload size {payload_size} for {size} bytes")
    return Frame(Method(method), size, payload_size, crc), pos + _FRAME.size
