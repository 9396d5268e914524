"""The bit mixer: the last stage, which learns from the file how to weigh the prediction against what the file
itself repeats, byte by byte and bit by bit.

The network, match model, counts and maps give a distribution for the next byte; their blends are fixed, or chosen
among a few calibrated sets. On text unlike the training text (a CSV export, a server log, a source tarball) the
file's own regularities are worth far more than that prediction: the same field in the line above, the byte two
back, the value after a separator. The mixer reads each byte as 8 binary decisions, most significant bit first,
as PAQ and lpaq do, and for each decision mixes, in the logistic domain, the prediction's probability of a 1 at
that node with the probabilities of 12 context models learned on this file: orders 1 to 4 and 6, the word being
read, the token being read (the bytes since the last delimiter) with the field number, the column with the byte
above it, the byte above with the one after it and the last byte, the byte above with the last two, the field
number with the last byte, and the byte at the same place of the same field in the line before (a CSV's or a
log's fields vary in length, so the same column is often another field); a model may add a 13th, the key (a JSON
object's key, an XML attribute's or tag's name) with the token being read, which predicts a value from the values
under the same key before it. Each context model is a
table of probabilities, one per (context, node), each moving toward every bit it sees by 2 / (2n + 3) of the way
(n its count so far, capped). The mixing weights are learned online too, by gradient descent on the code length:
two weight sets, one chosen by the node and one by the previous byte, averaged; an adaptive probability map on
(previous byte, node) then refines the mix. A model may also give the mixer the prediction's own decision read
through a map on the last bytes and the node (mixer_map_order), which does the byte-level maps' work for less.
Every decision is coded with its probability (12 bits), so the byte costs the sum of its decisions' code lengths.

On the development set's structured text this takes 7-35% off the prediction's code length (CSV, logs, JSON)
and 0.1-10% off prose (CHOICES.md "The bit mixer"). It runs on the host whatever the predictor's device, on the
frequencies the coder gets there, so it has one form: compiled loops (neuralzip.fused.mixer), in integers, with
the rules of FORMAT.md "Bit mixer". Tables are shared by a match group's chunks, which take their turns in content
order within each step, so the result never depends on the batch.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .apm import INITIAL_POINTS, STRETCH_TABLE, squash
from .fused import mixer as loops

MIN_TABLE_BITS, MAX_TABLE_BITS = 10, 22
MAX_MAP_ORDER = 4               # the input map reads at most the last 4 bytes (with the node, folded to 32 bits)


def group_table_bits(content: int, table_bits: int) -> int:
    """A group's blocks per context model: 2**bits for the least bits from MIN_TABLE_BITS up to table_bits that
    gives 4 blocks for each byte of its content (a byte uses 2), so that a small input pays no more memory than it
    can use (each block it touches is a page written) and loses nothing to collisions it would not have anyway."""
    return min(max(MIN_TABLE_BITS, (content - 1).bit_length() + 2), table_bits)


def context_models(key: bool) -> int:
    """The context models of a mixer: 12, and the key context with mixer_key."""
    return loops.CONTEXTS if key else loops.BASE_CONTEXTS


def group_bytes(bits: int, map_order: int, key: bool) -> int:
    """The memory of one group's tables and maps at 2**bits blocks per context model (the input map, where
    map_order > 0, has as many rows as a context model has blocks)."""
    map_rows = loops.MAP_ROWS + ((1 << bits) if map_order else 0)
    return (context_models(key) << bits) * 64 + map_rows * loops.POINTS * 4


class BitMixer:
    """The mixer's state for a batch of streams: groups (B,) each stream's group, lengths (B,) each stream's
    length, table_bits: at most 2**table_bits blocks of 16 probabilities per context model and group (fewer for a
    group of less content: group_table_bits), rate: the weights' learning rate, limit: a probability's count stops
    growing here. The coders (neuralzip.coder) call it."""

    WORDS_PER_BYTE = 4           # a byte's 8 decisions write at most this many 32-bit words (each at most 12 bits)

    def __init__(self, groups: list[int], lengths: list[int], table_bits: int, rate: int, limit: int,
                 map_order: int = 0, key: bool = False):
        if not (MIN_TABLE_BITS <= table_bits <= MAX_TABLE_BITS and 1 <= rate <= 64 and 1 <= limit <= 1023
                and 0 <= map_order <= MAX_MAP_ORDER):
            raise ValueError(f"a bit mixer needs mixer_table_bits from {MIN_TABLE_BITS} to {MAX_TABLE_BITS}, "
                             f"mixer_rate from 1 to 64, mixer_limit from 1 to 1023 and mixer_map_order from 0 to "
                             f"{MAX_MAP_ORDER}")
        label = {g: i for i, g in enumerate(dict.fromkeys(groups))}
        batch, n_groups = len(groups), len(label)
        content = [0] * n_groups
        for g, n in zip(groups, lengths):
            content[label[g]] += n
        bits = np.array([group_table_bits(n, table_bits) for n in content], np.int64)
        contexts = context_models(key)
        sizes = contexts << bits
        map_rows = (1 << bits) if map_order else np.zeros_like(bits)      # the input map's, as many as a context's
        host = backend.Backend("cpu", loops=True)     # its tables as the loops' large tables: pages of their own
        long = np.int64
        self.state = loops.MixerState(
            group=np.array([label[g] for g in groups], long),
            history=np.zeros(batch, long), column=np.zeros(batch, long), field=np.zeros(batch, long),
            word=np.zeros(batch, long), above=np.zeros((batch, loops.LINE), np.uint8),
            above_length=np.zeros(batch, long), line=np.zeros((batch, loops.LINE), np.uint8),
            starts=np.zeros((batch, loops.FIELDS), long), above_starts=np.zeros((batch, loops.FIELDS + 1), long),
            above_fields=np.zeros(batch, long), token=np.zeros(batch, long), key=np.zeros(batch, long),
            quoted=np.zeros(batch, long), last_quoted=np.zeros(batch, long), in_tag=np.zeros(batch, long),
            contexts=contexts,
            keys=np.zeros(loops.CONTEXTS, long), slots=np.zeros(loops.CONTEXTS, long),
            inputs=np.zeros(loops.INPUTS, long), table_bits=bits,
            table_base=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(long),
            tables=host.zeros((int(sizes.sum()), 16), np.uint32),
            weights=host.zeros((n_groups, loops.SETS, loops.INPUTS), np.int32),
            points=host.zeros(n_groups * loops.MAP_ROWS * loops.POINTS, np.int32),
            initial=np.array(INITIAL_POINTS, long), stretch=np.array(STRETCH_TABLE, long),
            squash=np.array([squash(x) for x in range(-2047, 2048)], long), rate=rate,
            reciprocal=np.array([(2 << 16) // (2 * n + 3) for n in range(1024)], long), limit=limit,
            cumulative=np.zeros(257, long), map_order=map_order,
            map_base=np.concatenate([[0], np.cumsum(map_rows)[:-1]]).astype(long),
            map_points=host.zeros(max(int(map_rows.sum()), 1) * loops.POINTS, np.int32))

    @classmethod
    def of(cls, config, groups: list[int], lengths: list[int]) -> "BitMixer | None":
        """The mixer a model's config asks for (None for a model without one)."""
        if not config.mixer_table_bits:
            return None
        if not config.match_group_bytes:
            raise ValueError("a bit mixer needs match groups (match_group_bytes > 0)")
        return cls(groups, lengths, config.mixer_table_bits, config.mixer_rate, config.mixer_limit,
                   config.mixer_map_order, bool(config.mixer_key))

    def encode_window(self, coders, freqs: np.ndarray, symbols: np.ndarray, start: int, lengths: np.ndarray,
                      targets: np.ndarray) -> None:
        """RangeEncoders.encode_window's work on its coders' state: each byte coded as 8 mixed decisions."""
        loops.encode_window(self.state, coders, freqs, symbols, start, lengths, targets)

    def decode_step(self, decoders, freqs: np.ndarray, t: int, lengths: np.ndarray, sources: np.ndarray,
                    out: np.ndarray) -> int:
        """RangeDecoders.decode_step's work on its decoders' state; rows without a decoder learn from their known
        bytes in out. The first stream whose data cannot be a coder v1 payload, or -1."""
        return loops.decode_step(self.state, decoders, freqs, t, lengths, sources, out)
