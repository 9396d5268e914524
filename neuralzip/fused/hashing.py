"""The context models' hashes, defined once: their constants, read by the tensor code (neuralzip.counts,
neuralzip.apm, neuralzip.predictor) and the loops alike, and the word hash's step for one stream (the loops';
neuralzip.counts.next_word is the tensor form of the same rule)."""

from __future__ import annotations

import numpy as np

from . import njit

MASK32 = 0xFFFFFFFF
MURMUR = 0x5BD1E995          # MurmurHash2's multiplier, below 2**31: a 32-bit value times it fits in int64
KNUTH = 2654435761           # Knuth's multiplicative hash (above 2**31: see neuralzip.intops.low32_product)
ORDER_SALT = 0x9E3779B1      # the counts' salt of order k is ORDER_SALT ^ k
WORD_SALT = ORDER_SALT ^ 0xFF  # the word context's, distinct from every order's


@njit
def next_word(current, s):
    """The hash of the word being read (0 between words) after byte s: see neuralzip.counts.next_word."""
    folded = s | 0x20
    if not ((97 <= folded <= 122) or (0xC0 <= s < 0xE0) or (0x80 <= s < 0xC0 and current != 0)):
        return np.int64(0)
    return (((current ^ (s if s >= 128 else folded)) * MURMUR) & MASK32) | 1
