"""Integer frequencies <-> range-coded frames (coder v1, FORMAT.md "Frames"), many frames at a time.

Coder v1 is constriction's queue RangeEncoder with its Categorical(perfect=False) model fed the frequencies as
float64; neuralzip.fused.coder computes exactly the same words in compiled loops, straight from the int64
frequencies, for every frame of a batch in one call (constriction, fed the same frequencies, makes the same bytes:
tests/test_coder.py).
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import fused
from .errors import NeuralZipError
from .fused import coder as loops

# without numba the loops run as Python on numpy scalars, where the 64-bit state's intended wrap-around would warn
_WRAPPING = contextlib.nullcontext if fused.numba is not None else lambda: np.errstate(over="ignore")

_SEAL_WORDS = 2                  # a coder writes at most one word per coded symbol, and two more when sealed


class RangeEncoders:
    """Coders for a set of frames. capacities: how many symbols each will code at most."""

    def __init__(self, capacities: list[int], mixer=None):
        """mixer: a neuralzip.mixer.BitMixer, which codes each byte as 8 decisions (None: bytes coded whole)."""
        n = len(capacities)
        self.mixer = mixer
        per_symbol = 1 if mixer is None else mixer.WORDS_PER_BYTE
        room = np.asarray(capacities, dtype=np.int64).reshape(n) * per_symbol + _SEAL_WORDS
        self._begin = np.concatenate([[0], np.cumsum(room)[:-1]]).astype(np.int64)
        self._limits = self._begin + room
        self.state = loops.Encoders(
            lower=np.zeros(n, np.uint64), range_=np.full(n, 2 ** 64 - 1, np.uint64), held=np.zeros(n, np.int64),
            first_held=np.zeros(n, np.uint64), words=np.zeros(int(room.sum()), np.uint32), ends=self._begin.copy(),
            limits=self._limits)

    def encode_window(self, freqs: np.ndarray, symbols: np.ndarray, start: int, lengths: np.ndarray,
                      targets: np.ndarray) -> None:
        """Code steps start ... start + W - 1 of a batch of streams: freqs (W, B, V) int64, symbols (B, T) uint8,
        lengths (B,) int64; at each step, stream b (if it is that long) goes to each coder of targets[b], (B, K)
        int64, -1 for none, the streams in batch order."""
        with _WRAPPING():
            if self.mixer is None:
                loops.encode_window(self.state, freqs, symbols, start, lengths, targets)
            else:
                self.mixer.encode_window(self.state, freqs, symbols, start, lengths, targets)

    def encode(self, coder: int, symbols: np.ndarray, freqs: np.ndarray) -> None:
        """Code symbols (n,) with one coder, under freqs (n, V) int64."""
        n = len(symbols)
        self.encode_window(np.ascontiguousarray(freqs, np.int64)[:, None], np.asarray(symbols, np.int64)[None], 0,
                           np.array([n], np.int64), np.array([[coder]], np.int64))

    def finish(self) -> list[bytes]:
        """Seal every coder: each one's payload, its words 4 bytes little-endian."""
        words, ends = self.state.words, self.state.ends
        with _WRAPPING():
            for e in range(len(self._begin)):
                loops.seal(self.state, e)
        if (ends > self._limits).any():
            raise ValueError("a coder was given more symbols than its capacity")
        return [words[b:e].astype("<u4").tobytes() for b, e in zip(self._begin, ends)]


class RangeDecoders:
    """Decoders for a set of payloads, stepped in lockstep."""

    def __init__(self, payloads: list[bytes], mixer=None):
        """mixer: as RangeEncoders'; with one, rows without a decoder learn from their known bytes in out."""
        if any(len(p) % 4 for p in payloads):
            raise NeuralZipError("damaged stream: a neural frame's payload is not a whole number of words")
        n = len(payloads)
        self.mixer = mixer
        sizes = np.array([len(p) // 4 for p in payloads], dtype=np.int64)
        self._begin = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.state = loops.Decoders(
            words=np.frombuffer(b"".join(payloads), dtype="<u4").astype(np.uint32), end=self._begin + sizes,
            lower=np.zeros(n, np.uint64), range_=np.zeros(n, np.uint64), point=np.zeros(n, np.uint64),
            cursor=np.zeros(n, np.int64))
        for e in range(n):
            loops.start_decoder(self.state, e, self._begin[e])

    def decode_step(self, freqs: np.ndarray, t: int, lengths: np.ndarray, sources: np.ndarray,
                    out: np.ndarray) -> None:
        """Step t of a batch: stream b, if longer than t and sources[b] >= 0, decodes its symbol into out[b] with
        decoder sources[b], under freqs (B, V) int64; the streams in batch order."""
        with _WRAPPING():
            if self.mixer is None:
                bad = loops.decode_step(self.state, freqs, t, lengths, sources, out)
            else:
                bad = self.mixer.decode_step(self.state, freqs, t, lengths, sources, out)
        if bad >= 0:
            raise NeuralZipError("damaged stream: a neural frame's range coder met data no encoder writes")

    def decode(self, decoder: int, freqs: np.ndarray) -> np.ndarray:
        """The next n symbols of one decoder, under freqs (n, V) int64."""
        freqs = np.ascontiguousarray(freqs, np.int64)
        out = np.zeros(1, np.int64)
        symbols = np.zeros(len(freqs), np.int64)
        one, source = np.ones(1, np.int64), np.array([decoder], np.int64)
        for i in range(len(freqs)):
            self.decode_step(freqs[i:i + 1], 0, one, source, out)
            symbols[i] = out[0]
        return symbols
