"""How much device memory a lockstep batch needs, and how wide a batch the device's free memory allows.

A batch's width changes its speed, never its stream (a batch holds whole match groups, and every rule of the
predictor depends on a group's set of writers, not on the batch: neuralzip.predictor). So a GPU's batch can be as
wide as its free memory allows, up to WIDEST_CHUNKS: the width rule below takes the widest power of two of chunks
whose estimated peak fits in MEMORY_SHARE of what torch.cuda.mem_get_info says is free when the (de)compressor is
made. The CPU keeps its fixed width (its tables live in host memory, touched page by page).

The estimate counts what the tensor path holds on the device for a batch of B chunks of T bytes in G match groups:
the batch's bytes once as int64 steps (the encoder's) and once as the match model's history, each group's tables
(match, counts, maps: their sizes follow from the model's config exactly as neuralzip.predictor makes them), each
chunk's own match table, the frequency window, and per chunk a step's temporaries (a bound: the largest of the
(B, V) int64, (B, K, V) and (B, A, 255) tensors a step makes, counted several times over).
"""

from __future__ import annotations

from .apm import POINTS
from .backend import Backend
from .mixer import group_bytes
from .model import ModelConfig
from .predictor import N_CELLS
from .tensorlib import torch

WIDEST_CHUNKS = 4096         # a GPU's widest batch, in chunks (the CPU's is neuralzip.api.BATCH_CHUNKS["cpu"])
# a batch holds this many chunks' worth of original bytes, however large the chunks (level 9's are 256 KiB, a
# stream may say 1 MiB), so that what a batch holds, and the tables of its match groups, stay bounded: 16 MiB
# on CPU
BATCH_CHUNK_BYTES = 1 << 16
MEMORY_SHARE = (3, 4)        # the share of free device memory a batch's estimate may take: the rest is for the
                             # allocator's rounding and cuBLAS's workspace
WINDOW_BYTES = 8 << 22       # the frequency window gathered on the device (neuralzip.engine.WINDOW_ELEMENTS int64)
_STEP_COPIES = 24            # (B, V)-sized int64 temporaries of one step, a bound
MIXER_HOST_BYTES = 2 << 30   # the host memory a GPU batch's bit mixer may take: about 36 groups, 144 MiB of content


def groups_in(batch_bytes: int, group_bytes: int, chunk_size: int) -> int:
    """Match groups in a batch of batch_bytes (each chunk its own group without match groups)."""
    if not group_bytes:
        return -(-batch_bytes // chunk_size)
    return -(-batch_bytes // group_bytes) + 1          # a batch may start and end inside a group


def table_bytes(config: ModelConfig, chunks: int, groups: int) -> int:
    """Bytes of the predictor's tables for chunks streams in groups match groups (neuralzip.predictor,
    neuralzip.counts, neuralzip.apm: the same sizes)."""
    total = 0
    if config.match_context:
        total += 8 * ((groups << config.match_table_bits) + 1)                 # the groups' match tables
        total += 8 * (chunks << config.match_local_bits if config.match_local_bits else 0)
        total += 2 * 8 * chunks * N_CELLS                                      # hits and misses per cell
    if config.count_orders:
        rows = (groups << config.count_table_bits) + 2
        total += rows * (256 + 3 * 8)                                          # counts, tags, totals, kinds
    if config.apm_orders:
        maps = list(config.apm_orders) + ["word"] * config.apm_word
        rows = sum(256 * 255 if k == 1 else 1 << config.apm_table_bits for k in maps)
        total += 2 * 4 * groups * rows * POINTS                                # points and hits, int32
    return total


def step_bytes(config: ModelConfig, chunks: int) -> int:
    """A bound on one step's temporaries for chunks streams."""
    vocab, contexts = config.vocab_size, len(config.count_orders) + config.count_word
    maps = len(config.apm_orders) + config.apm_word
    per_chunk = (8 * vocab * (_STEP_COPIES + 3 * contexts) + 8 * 256 * 2 * contexts
                 + 8 * 255 * (6 * maps + 8) + 4 * 16 * config.hidden)
    return chunks * per_chunk


def _batch_shape(config: ModelConfig, chunk_size: int, width: int) -> tuple[int, int, int]:
    """(content, chunks, groups) of a batch width chunks wide: width * min(chunk_size, BATCH_CHUNK_BYTES) bytes of
    content, rounded up to whole match groups, as neuralzip.api cuts batches."""
    content = width * min(chunk_size, BATCH_CHUNK_BYTES)
    if config.match_group_bytes:
        content = -(-content // config.match_group_bytes) * config.match_group_bytes
    return content, -(-content // chunk_size), groups_in(content, config.match_group_bytes, chunk_size)


def batch_bytes(config: ModelConfig, chunk_size: int, width: int) -> int:
    """The estimated peak device memory of a batch width chunks wide, all of it."""
    content, chunks, groups = _batch_shape(config, chunk_size, width)
    history = content if config.match_context else 0
    return 8 * content + history + table_bytes(config, chunks, groups) + WINDOW_BYTES + step_bytes(config, chunks)


def mixer_host_bytes(config: ModelConfig, chunk_size: int, width: int) -> int:
    """The host memory a batch's bit mixer may write (neuralzip.mixer: its tables at full size and its maps, per
    group), which stays on the host whatever the device."""
    if not config.mixer_table_bits:
        return 0
    per_group = group_bytes(config.mixer_table_bits, config.mixer_map_order, bool(config.mixer_key))
    return _batch_shape(config, chunk_size, width)[2] * per_group


def widest_batch(config: ModelConfig, chunk_size: int, free: int, widest: int = WIDEST_CHUNKS) -> int:
    """The width rule: the widest power of two of chunks, up to widest, whose batch_bytes fits MEMORY_SHARE of free
    bytes and whose bit mixer writes at most MIXER_HOST_BYTES of host memory; 1 where none does (the batch then
    tries anyway, and torch says what it lacks)."""
    chunks = widest
    while chunks > 1 and (batch_bytes(config, chunk_size, chunks) * MEMORY_SHARE[1] > free * MEMORY_SHARE[0]
                          or mixer_host_bytes(config, chunk_size, chunks) > MIXER_HOST_BYTES):
        chunks //= 2
    return chunks


def free_bytes(where: Backend) -> int | None:
    """Free memory on a CUDA device now (torch.cuda.mem_get_info); None for any other device."""
    if where.type != "cuda":
        return None
    return torch.cuda.mem_get_info(where.torch_device())[0]
