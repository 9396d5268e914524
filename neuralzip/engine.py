"""Chunks -> lockstep batches through the model on its device, and the choice of method for each chunk.

Each chunk starts from the predictor's initial state. With a grouped match model (neuralzip.predictor) the chunks
of a group share a match table: every chunk of the group that is not near-random is a member, whatever method it
goes out with, so a group is coded in one pass, and a reader feeds the members it already holds (zstd or stored)
into the lockstep by their bytes while it decodes the neural ones. A batch runs all its chunks one token per step,
the state resident on the model's device; only the frequencies (down) and the symbols (up) cross to the host,
where the range coders run: one per chunk, and one per group that codes its chunks' symbols in lockstep order (a
neural run, one frame for the group: about 15 bytes less per chunk). The model's arithmetic is exact, so the
output does not depend on how groups are batched.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import zstandard

from .coder import RangeDecoders, RangeEncoders
from .errors import NeuralZipError
from .format import MAX_GROUP_FRAMES, Method, frame_header_size
from .mixer import BitMixer
from .model import LSTMModel
from .pipeline import share_threads
from .predictor import Predictor, chunk_groups
from .spans import floor, lzma_decompress

ZSTD_LEVEL = 19
ZSTD_FAST_LEVEL = 3   # for chunks of near-random bytes, where level 19 costs 50 times the time to find nothing
ZSTD_HOPELESS = 4, 3  # level 19 is tried only where level 3 is within 4/3 of the best so far: on a 4 KiB chunk of
                      # text the model's payload is half of zstd's, and level 19 took a thirtieth of the fast
                      # level's time to lose every time
NOISE_COLLISIONS = 128  # a chunk whose byte-collision rate is below 1/128 (Renyi entropy above 7 bits per byte)
                        # is near-random: compressed or encrypted data, where the model cannot win
WINDOW_ELEMENTS = 1 << 22  # frequencies (int64, 8 bytes each) gathered on a GPU before the coders take them


class Encoded(NamedTuple):
    """What neural_encode makes of a batch: each chunk range-coded alone, and each group of two or more chunks
    coded together by one coder, their symbols in lockstep order (step by step, each chunk that has a byte at
    that step, in the batch's order), which saves a frame header and a coder flush per chunk."""
    alone: list[bytes]
    together: list[tuple[list[int], bytes]]     # (the group's chunks, by index in the batch, and their payload)


def neural_encode(model: LSTMModel, chunks: list[bytes], groups: list[int]) -> Encoded:
    """Range-code the chunks under the model, chunk i in group groups[i]; all chunks advance together."""
    lengths = np.array([len(c) for c in chunks], dtype=np.int64)
    steps = int(lengths.max())
    symbols = np.zeros((len(chunks), steps), dtype=np.uint8)                                # (B, T)
    for b, chunk in enumerate(chunks):
        symbols[b, :len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
    where = model.backend
    steps_dev = where.array(np.ascontiguousarray(symbols.T, np.int64))                      # (T, B)
    members = {}
    for b, g in enumerate(groups):
        members.setdefault(g, []).append(b)
    runs = [rows for rows in members.values() if len(rows) > 1]
    # coder b codes chunk b alone; coder B + r codes run r, its chunks' symbols in lockstep order
    targets = np.full((len(chunks), 2), -1, dtype=np.int64)                                 # (B, 2)
    targets[:, 0] = np.arange(len(chunks))
    for r, rows in enumerate(runs):
        targets[rows, 1] = len(chunks) + r
    coders = RangeEncoders(lengths.tolist() + [int(lengths[rows].sum()) for rows in runs],
                           BitMixer.of(model.config, groups, lengths.tolist()))
    predictor = Predictor(model, len(chunks), steps, groups, lengths.tolist())
    # on a GPU the frequencies cross to the host a window of steps at a time (at most 32 MiB, at least 8 steps a
    # transfer); on the CPU each step's are coded where they lie
    vocab = model.config.vocab_size
    on_host = where.type == "cpu"
    window = None if on_host else where.zeros((max(8, WINDOW_ELEMENTS // (len(chunks) * vocab)), len(chunks),
                                               vocab), np.int64)                            # (W, B, V)
    filled = 0
    for t in range(steps):
        if t % 16 == 0:
            share_threads()
        if on_host:
            freqs = np.ascontiguousarray(where.to_host(predictor.frequencies()), np.int64)[None]   # (1, B, V)
            coders.encode_window(freqs, symbols, t, lengths, targets)
            predictor.advance(steps_dev[t])
            continue
        window[filled].copy_(predictor.frequencies())
        filled += 1
        predictor.advance(steps_dev[t])
        if filled == len(window) or t == steps - 1:
            coders.encode_window(where.to_host(window[:filled]), symbols, t + 1 - filled, lengths, targets)
            filled = 0
    payloads = coders.finish()
    return Encoded(payloads[:len(chunks)], [(rows, p) for rows, p in zip(runs, payloads[len(chunks):])])


def neural_decode(model: LSTMModel, payloads: list[tuple[bytes, list[int]]], lengths: list[int],
                  groups: list[int], known: list[bytes | None] | None = None) -> list[bytes]:
    """Inverse of neural_encode: each (payload, rows) decodes into those rows (one chunk, or a run of them in
    lockstep order), each exactly its length of bytes. Rows that no payload names have known bytes (known[i]),
    fed in as they are for the sake of their groups."""
    known = known or [None] * len(lengths)
    ends = np.array(lengths, dtype=np.int64)
    decoders = RangeDecoders([p for p, _ in payloads], BitMixer.of(model.config, groups, lengths))
    sources = np.full(len(lengths), -1, dtype=np.int64)           # which decoder each row's symbols come from
    for d, (_, rows) in enumerate(payloads):
        sources[rows] = d
    steps = max(lengths)
    out = np.zeros((len(lengths), steps), dtype=np.uint8)                                   # (B, T)
    for b, k in enumerate(known):
        if k is not None:
            out[b, :len(k)] = np.frombuffer(k, dtype=np.uint8)
    symbols = np.zeros(len(lengths), dtype=np.int64)
    predictor = Predictor(model, len(lengths), steps, groups, lengths)
    for t in range(steps):
        if t % 16 == 0:
            share_threads()
        freqs = np.ascontiguousarray(model.backend.to_host(predictor.frequencies()), np.int64)
        symbols[:] = out[:, t]
        decoders.decode_step(freqs, t, ends, sources, symbols)
        out[:, t] = symbols
        predictor.advance(model.backend.array(symbols.copy()))   # symbols is rewritten next step
    return [out[b, :n].tobytes() for b, n in enumerate(lengths)]


def looks_random(chunk: bytes) -> bool:
    """Whether chunk is near-random bytes (compressed, encrypted), which the model is not tried on.

    Integer arithmetic only, so the choice, and with it the stream, is the same on every machine.
    """
    counts = np.bincount(np.frombuffer(chunk, dtype=np.uint8), minlength=256).astype(np.int64)
    return int(counts @ counts) * NOISE_COLLISIONS < len(chunk) ** 2


def encode_chunks(model_for_neural, chunks: list[bytes], offsets: list[int],
                  floor_groups: int | None = None) -> list[tuple[Method, bytes, int]]:
    """The chunks as frames (method, payload, how many chunks it holds), in order: each chunk by whichever of
    neural, zstd and stored is smallest, except that a group whose chunks follow one another goes out as one
    neural run when that is smaller than its chunks' frames. offsets: where each chunk begins in the stream's
    content, which fixes its group (see neuralzip.predictor); whole groups only. model_for_neural() gives the
    model, called only when some chunk is not near-random. With floor_groups (the model's group bytes), the
    chunks are whole spans, and each goes through the span floor here (neuralzip.spans), in the batch's worker."""
    noise = [looks_random(c) for c in chunks]
    modelled = [i for i, r in enumerate(noise) if not r]
    encoded = Encoded([], [])
    if modelled:
        model = model_for_neural()
        groups = chunk_groups([offsets[i] for i in modelled], model.config.match_group_bytes)
        encoded = neural_encode(model, [chunks[i] for i in modelled], groups)
    neural = dict(zip(modelled, encoded.alone))
    careful, fast = zstandard.ZstdCompressor(level=ZSTD_LEVEL), zstandard.ZstdCompressor(level=ZSTD_FAST_LEVEL)
    single = []
    for i, (chunk, r) in enumerate(zip(chunks, noise)):
        quick = fast.compress(chunk)
        candidates = [(Method.STORED, chunk), (Method.ZSTD, quick)] + ([] if r else [(Method.NEURAL, neural[i])])
        best = min(candidates, key=lambda c: len(c[1]))            # the first of the smallest
        if not r and len(quick) * ZSTD_HOPELESS[1] < len(best[1]) * ZSTD_HOPELESS[0]:
            slow = careful.compress(chunk)
            if len(slow) < len(best[1]):
                best = (Method.ZSTD, slow)
        single.append((*best, 1))
    runs = {}                                   # first chunk -> the group's chunks and their run's payload
    for rows, payload in encoded.together:
        run = [modelled[r] for r in rows]
        if run[-1] == run[0] + len(run) - 1:    # one after another: no near-random chunk between them
            runs[run[0]] = run, payload
    result, i = [], 0
    while i < len(chunks):
        run, payload = runs.get(i, ((), b""))
        if run and _framed(sum(len(chunks[j]) for j in run), payload) < sum(
                _framed(len(chunks[j]), single[j][1]) for j in run):
            result.append((Method.NEURAL_RUN, payload, len(run)))
            i += len(run)
        else:
            result.append(single[i])
            i += 1
    return result if floor_groups is None else floor(chunks, result, offsets, floor_groups)


def decode_chunks(model_for_neural, frames: list[tuple[Method, bytes, int]], offsets: list[int],
                  chunk_size: int) -> list[bytes]:
    """frames: (method, payload, original size) -> the original content of each; offsets as for encode_chunks,
    whole groups only; chunk_size: the stream's, at whose multiples neural runs, zstd and stored frames hold their
    chunks. model_for_neural() gives the model, called only when a neural frame or run is present."""
    out: list[bytes | None] = [None] * len(frames)
    zd = zstandard.ZstdDecompressor()
    for i, (method, payload, size) in enumerate(frames):
        if method == Method.STORED:
            out[i] = payload
        elif method == Method.ZSTD:
            try:
                # a content size in the zstd header is allocated up front: check it before trusting it
                if zstandard.frame_content_size(payload) not in (size, -1):
                    raise zstandard.ZstdError("its header gives another content size")
                out[i] = zd.decompress(payload, max_output_size=size)
            except zstandard.ZstdError as e:
                raise NeuralZipError(f"damaged stream: zstd frame does not decompress ({e})") from None
        elif method == Method.LZMA:
            out[i] = lzma_decompress(payload, size)
    neural = [i for i, (m, _, _) in enumerate(frames) if m in (Method.NEURAL, Method.NEURAL_RUN)]
    if not neural:
        return out
    model = model_for_neural()
    group_bytes = model.config.match_group_bytes
    # rows in content order: the chunks of neural frames and runs, and the other members of their groups, by
    # their bytes
    rows = []
    for i in neural:
        size = frames[i][2]
        step = chunk_size if frames[i][0] == Method.NEURAL_RUN else size
        rows += [_Row(offsets[i] + s, min(step, size - s), frame=i) for s in range(0, size, step)]
    if group_bytes:
        rows += _known_members(frames, out, offsets, chunk_size, group_bytes,
                               {offsets[i] // group_bytes for i in neural})
        rows.sort(key=lambda row: row.offset)
    of_frame = {}
    for r, row in enumerate(rows):
        if row.known is None:
            of_frame.setdefault(row.frame, []).append(r)
    groups = chunk_groups([row.offset for row in rows], group_bytes)
    decoded = neural_decode(model, [(frames[i][1], of_frame[i]) for i in neural], [r.length for r in rows],
                            groups, [r.known for r in rows])
    for i in neural:
        out[i] = b"".join(decoded[r] for r in of_frame[i])
    return out


def _framed(size: int, payload: bytes) -> int:
    """Bytes of a frame of payload for size original bytes, header and all."""
    return frame_header_size(size, len(payload)) + len(payload)


class _Row(NamedTuple):
    """One stream of a decoding batch: a chunk of a neural frame or run to decode (frame: its index), or a member
    whose bytes are known."""
    offset: int
    length: int
    known: bytes | None = None
    frame: int = -1


def _known_members(frames, contents, offsets, chunk_size, group_bytes, groups) -> list[_Row]:
    """The members of groups that went out zstd, LZMA or stored, as rows of known bytes: each such frame cut at the
    chunk boundaries (a stored frame may join several chunks; a writer never lets one cross into another group, and a
    piece that does is no member), less the near-random pieces, as a writer cut them."""
    rows, count = [], {}
    for i, (method, _, size) in enumerate(frames):
        group = offsets[i] // group_bytes
        if method in (Method.NEURAL, Method.NEURAL_RUN) or group not in groups:
            continue
        start = offsets[i]
        end = min(start + size, (group + 1) * group_bytes)
        # count first, so a damaged header's tiny chunk size cannot make millions of pieces
        count[group] = count.get(group, 0) + -(-end // chunk_size) - start // chunk_size
        if count[group] > MAX_GROUP_FRAMES:
            raise NeuralZipError(f"damaged stream: more than {MAX_GROUP_FRAMES} chunks in one match group")
        cut = start
        while cut < end:
            piece_end = min(end, (cut // chunk_size + 1) * chunk_size)
            piece = contents[i][cut - start:piece_end - start]
            if not looks_random(piece):
                rows.append(_Row(cut, len(piece), known=piece))
            cut = piece_end
    return rows
