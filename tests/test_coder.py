"""Range coding of integer frequencies."""

import numpy as np
import pytest

from neuralzip.coder import ChunkDecoder, ChunkEncoder
from neuralzip.errors import NeuralZipError


def _case(n, seed=0):
    rng = np.random.default_rng(seed)
    freqs = rng.integers(1, 1 << 16, (n, 256)).astype(np.float64)
    freqs[:, 7] = 1 << 20                  # a confident model: mostly 7
    symbols = np.where(rng.random(n) < 0.9, 7, rng.integers(0, 256, n)).astype(np.int32)
    return symbols, freqs


@pytest.mark.parametrize("pieces", [1, 3, 100])
def test_round_trip_in_any_number_of_calls(pieces):
    symbols, freqs = _case(1000)
    enc = ChunkEncoder()
    for part in np.array_split(np.arange(1000), pieces):
        enc.encode(symbols[part], freqs[part])
    payload = enc.finish()
    assert len(payload) % 4 == 0
    dec = ChunkDecoder(payload)
    decoded = [dec.decode(freqs[i:i + n]) for i, n in zip(range(0, 1000, 10), [10] * 100)]
    assert np.concatenate(decoded).tolist() == symbols.tolist()


def test_payload_is_frozen():
    symbols, freqs = _case(50, seed=1)
    enc = ChunkEncoder()
    enc.encode(symbols, freqs)
    import hashlib
    assert hashlib.sha256(enc.finish()).hexdigest()[:16] == GOLDEN


def test_payload_must_be_whole_words():
    with pytest.raises(NeuralZipError, match="whole number of words"):
        ChunkDecoder(b"abc")


def test_garbage_decodes_to_symbols_or_raises_our_error():
    _, freqs = _case(200)
    dec = ChunkDecoder(bytes(range(40)))
    try:
        out = [int(dec.decode(freqs[i:i + 1])[0]) for i in range(200)]
        assert all(0 <= s < 256 for s in out)
    except NeuralZipError:
        pass


GOLDEN = "c5326c79e42849fb"
