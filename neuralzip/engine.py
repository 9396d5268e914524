"""Chunks -> lockstep batches through the model on its device, and the choice of method for each chunk.

Each chunk starts from the predictor's initial state. With a grouped match model (neuralzip.predictor) the chunks
of a group share a match table: every chunk of the group that is not near-random is a member, whatever method it
goes out with, so a group is coded in one pass, and a reader feeds the members it already holds (zstd or stored)
into the lockstep by their bytes while it decodes the neural ones. A batch runs all its chunks one token per step,
the state resident on the model's device; only the frequencies (down) and the symbols (up) cross to the host,
where each chunk has its own range coder. The model's arithmetic is exact, so the output does not depend on how
groups are batched.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import zstandard

from .coder import ChunkDecoder, ChunkEncoder
from .errors import NeuralZipError
from .format import MAX_GROUP_FRAMES, Method
from .model import LSTMModel
from .predictor import Predictor, chunk_groups

ZSTD_LEVEL = 19
ZSTD_FAST_LEVEL = 3   # for chunks of near-random bytes, where level 19 costs 50 times the time to find nothing
NOISE_COLLISIONS = 128  # a chunk whose byte-collision rate is below 1/128 (Renyi entropy above 7 bits per byte)
                        # is near-random: compressed or encrypted data, where the model cannot win
WINDOW_ELEMENTS = 1 << 22  # frequencies (4 bytes each) gathered on the device before the coders take them


def neural_encode(model: LSTMModel, chunks: list[bytes], groups: list[int]) -> list[bytes]:
    """Range-code each chunk under the model, chunk i in group groups[i]; all chunks advance together."""
    lengths = [len(c) for c in chunks]
    steps = max(lengths)
    symbols = np.zeros((len(chunks), steps), dtype=np.uint8)                                # (B, T)
    for b, chunk in enumerate(chunks):
        symbols[b, :len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
    symbols_dev = torch.from_numpy(symbols).to(model.device)
    encoders = [ChunkEncoder() for _ in chunks]
    predictor = Predictor(model, len(chunks), steps, groups, lengths)
    # steps per window: bounded in memory whatever the batch (16 MiB of frequencies), at least 8 per transfer
    window_steps = max(8, WINDOW_ELEMENTS // (len(chunks) * model.config.vocab_size))
    window = []
    for t in range(steps):
        window.append(predictor.frequencies())                                             # (B, V)
        predictor.advance(symbols_dev[:, t].long())
        if len(window) == window_steps or t == steps - 1:
            start = t + 1 - len(window)
            freqs = torch.stack(window, dim=1).cpu().numpy()                               # (B, W, V)
            for b, enc in enumerate(encoders):
                n = min(lengths[b] - start, len(window))
                if n > 0:
                    enc.encode(symbols[b, start:start + n].astype(np.int32), freqs[b, :n].astype(np.float64))
            window = []
    return [enc.finish() for enc in encoders]


def neural_decode(model: LSTMModel, payloads: list[bytes | None], lengths: list[int], groups: list[int],
                  known: list[bytes | None] | None = None) -> list[bytes]:
    """Inverse of neural_encode: decode each payload into exactly its length of bytes. Rows whose bytes are
    already known (known[i], with payloads[i] None) are fed in as they are, for the sake of their groups."""
    known = known or [None] * len(payloads)
    decoders = [ChunkDecoder(p) if k is None else None for p, k in zip(payloads, known)]
    steps = max(lengths)
    out = np.zeros((len(payloads), steps), dtype=np.uint8)                                  # (B, T)
    for b, k in enumerate(known):
        if k is not None:
            out[b, :len(k)] = np.frombuffer(k, dtype=np.uint8)
    symbols = np.zeros(len(payloads), dtype=np.int64)
    predictor = Predictor(model, len(payloads), steps, groups, lengths)
    active = [b for b, d in enumerate(decoders) if d is not None]
    for t in range(steps):
        freqs = predictor.frequencies().cpu().numpy().astype(np.float64)
        symbols[:] = out[:, t]
        active = [b for b in active if t < lengths[b]]
        for b in active:
            symbols[b] = decoders[b].decode(freqs[b:b + 1])
        out[:, t] = symbols
        predictor.advance(torch.from_numpy(symbols.copy()).to(model.device))   # symbols is rewritten next step
    return [out[b, :n].tobytes() for b, n in enumerate(lengths)]


def looks_random(chunk: bytes) -> bool:
    """Whether chunk is near-random bytes (compressed, encrypted), which the model is not tried on.

    Integer arithmetic only, so the choice, and with it the stream, is the same on every machine.
    """
    counts = np.bincount(np.frombuffer(chunk, dtype=np.uint8), minlength=256).astype(np.int64)
    return int(counts @ counts) * NOISE_COLLISIONS < len(chunk) ** 2


def encode_chunks(model: LSTMModel, chunks: list[bytes], offsets: list[int]) -> list[tuple[Method, bytes]]:
    """Each chunk as (method, payload), whichever of neural, zstd and stored is smallest. offsets: where each
    chunk begins in the stream's content, which fixes its group (see neuralzip.predictor); whole groups only."""
    noise = [looks_random(c) for c in chunks]
    modelled = [i for i, r in enumerate(noise) if not r]
    groups = chunk_groups([offsets[i] for i in modelled], model.config.match_group_bytes)
    neural = dict(zip(modelled, neural_encode(model, [chunks[i] for i in modelled], groups) if modelled else []))
    careful, fast = zstandard.ZstdCompressor(level=ZSTD_LEVEL), zstandard.ZstdCompressor(level=ZSTD_FAST_LEVEL)
    result = []
    for i, (chunk, r) in enumerate(zip(chunks, noise)):
        best = (Method.STORED, chunk)
        candidates = [(Method.ZSTD, (fast if r else careful).compress(chunk))]
        if not r:
            candidates.append((Method.NEURAL, neural[i]))
        for method, payload in candidates:
            if len(payload) < len(best[1]):
                best = (method, payload)
        result.append(best)
    return result


