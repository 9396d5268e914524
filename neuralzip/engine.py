"""Chunks -> lockstep batches through the model on its device, and the choice of method for each chunk.

Each chunk starts from the predictor's initial state; chunks of one group share a match table (see
neuralzip.predictor), so a group is always coded whole, in one batch. A batch runs all its chunks one token per
step, the state resident on the model's device; only the frequencies (down) and the symbols (up) cross to the
host, where each chunk has its own range coder. The model's arithmetic is exact, so the output does not depend
on how groups are batched.
"""

from __future__ import annotations

import numpy as np
import torch
import zstandard

from .coder import ChunkDecoder, ChunkEncoder
from .errors import NeuralZipError
from .format import Method
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


def neural_decode(model: LSTMModel, payloads: list[bytes], lengths: list[int], groups: list[int]) -> list[bytes]:
    """Inverse of neural_encode: decode each payload into exactly its length of bytes."""
    decoders = [ChunkDecoder(p) for p in payloads]
    steps = max(lengths)
    out = np.zeros((len(payloads), steps), dtype=np.uint8)
    symbols = np.zeros(len(payloads), dtype=np.int64)
    predictor = Predictor(model, len(payloads), steps, groups, lengths)
    active = list(range(len(payloads)))
    for t in range(steps):
        freqs = predictor.frequencies().cpu().numpy().astype(np.float64)
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
    groups = chunk_groups(offsets, model.config.match_group_bytes)
    noise = [looks_random(c) for c in chunks]
    careful, fast = zstandard.ZstdCompressor(level=ZSTD_LEVEL), zstandard.ZstdCompressor(level=ZSTD_FAST_LEVEL)
    result = []
    for chunk, r in zip(chunks, noise):
        zstd = (Method.ZSTD, (fast if r else careful).compress(chunk))
        result.append(zstd if len(zstd[1]) < len(chunk) else (Method.STORED, chunk))
    # The neural chunks of a group are those that go out neural; a chunk that loses to zstd or stored leaves
    # its group, which changes what the others could match, so the rest of that group is coded again. Each
    # round removes a chunk, so this ends; with groups of one chunk it takes one round.
    members = [i for i, r in enumerate(noise) if not r]
    neural = {}
    while members:
        payloads = neural_encode(model, [chunks[i] for i in members], [groups[i] for i in members])
        losers = {i for i, p in zip(members, payloads) if len(p) >= len(result[i][1])}
        neural.update((i, p) for i, p in zip(members, payloads) if i not in losers)
        for i in losers:
            neural.pop(i, None)              # coded neural in an earlier round, before its group changed
        changed = {groups[i] for i in losers}
        members = [i for i in members if i not in losers and groups[i] in changed]
    for i, p in neural.items():
        result[i] = (Method.NEURAL, p)
    return result


def decode_chunks(model_for_neural, frames: list[tuple[Method, bytes, int]], offsets: list[int]) -> list[bytes]:
    """frames: (method, payload, original size) -> the original chunks; offsets as for encode_chunks, whole
    groups only. model_for_neural() gives the model, called only when a neural frame is present."""
    out: list[bytes | None] = [None] * len(frames)
    neural = [i for i, (m, _, _) in enumerate(frames) if m == Method.NEURAL]
    if neural:
        model = model_for_neural()
        groups = chunk_groups([offsets[i] for i in neural], model.config.match_group_bytes)
        decoded = neural_decode(model, [frames[i][1] for i in neural], [frames[i][2] for i in neural], groups)
        for i, data in zip(neural, decoded):
            out[i] = data
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
    return out
