"""Mutations of valid neuralzip streams, and the rule every mutated stream must obey.

Shared by tests/test_properties.py (fixed, quick cases), fuzz/mutate.py (random cases for as long as you like)
and fuzz/atheris_decompress.py (coverage-guided). The rule: decompressing a mutated stream either returns
exactly the original, or raises NeuralZipError or EOFError, within a time bound; anything else is a failure.
"""

from __future__ import annotations

import dataclasses
import random
import time
import zlib

import neuralzip
from neuralzip.format import parse_frame, parse_header

# fields of the header that a mutation may set (with the header CRC of versions 1 and 2 then made right again, so
# that the field itself is what the reader must judge): the bytes at a fixed offset, or fields that the header is
# written again with (in version 3, chunk_size is a power of two)
HEADER_BYTES = {"version": 4, "flags": 5, "coder": 6}
HEADER_BYTES_V3 = {"version": 4, "chunk_log2": 5}        # version 3's header has no CRC
HEADER_FIELDS = ("chunk_size", "model_id")
FRAME_FIELDS = ("method", "size", "payload_size", "crc32")
END_FIELDS = ("total_size", "frames", "crc32")


def split(blob: bytes) -> tuple[bytes, list[bytes], bytes]:
    """One valid stream -> (header, [frame with its payload, ...], end frame or b"" after a last frame)."""
    header, pos = parse_header(blob)
    head, frames = blob[:pos], []
    while True:
        frame, end = parse_frame(blob, pos, header)
        if not hasattr(frame, "payload_size"):          # the end frame
            return head, frames, blob[pos:end]
        frames.append(blob[pos:end + frame.payload_size])
        pos = end + frame.payload_size
        if frame.last:
            return head, frames, b""


def join(head: bytes, frames: list[bytes], end: bytes) -> bytes:
    return head + b"".join(frames) + end


def header_field_names(head: bytes) -> list[str]:
    """The fields set_header_field can set in head's version."""
    return list(HEADER_BYTES_V3 if parse_header(head)[0].version == 3 else HEADER_BYTES) + list(HEADER_FIELDS)


def set_header_field(head: bytes, name: str, value) -> bytes:
    """The header with one field changed (a byte of HEADER_BYTES or, in version 3, HEADER_BYTES_V3, or one of
    HEADER_FIELDS) and its CRC, if it has one, recomputed."""
    header, _ = parse_header(head)
    if header.version == 3 and name in HEADER_BYTES_V3:
        body = bytearray(head)
        body[HEADER_BYTES_V3[name]] = value
        return bytes(body)
    if name in HEADER_BYTES and header.version != 3:
        body = bytearray(head[:-4])
        body[HEADER_BYTES[name]] = value
        return bytes(body) + zlib.crc32(body).to_bytes(4, "little")
    return dataclasses.replace(header, **{name: value}).to_bytes()


def set_frame_field(head: bytes, raw: bytes, name: str, value) -> bytes:
    """A frame (with its payload) or the end, as written in the version of head, with one field changed."""
    header, _ = parse_header(head)
    frame, end = parse_frame(raw, 0, header)
    return dataclasses.replace(frame, **{name: value}).to_bytes(header.version) + raw[end:]


# ---------------------------------------------------------------------------------------------------------
# random mutations: each takes (stream, rng) and returns a mutated stream