def decode_chunks(model_for_neural, frames: list[tuple[Method, bytes, int]], offsets: list[int],
                  chunk_size: int) -> list[bytes]:
    """frames: (method, payload, original size) -> the original chunks; offsets as for encode_chunks, whole
    groups only; chunk_size: the stream's, at whose multiples zstd and stored frames hold their groups' members.
    model_for_neural() gives the model, called only when a neural frame is present."""
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
    neural = [i for i, (m, _, _) in enumerate(frames) if m == Method.NEURAL]
    if not neural:
        return out
    model = model_for_neural()
    group_bytes = model.config.match_group_bytes
    # rows in content order: the neural frames, and the other members of their groups, by their bytes
    rows = [_Row(offsets[i], frames[i][2], payload=frames[i][1], frame=i) for i in neural]
    if group_bytes:
        rows += _known_members(frames, out, offsets, chunk_size, group_bytes,
                               {offsets[i] // group_bytes for i in neural})
        rows.sort(key=lambda row: row.offset)
    groups = chunk_groups([row.offset for row in rows], group_bytes)
    decoded = neural_decode(model, [r.payload for r in rows], [r.length for r in rows], groups,
                            [r.known for r in rows])
    for row, data in zip(rows, decoded):
        if row.known is None:
            out[row.frame] = data
    return out


class _Row(NamedTuple):
    """One stream of a decoding batch: a neural frame to decode (payload), or a member whose bytes are known."""
    offset: int
    length: int
    payload: bytes | None = None
    known: bytes | None = None
    frame: int = -1


def _known_members(frames, contents, offsets, chunk_size, group_bytes, groups) -> list[_Row]:
    """The members of groups that went out zstd or stored, as rows of known bytes: each such frame cut at the chunk
    boundaries (a stored frame may join several chunks; a writer never lets one cross into another group, and a
    piece that does is no member), less the near-random pieces, as a writer cut them."""
    rows, count = [], {}
    for i, (method, _, size) in enumerate(frames):
        group = offsets[i] // group_bytes
        if method == Method.NEURAL or group not in groups:
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
