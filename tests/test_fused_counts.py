"""The context counts' loops (neuralzip.fused.counts) against the tensor code (neuralzip.counts): the same
frequencies at every step and the same tables after, fed the same frequencies directly and through the predictor,
with groups in lockstep, finished streams, a tiny table whose rows are claimed from each other, counts past 255
halving their rows, many writers of one cell in a step, and betas and frequencies off the loops' quick paths."""

import dataclasses
import os
import random
from unittest import mock

import pytest
import torch
from hypothesis import given, settings, strategies as st

from neuralzip import fused, predictor, zoo
from neuralzip.counts import COUNT_MAX, ContextCounts
from neuralzip.model import LSTMModel
from neuralzip.predictor import Predictor
from test_counts import LINE, TEXT, WORDS
from hosted import host, same

pytestmark = pytest.mark.skipif(fused.numba is None, reason="numba is not installed")

RANDOM = random.Random(3).randbytes(400)
ACCENTS = "Ça já é você? Élan, Ærø, naïve façade: Größe, Ελλάδα, Москва, ÀÉÎÕÜ àéîõü.\n".encode() * 4
STATE = ("counts", "tags", "totals", "kinds", "cost", "words", "word", "rows", "tag", "found")
V6 = (2, 3, 4, 6, 8, 12)            # lstm384-v6's and v10's orders, with a word context


