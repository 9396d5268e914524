"""Integer frequencies <-> range-coded bytes, one frame at a time, with constriction.

Frequencies arrive as integers (every symbol >= 1) and go to constriction as float64 values, which hold them
exactly; constriction's own quantization of them is integer-exact and identical on every machine.
"""

from __future__ import annotations

import numpy as np
import constriction

from .errors import NeuralZipError

_FAMILY = constriction.stream.model.Categorical(perfect=False)


class ChunkEncoder:
    """Encodes one frame's symbols (one chunk's, or a run's in lockstep order), in order, in as many calls as
    convenient."""

    def __init__(self):
        self._encoder = constriction.stream.queue.RangeEncoder()

    def encode(self, symbols: np.ndarray, frequencies: np.ndarray) -> None:
        """symbols (n,) int32, frequencies (n, V) float64 holding integers."""
        self._encoder.encode(symbols, _FAMILY, frequencies)

    def finish(self) -> bytes:
        return self._encoder.get_compressed().astype("<u4").tobytes()


class ChunkDecoder:
    """Decodes one frame's symbols, a step at a time, as the model supplies their frequencies."""

    def __init__(self, payload: bytes):
        if len(payload) % 4:
            raise NeuralZipError("damaged stream: a neural frame's payload is not a whole number of words")
        self._decoder = constriction.stream.queue.RangeDecoder(np.frombuffer(payload, dtype="<u4").astype(np.uint32))

    def decode(self, frequencies: np.ndarray) -> np.ndarray:
        """frequencies (n, V) float64 holding integers -> the next n symbols, (n,) int32."""
        try:
            return self._decoder.decode(_FAMILY, frequencies)
        except Exception as e:  # constriction signals exhausted or invalid data with assorted errors
            raise NeuralZipError(f"damaged stream: range decoder failed ({e})") from None