def _flip_bit(b, rng):
    i = rng.randrange(len(b) * 8)
    return b[:i // 8] + bytes([b[i // 8] ^ (1 << i % 8)]) + b[i // 8 + 1:]


def _set_bytes(b, rng):
    out = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _insert(b, rng):
    i = rng.randrange(len(b) + 1)
    return b[:i] + rng.randbytes(rng.randint(1, 16)) + b[i:]


def _delete(b, rng):
    i = rng.randrange(len(b))
    return b[:i] + b[i + rng.randint(1, 16):]


def _truncate(b, rng):
    return b[:rng.randrange(len(b))]


def _append(b, rng):
    # garbage, or a cut copy of the stream (a whole copy would be a valid concatenation)
    return b + rng.choice([rng.randbytes(rng.randint(1, 32)), b[:rng.randint(1, len(b) - 1)]])


def _structural(b, rng):
    head, frames, end = split(b)
    kind = rng.choice(["swap", "duplicate", "drop", "header", "frame", "end", "reverse"])
    if kind == "header":
        name = rng.choice(header_field_names(head))
        if name == "model_id":
            value = rng.randbytes(len(parse_header(head)[0].model_id))
        elif name == "chunk_size" and parse_header(head)[0].version == 3:
            value = 1 << rng.randrange(21)
        else:
            value = rng.choice([0, 1, 2, 255, rng.randrange(256 if name != "chunk_size" else 1 << 32)])
        head = set_header_field(head, name, value)
    elif kind == "end" and not end:         # a version 3 stream, ended by its last frame: flip a frame's last bit
        i = rng.randrange(len(frames))
        last = parse_frame(frames[i], 0, parse_header(head)[0])[0].last
        frames[i] = set_frame_field(head, frames[i], "last", not last)
    elif kind == "end":
        name = rng.choice(END_FIELDS)
        end = set_frame_field(head, end, name, rng.randrange(1 << (32 if name == "crc32" else rng.choice([8, 32, 64]))))
    elif not frames:
        return _set_bytes(b, rng)
    elif kind == "frame":
        i = rng.randrange(len(frames))
        name = rng.choice(FRAME_FIELDS)
        value = rng.choice([0, 2, 3, 255]) if name == "method" else rng.randrange(1 << rng.choice([8, 16, 32]))
        frames[i] = set_frame_field(head, frames[i], name, value)
    elif kind == "swap":
        i, j = rng.randrange(len(frames)), rng.randrange(len(frames))
        frames[i], frames[j] = frames[j], frames[i]
    elif kind == "duplicate":
        i = rng.randrange(len(frames))
        frames.insert(rng.randrange(len(frames) + 1), frames[i])
    elif kind == "drop":
        del frames[rng.randrange(len(frames))]
    else:
        frames.reverse()
    return join(head, frames, end)


MUTATORS = [_flip_bit, _set_bytes, _insert, _delete, _truncate, _append, _structural]


def mutate(blob: bytes, rng: random.Random) -> bytes:
    """One to three random mutations of a valid stream (structural ones only while it still parses)."""
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(MUTATORS)
        try:
            mutated = op(blob, rng)
        except (neuralzip.NeuralZipError, TypeError, ValueError, IndexError):   # no longer splits into frames
            mutated = _set_bytes(blob, rng)
        blob = mutated or b"\x00"
    return blob


# ---------------------------------------------------------------------------------------------------------

class RuleBroken(AssertionError):
    """A mutated stream did something other than round-trip or raise NeuralZipError / EOFError in time."""


def check(original: bytes | set[bytes], blob: bytes, seconds: float = 60.0) -> str:
    """Decompress blob; return "identical", "NeuralZipError" or "EOFError", or raise RuleBroken.

    original is the content, or the set of contents allowed: a cut between two concatenated streams leaves a
    valid stream, as it does in gzip or zstd.
    """
    allowed = original if isinstance(original, set) else {original}
    start = time.monotonic()
    try:
        out = neuralzip.decompress(blob)
        if out not in allowed:
            raise RuleBroken(f"wrong output: {len(out)} bytes, not the original")
        outcome = "identical"
    except (neuralzip.NeuralZipError, EOFError) as e:
        outcome = type(e).__name__
    except RuleBroken:
        raise
    except Exception as e:
        raise RuleBroken(f"{type(e).__name__}: {e}") from e
    elapsed = time.monotonic() - start
    if elapsed > seconds:
        raise RuleBroken(f"took {elapsed:.1f} s (bound {seconds} s)")
    return outcome