@pytest.fixture(autouse=True)
def _one_thread():
    """The tensor code's many small operations run far quicker on one thread than shared out between two."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _fused(on: bool):
    return mock.patch.dict(os.environ, {"NEURALZIP_FUSED": "1" if on else "0"})


def _counts(on: bool, groups, lengths, orders=(2, 4, 8), betas=(0, 1) * 3, table_bits=16, word=False):
    with _fused(on):
        cc = ContextCounts(groups, lengths, orders, betas, table_bits, 10, torch.device("cpu"), word=word)
    assert cc.fused == on
    return cc


def _same_state(ref: ContextCounts, fast: ContextCounts) -> None:
    for name in STATE:
        a, b = getattr(ref, name), getattr(fast, name)
        assert (a is None and b is None) or same(a, b), name
    assert all(same(a, b) for a, b in zip(ref.lookup(), fast.lookup()))
    assert same(fast.totals, host(fast.counts).sum(1, dtype=torch.int64))
    assert same(fast.kinds, (fast.counts > 0).sum(1))


def _tokens(rows: list[bytes], pad: bytes = b"\0") -> torch.Tensor:
    steps = max(map(len, rows))
    return torch.tensor([list(r.ljust(steps, pad)) for r in rows], dtype=torch.int64)


def _frequencies(symbols: torch.Tensor, g: torch.Generator, scale: int = 0) -> torch.Tensor:
    """A prediction for each stream's byte: noise and a peak on the byte that comes (or, a third of the time, on
    another); now and then int32, and with scale, now and then shifted up by that many bits (the counts' loops
    leave their quick division above 2**31, the maps' nodes pass their clamp)."""
    B = symbols.shape[0]
    f = torch.randint(1, 40, (B, 256), generator=g, dtype=torch.int64)
    wrong = torch.rand(B, generator=g) < 0.33
    peak = torch.where(wrong, torch.randint(0, 256, (B,), generator=g), symbols)
    size = torch.tensor([0, 30, 1000, 1 << 16, 1 << 24])[torch.randint(0, 5, (B,), generator=g)]
    f[torch.arange(B), peak] += size
    kind = int(torch.randint(0, 4, (), generator=g))
    return f.int() if kind == 0 else f << scale if kind == 1 else f


def _compare(rows: list[bytes], groups: list[int], pad: bytes = b"\0", seed: int = 0, big: bool = False,
             **config) -> int:
    """Run both paths on the same frequencies; every step's output and the state after must be equal. Returns
    the largest count any stream read."""
    tokens, lengths = _tokens(rows, pad), [len(r) for r in rows]
    ref, fast = _counts(False, groups, lengths, **config), _counts(True, groups, lengths, **config)
    g, peak = torch.Generator().manual_seed(seed), 0
    for t in range(tokens.shape[1]):
        peak = max(peak, int(fast.lookup()[0].max()))
        f = _frequencies(tokens[:, t], g, 8 if big else 0)
        want, got = host(ref.mix(f)), host(fast.mix(f))
        assert got.dtype == torch.int64 and same(want, got), t
        ref.update(t, tokens[:, t])
        fast.update(t, tokens[:, t])
    _same_state(ref, fast)
    return peak


RUNS = b"ab" * 300
ROWS = [TEXT, RUNS, RANDOM, WORDS, ACCENTS, TEXT[100:], RUNS[1:], WORDS[7:90], b"x"]
TWO_SETS = (0, 1) * 3 + (3, 1 << 20) * 3


@pytest.mark.parametrize("config", [
    dict(),                                                                 # one set of betas
    dict(betas=TWO_SETS, table_bits=8),                                     # two, and a tiny table
    dict(orders=V6, betas=(256, 1, 16, 1, 3, 1, 3, 5, 4, 2, 7, 1, 1, 8) * 3, word=True, table_bits=9),
    dict(orders=(1, 16), betas=(1 << 40, 1, 0, 3, 5, 1 << 33, 2, 1), table_bits=10),   # off the quick divisions
])
def test_the_loops_are_the_tensor_code(config):
    assert _compare(ROWS, [0, 0, 0, 1, 1, 0, 2, 2, 0], big=True, **config) == COUNT_MAX   # "ab" halved its rows


def test_one_group_of_many_writers_and_finished_streams():
    """Eight streams of one group on the same bytes, most finishing early: each cell has many writers a step,
    several passing 255 together, and the finished ones all write the discard row."""
    rows = [RUNS[:n] for n in (len(RUNS), 400, 400, 150, 37, 5, 1, len(RUNS))]
    assert _compare(rows, [3] * 8, pad=b"a", table_bits=8, betas=TWO_SETS) == COUNT_MAX
    _compare([ACCENTS] * 3 + [ACCENTS[:40]], [0] * 4, pad=b"\xc3", seed=1, orders=V6, betas=(0, 1) * 7 * 2,
             word=True)


def test_a_byte_that_is_not_one_is_refused():
    cc = _counts(True, [0], [4])
    host(cc.mix(torch.ones(1, 256, dtype=torch.int64)))
    with pytest.raises(ValueError, match="bytes"):
        cc.update(0, torch.tensor([256]))


@settings(max_examples=15, deadline=None)
@given(data=st.binary(min_size=1, max_size=200), cuts=st.lists(st.integers(0, 200), max_size=5),
       groups=st.lists(st.integers(0, 2), min_size=6, max_size=6), seed=st.integers(0, 1 << 30),
       config=st.sampled_from([dict(betas=TWO_SETS), dict(table_bits=8),
                               dict(orders=V6, betas=(1, 1) * 7 * 3, word=True, table_bits=8)]))
def test_the_loops_are_the_tensor_code_on_any_bytes(data, cuts, groups, seed, config):
    edges = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    rows = [data[a:b] for a, b in zip(edges, edges[1:])]
    _compare(rows, groups[:len(rows)], seed=seed, big=seed % 2 == 1, **config)


class _Twin:
    """A predictor's context counts twice: the loops' (which the predictor goes on with) and the tensor code's,
    fed the same, equal at every step."""

    def __init__(self, *args, **kw):
        args = args[:6] + ("cpu",)          # each form, whichever the predictor's model has
        with _fused(True):
            self.fast = ContextCounts(*args, **kw)
        with _fused(False):
            self.ref = ContextCounts(*args, **kw)
        assert self.fast.fused and not self.ref.fused
        self.steps = self.peak = 0

    def mix(self, freqs: torch.Tensor) -> torch.Tensor:
        self.peak = max(self.peak, int(self.fast.lookup()[0].max()))
        got, want = host(self.fast.mix(freqs)), host(self.ref.mix(host(freqs)))
        assert same(got, want), self.steps
        return got

    def update(self, t: int, symbols: torch.Tensor) -> None:
        self.fast.update(t, symbols)
        self.ref.update(t, host(symbols))
        self.steps += 1


def _model(name: str, **config) -> LSTMModel:
    m = zoo.load(name)
    return LSTMModel(dataclasses.replace(m.config, **config), m.tensors)


def _predict(model: LSTMModel, rows: list[bytes], groups: list[int]) -> _Twin:
    tokens = _tokens(rows)
    with mock.patch.object(predictor, "ContextCounts", _Twin):
        p = Predictor(model, len(rows), tokens.shape[1], groups, [len(r) for r in rows])
    for t in range(tokens.shape[1]):
        p.frequencies()
        p.advance(tokens[:, t])
    _same_state(p.counts.ref, p.counts.fast)
    return p.counts


@pytest.mark.parametrize("name, config", [
    ("lstm384-v4", dict(count_table_bits=12)),               # one set of betas, orders 4, 8, 12
    ("lstm384-v6", dict(count_table_bits=12)),               # 27 sets, six orders and a word context
    ("lstm384-v10", dict(count_table_bits=8)),               # the default model's, on a tiny table
    ("lstm64-v1", dict(count_table_bits=10)),                # counts straight after the network: no match model
])
def test_the_predictor_gives_the_same_frequencies_either_way(name, config):
    rows = [TEXT[:120], LINE, RANDOM[:80], ACCENTS[:150], RUNS[:100], WORDS[:60]]
    twin = _predict(_model(name, **config), rows, [0, 0, 1, 1, 0, 2])
    assert twin.steps == 150


def test_the_predictor_on_a_long_run_that_halves_its_rows():
    twin = _predict(_model("lstm384-v10", count_table_bits=10), [RUNS * 2, RUNS[:500], ACCENTS], [0, 0, 0])
    assert twin.peak == COUNT_MAX
