"""The maps' loops (neuralzip.fused.apm) against the tensor code (neuralzip.apm): the same frequencies at every step
and the same tables, history and word after, fed the same frequencies directly and through the predictor, with
groups in lockstep, finished streams, hashed rows that collide and hit counts at their cap."""

import dataclasses
import os
import random
from unittest import mock

import pytest
import torch
from hypothesis import given, settings, strategies as st

from neuralzip import fused, zoo
from neuralzip.apm import AdaptiveProbabilityMaps
from neuralzip.model import LSTMModel
from neuralzip.predictor import Predictor
from test_counts import WORDS
from test_fused_counts import _frequencies, _tokens
from test_predictor import LINE, TEXT
from hosted import host, same

pytestmark = pytest.mark.skipif(fused.numba is None, reason="numba is not installed")

RANDOM = random.Random(7).randbytes(300)
REPEATS = b"abracadabra " * 20 + b"abrac"
STATE = ("points", "hits", "history", "word")


def _fused(on: bool):
    return mock.patch.dict(os.environ, {"NEURALZIP_FUSED": "1" if on else "0"})


def _maps(on: bool, groups, lengths, orders=(1, 2), word=True, table_bits=16, limit=128, share=12, mass=0):
    with _fused(on):
        maps = AdaptiveProbabilityMaps(groups, lengths, orders, table_bits, limit, share, 10, torch.device("cpu"),
                                       word=word, mass=mass)
    assert maps.fused == on
    return maps


def _compare_maps(rows: list[bytes], groups: list[int], pad: bytes = b"\0", seed: int = 0, **config):
    """Run both paths on the same frequencies; every step's output and the state after must be equal."""
    tokens, lengths = _tokens(rows, pad), [len(r) for r in rows]
    ref, fast = _maps(False, groups, lengths, **config), _maps(True, groups, lengths, **config)
    g = torch.Generator().manual_seed(seed)
    for t in range(tokens.shape[1]):
        f = _frequencies(tokens[:, t], g, 14)
        want, got = host(ref.mix(f)), host(fast.mix(f))
        assert got.dtype == torch.int64 and same(want, got), t
        ref.update(t, tokens[:, t])
        fast.update(t, tokens[:, t])
    for name in STATE:
        assert same(getattr(ref, name), getattr(fast, name)), name
    return fast


ROWS = [TEXT, REPEATS, RANDOM, WORDS, TEXT[100:], REPEATS[::-1], WORDS[7:90], b"x"]


@pytest.mark.parametrize("config", [dict(), dict(orders=(1, 2, 3), word=False, table_bits=8), dict(mass=8),
                                    dict(mass=2, share=16), dict(mass=24, limit=1),
                                    dict(orders=(2, 3), table_bits=8, limit=1, share=16), dict(limit=2, share=0),
                                    dict(orders=(1,), word=False, table_bits=0, share=16),
                                    dict(orders=(3,), word=True, table_bits=9, limit=1023),
                                    dict(orders=(1, 2, 3), word=True, table_bits=10, limit=5, share=15)])
def test_the_loops_are_the_tensor_code(config):
    fast = _compare_maps(ROWS, [0, 0, 0, 1, 1, 0, 2, 2], **config)
    assert int(abs(fast.points).sum()) and int(fast.hits.max()) <= fast.limit << 7
    if fast.limit <= 2:
        assert int(fast.hits.max()) == fast.limit << 7          # hit counts at their cap


def test_one_group_of_many_writers_and_finished_streams():
    """Eight streams of one group on the same bytes, most finishing early: each cell has many writers a step."""
    rows = [REPEATS[:n] for n in (len(REPEATS), 200, 200, 150, 37, 5, 1, len(REPEATS))]
    _compare_maps(rows, [3] * 8, pad=b"a", table_bits=8, limit=4)
    _compare_maps([WORDS] * 3 + [WORDS[:40]], [0] * 4, pad=b"\xc3", seed=1)


@settings(max_examples=15, deadline=None)
@given(data=st.binary(min_size=1, max_size=150), cuts=st.lists(st.integers(0, 150), max_size=5),
       groups=st.lists(st.integers(0, 2), min_size=6, max_size=6), seed=st.integers(0, 1 << 30),
       config=st.sampled_from([dict(), dict(orders=(1, 2, 3), word=False, table_bits=8, limit=1, share=16),
                               dict(orders=(2,), table_bits=8, limit=3, share=5)]))
def test_the_loops_are_the_tensor_code_on_any_bytes(data, cuts, groups, seed, config):
    edges = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    rows = [data[a:b] for a, b in zip(edges, edges[1:])]
    _compare_maps(rows, groups[:len(rows)], seed=seed, **config)


def _model(name: str, **config) -> LSTMModel:
    m = zoo.load(name)
    model = LSTMModel(dataclasses.replace(m.config, **config), m.tensors)
    model.name = name
    return model


def _run(on: bool, model: LSTMModel, rows: list[bytes], groups: list[int]):
    tokens = _tokens(rows)
    with _fused(on):      # the model in that form, and with it every stage
        model = LSTMModel(model.config, zoo.load(model.name).tensors)
        p = Predictor(model, len(rows), tokens.shape[1], groups, [len(r) for r in rows])
    assert p.apm.fused == on
    out = []
    for t in range(tokens.shape[1]):
        out.append(host(p.frequencies()))
        p.advance(tokens[:, t])
    return torch.stack(out), p.apm


@pytest.mark.parametrize("name, config", [("lstm384-v11", dict()), ("lstm384-v12", dict()),
                                          ("lstm384-v7", dict(apm_orders=(1, 2, 3), apm_word=0, apm_table_bits=8,
                                                              apm_limit=2, apm_share=16)),
                                          ("lstm384-v7", dict(apm_limit=1, apm_share=0))])
def test_the_predictor_gives_the_same_frequencies_either_way(name, config):
    model = _model(name, **config)
    rows = [TEXT[:90], LINE, RANDOM[:60], WORDS[:90], REPEATS[:50]]
    groups = [0, 0, 1, 1, 0]
    want, ref = _run(False, model, rows, groups)
    got, fast = _run(True, model, rows, groups)
    assert same(want, got)
    for name in STATE:
        assert same(getattr(ref, name), getattr(fast, name)), name
