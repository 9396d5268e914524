"""The fused loops (neuralzip.fused) against the tensor code they replace on the CPU: the network and the match
model, bit for bit at every step. (The counts' and the maps' loops: test_fused_counts.py, test_fused_apm.py.)"""

import dataclasses
import os

import pytest
import torch
from hypothesis import given, settings, strategies as st

from neuralzip import fused, zoo
from neuralzip.model import LSTMModel
from neuralzip.predictor import Predictor
from hosted import host, same

TEXT = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), "rb").read()[:6000]

pytestmark = pytest.mark.skipif(fused.numba is None, reason="numba is not installed")


def _trace(name: str, rows: list[bytes], groups: list[int], use_fused: bool, monkeypatch, **config):
    """(T, B, V) frequencies of each row in one lockstep batch, and the predictor at the end."""
    monkeypatch.setenv("NEURALZIP_FUSED", "1" if use_fused else "0")
    m = zoo.load(name)
    model = LSTMModel(dataclasses.replace(m.config, **config), m.tensors)
    steps = max(map(len, rows))
    tokens = torch.tensor([list(r.ljust(steps, b"\0")) for r in rows], dtype=torch.int64)
    p, out = Predictor(model, len(rows), steps, groups, [len(r) for r in rows]), []
    assert model.fused == use_fused
    for t in range(steps):
        out.append(host(p.frequencies()))
        p.advance(tokens[:, t])
    return torch.stack(out), p


def _same(name, rows, groups, monkeypatch, **config):
    a, pa = _trace(name, rows, groups, False, monkeypatch, **config)
    b, pb = _trace(name, rows, groups, True, monkeypatch, **config)
    assert same(a, b)
    assert same(pa.state.h, pb.state.h) and same(pa.state.c, pb.state.c)
    if pa.match is not None:
        for field in ("history", "ptr", "length", "hits", "misses", "ctx", "table", "local"):
            assert same(getattr(pa.match, field), getattr(pb.match, field)), field


def test_the_network_alone(monkeypatch):
    _same("lstm384-v1", [TEXT[:700], TEXT[700:1000], bytes(range(256))], [0, 1, 2], monkeypatch)


@pytest.mark.parametrize("name", ["lstm384-v2", "lstm384-v3", "lstm384-v8", "lstm128-v1", "lstm64-v1"])
def test_the_match_model_in_groups_and_alone(name, monkeypatch):
    rows = [TEXT[:1500], TEXT[:1500], TEXT[1500:2600], TEXT[200:900], b"abcd" * 300, bytes(range(256)) * 2]
    _same(name, rows, [0, 0, 0, 1, 1, 2], monkeypatch)


def test_a_tiny_table_where_slots_collide(monkeypatch):
    rows = [TEXT[:1200], TEXT[300:1500], TEXT[2000:3000]]
    _same("lstm384-v8", rows, [0, 0, 0], monkeypatch, match_table_bits=6, match_local_bits=8)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=5), st.data())
def test_any_bytes(rows, data):
    groups = data.draw(st.lists(st.integers(0, 2), min_size=len(rows), max_size=len(rows)))
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same("lstm384-v8", rows, groups, monkeypatch)
