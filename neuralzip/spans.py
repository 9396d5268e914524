"""The span floor: a 4 MiB span of content, or a run of its chunks that the model did not win, as one LZMA2 frame
wherever that is smaller than the frames chosen chunk by chunk.

Chunks are coded alone, so a classical method sees 4 KiB at a time; on data whose redundancy lies in repeats far
apart (records that repeat, tables, executables, spreadsheets) one LZMA2 stream over the whole span finds them.
Every choice depends on the span's bytes alone, so the stream is the same however the spans are batched.
"""

from __future__ import annotations

import lzma
from dataclasses import dataclass, field

import zstandard

from .errors import NeuralZipError
from .format import MAX_GROUP_BYTES, Method, frame_header_size

SPAN_BYTES = MAX_GROUP_BYTES     # no frame crosses a multiple of this: spans are independent of one another
LZMA_DICT_BYTES = SPAN_BYTES     # a dictionary that holds a whole span (the format fixes it: a reader allocates it)
_LZMA2 = {"id": lzma.FILTER_LZMA2, "dict_size": LZMA_DICT_BYTES}
# an LZMA frame's first byte names its filter chain: LZMA2 alone, or x86 branch conversion first (xz --x86: calls
# and jumps made absolute, so repeated targets repeat)
FILTER_CHAINS = {0: [_LZMA2], 1: [{"id": lzma.FILTER_X86}, _LZMA2]}
_PRESET = 9 | lzma.PRESET_EXTREME               # xz -9e
X86_CALLS = 128   # the x86 chain is tried where 0xE8 (call) is more than 1/128 of the bytes: 1/256 in random data
# LZMA2 is tried only where zstd's fast level comes within 4/3 of the frames it would replace: on text the
# model's frames are well under that, and LZMA2 at -9e runs at about 1 MB/s
PROMISING = 4, 3
QUICK_LEVEL = 3


def lzma_compress(data: bytes) -> bytes:
    """The smallest LZMA frame payload for data: its filter chain's number, then the raw stream."""
    chains = [0, 1] if data.count(0xE8) * X86_CALLS > len(data) else [0]
    return min((bytes([c]) + lzma.compress(data, format=lzma.FORMAT_RAW, filters=[
        {**f, "preset": _PRESET} if f["id"] == lzma.FILTER_LZMA2 else f for f in FILTER_CHAINS[c]]) for c in chains),
        key=len)


def lzma_decompress(payload: bytes, size: int) -> bytes:
    """The size bytes an LZMA frame's payload holds; NeuralZipError unless it holds exactly those."""
    if not payload or payload[0] not in FILTER_CHAINS:
        raise NeuralZipError(f"damaged stream: LZMA frame names no filter chain neuralzip knows "
                             f"({payload[:1].hex() or 'none'}); a newer neuralzip may read it")
    decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=FILTER_CHAINS[payload[0]])
    try:
        out = decompressor.decompress(payload[1:], max_length=size)
    except lzma.LZMAError as e:
        raise NeuralZipError(f"damaged stream: LZMA frame does not decompress ({e})") from None
    if len(out) != size or not decompressor.eof or decompressor.unused_data:
        raise NeuralZipError(f"damaged stream: LZMA frame does not hold exactly {size} bytes")
    return out


def _cost(sizes: list[int], coded: list[tuple[Method, bytes, int]]) -> int:
    """Bytes of frames for coded (sizes: the original bytes of each), consecutive stored ones joined as a writer
    joins them."""
    total, stored = 0, 0
    for size, (method, payload, _) in zip(sizes, coded):
        if method == Method.STORED:
            stored += size
            continue
        if stored:
            total += frame_header_size(stored, stored) + stored
            stored = 0
        total += frame_header_size(size, len(payload)) + len(payload)
    if stored:
        total += frame_header_size(stored, stored) + stored
    return total


def _replace(content: bytes, sizes: list[int], coded: list) -> list:
    """coded, or one LZMA frame of content (the bytes coded holds) where that is smaller."""
    cost = _cost(sizes, coded)
    # a compressor of its own each time: batches run this on several threads, and a ZstdCompressor shared between
    # threads crashes the process (python-zstandard's objects are not thread-safe)
    if len(zstandard.ZstdCompressor(level=QUICK_LEVEL).compress(content)) * PROMISING[1] >= cost * PROMISING[0]:
        return coded
    payload = lzma_compress(content)
    if frame_header_size(len(content), len(payload)) + len(payload) >= cost or len(payload) >= len(content):
        return coded
    return [(Method.LZMA, payload, sum(count for _, _, count in coded))]


def floor(chunks: list[bytes], coded: list[tuple[Method, bytes, int]], offsets: list[int], group_bytes: int) -> list:
    """coded (frames as engine.encode_chunks makes them: method, payload, how many chunks) with each 4 MiB span
    as one LZMA frame where that is smaller, and otherwise each run of two or more frames that are not neural.
    A run stays inside its match group (group_bytes, 0 for none): a piece of a frame that starts in another
    group is no member of its own, and the neural frames there were coded with it as one."""
    spans: dict[int, list] = {}      # span -> its frames, each with the index of its first chunk
    first = 0
    for entry in coded:
        spans.setdefault(offsets[first] // SPAN_BYTES, []).append((first, entry))
        first += entry[2]
    result = []
    for members in spans.values():
        runs, run = [], []           # the span's frames, split around neural ones and at groups' bounds
        for member in members:
            if member[1][0] in (Method.NEURAL, Method.NEURAL_RUN):
                runs += [run, [member]] if run else [[member]]
                run = []
                continue
            if run and group_bytes and offsets[run[0][0]] // group_bytes != offsets[member[0]] // group_bytes:
                runs.append(run)
                run = []
            run.append(member)
        runs += [run] if run else []
        neural = [run[0][1][0] in (Method.NEURAL, Method.NEURAL_RUN) for run in runs]
        if len(runs) > 1 or neural[0]:   # the whole span first (unless it is one run the loop below tries)
            whole = _replace_run(chunks, members)
            if whole[0][0] == Method.LZMA:
                result += whole
                continue
        for run, is_neural in zip(runs, neural):
            result += [entry for _, entry in run] if is_neural or len(run) < 2 else _replace_run(chunks, run)
    return result


def _replace_run(chunks: list[bytes], run: list[tuple[int, tuple]]) -> list:
    """The frames of run (consecutive, each with the index of its first chunk), or one LZMA frame of their
    content where that is smaller."""
    sizes = [sum(len(c) for c in chunks[i:i + entry[2]]) for i, entry in run]
    begin, end = run[0][0], run[-1][0] + run[-1][1][2]
    return _replace(b"".join(chunks[begin:end]), sizes, [entry for _, entry in run])


@dataclass
class Span:
    """The chunks of one span as they were coded, gathered across batches."""
    index: int
    chunks: list[bytes] = field(default_factory=list)
    coded: list[tuple[Method, bytes, int]] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)     # of each chunk in the stream's content

    def add(self, chunks: list[bytes], entry: tuple[Method, bytes, int], offsets: list[int]) -> None:
        self.chunks += chunks
        self.coded.append(entry)
        self.offsets += offsets

    def floor(self, group_bytes: int) -> list[tuple[Method, bytes, int]]:
        return floor(self.chunks, self.coded, self.offsets, group_bytes) if self.coded else []
