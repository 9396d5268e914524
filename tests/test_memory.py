"""neuralzip.memory: what a batch holds on its device, and the width rule that sizes a GPU's batch from its free
memory (the stream is the same at any width)."""

import pytest
import torch

import neuralzip
from neuralzip import api, memory, zoo
from neuralzip.model import LSTMModel
from neuralzip.predictor import Predictor

TEXT = b"A width changes the speed, never the stream. " * 40


@pytest.mark.parametrize("name", sorted({level.model for level in zoo.LEVELS.values()}))
def test_the_tables_estimate_is_what_the_predictor_makes(monkeypatch, name):
    """table_bytes counts exactly the tables the tensor path allocates (made from calloc here: free until
    touched)."""
    monkeypatch.setenv("NEURALZIP_FUSED", "0")
    m = zoo.load(name)
    model = LSTMModel(m.config, m.tensors)
    groups = [0, 0, 1, 2, 2]
    p = Predictor(model, len(groups), 16, groups, [16] * len(groups))
    made = 0
    if p.match is not None:
        made += sum(t.nbytes for t in (p.match.table, p.match.local, p.match.hits, p.match.misses))
    if p.counts is not None:
        made += sum(t.nbytes for t in (p.counts.counts, p.counts.tags, p.counts.totals, p.counts.kinds))
    if p.apm is not None:
        made += p.apm.points.nbytes + p.apm.hits.nbytes
    assert memory.table_bytes(m.config, len(groups), 3) == made


def test_the_width_rule_fits_free_memory():
    config = zoo.load(zoo.BEST_MODEL).config
    ample = memory.widest_batch(config, 4096, 1 << 50)
    assert ample == memory.WIDEST_CHUNKS
    for free in (1 << 34, 1 << 32, 1 << 30):
        width = memory.widest_batch(config, 4096, free)
        assert width & (width - 1) == 0 and 1 <= width <= memory.WIDEST_CHUNKS
        assert width == 1 or memory.batch_bytes(config, 4096, width) * 4 <= free * 3
        assert width == memory.WIDEST_CHUNKS or memory.batch_bytes(config, 4096, 2 * width) * 4 > free * 3
    assert memory.widest_batch(config, 4096, 0) == 1
    # level 9's 256 KiB chunks: a batch still holds width * 64 KiB of content
    assert memory.batch_bytes(config, 1 << 18, 4096) >= 8 * (4096 << 16)


def test_a_gpus_width_comes_from_its_free_memory_and_leaves_the_stream_alone(monkeypatch):
    model = zoo.load(zoo.LEVELS[1].model)
    assert api.batch_width(model, 4096, torch.device("cpu")) == api.BATCH_CHUNKS["cpu"]
    assert memory.free_bytes(torch.device("cpu")) is None
    monkeypatch.setattr(memory, "free_bytes", lambda device: 1 << 29)
    width = api.batch_width(model, 4096, torch.device("cuda"))
    assert width == memory.widest_batch(model.config, 4096, 1 << 29) < memory.WIDEST_CHUNKS
    one = neuralzip.compress(TEXT, 1)
    monkeypatch.setitem(api.BATCH_CHUNKS, "cpu", 1)               # the narrowest batch: the same stream
    assert neuralzip.compress(TEXT, 1) == one


def test_the_peak_table_per_level_is_the_rule_applied():
    """The table in benchmarks/gpu/README.md, from the rule (python -m benchmarks.gpu --memory)."""
    from benchmarks import gpu
    lines = gpu.memory_table(80 << 30)
    assert len(lines) == 2 + len(zoo.LEVELS)
    for level, line in zip(sorted(zoo.LEVELS), lines[2:]):
        lv = zoo.LEVELS[level]
        config = zoo.load(lv.model).config
        width = memory.widest_batch(config, lv.chunk_size, 80 << 30)
        assert line.startswith(f"| {level} | {lv.model} | {lv.chunk_size // 1024} KiB | {width} |")
        assert f"{memory.batch_bytes(config, lv.chunk_size, width) / 2**30:.2f} GiB" in line


def test_the_bit_mixers_host_tables_narrow_a_wide_batch():
    """The bit mixer's tables stay on the host: a GPU batch is narrowed until they take at most MIXER_HOST_BYTES
    (level 9's 256 KiB chunks), and the estimate is what the mixer allocates, per group."""
    from neuralzip.mixer import BitMixer
    lv = zoo.level(9)
    config = zoo.load(lv.model).config
    width = memory.widest_batch(config, lv.chunk_size, 1 << 40)
    assert memory.mixer_host_bytes(config, lv.chunk_size, width) <= memory.MIXER_HOST_BYTES
    assert memory.mixer_host_bytes(config, lv.chunk_size, 2 * width) > memory.MIXER_HOST_BYTES
    assert memory.mixer_host_bytes(zoo.load("lstm384-v11").config, lv.chunk_size, 4096) == 0
    full = BitMixer([0], [config.match_group_bytes], config.mixer_table_bits, 12, 255).state
    # a batch of one 4 KiB chunk is counted as two groups (a batch may start and end inside one)
    assert memory.mixer_host_bytes(config, 4096, 1) == 2 * (full.tables.nbytes + full.points.nbytes)
    default = zoo.load(zoo.DEFAULT_MODEL).config           # with the key context and the input map
    full = BitMixer([0], [default.match_group_bytes], default.mixer_table_bits, 12, 255, default.mixer_map_order,
                    bool(default.mixer_key)).state
    assert memory.mixer_host_bytes(default, 4096, 1) == 2 * (full.tables.nbytes + full.points.nbytes
                                                             + full.map_points.nbytes)
