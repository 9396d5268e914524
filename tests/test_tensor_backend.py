"""The tensor path, the code CUDA runs, held to the golden digests of the loops (NEURALZIP_FUSED=0 runs it on the
CPU): golden frequencies of the network, match model, match groups, counts and maps, and golden streams of the
default, best and grouped models. Short inputs, so the CI's time stays in check; tests/test_fused*.py hold the
two paths equal step by step on more."""

import os

import pytest

import test_api
import test_apm
import test_counts
import test_model
import test_predictor
from neuralzip import zoo


@pytest.fixture(autouse=True)
def tensor_backend(monkeypatch):
    monkeypatch.setenv("NEURALZIP_FUSED", "0")
    zoo.runtime.cache_clear()             # the cached runtime models chose their path when made
    yield
    zoo.runtime.cache_clear()


def test_golden_frequency_hash():
    assert not test_model._model().fused
    test_model.test_golden_frequency_hash()


def test_golden_match_frequencies():
    test_predictor.test_golden_frequencies()
    test_predictor.test_golden_grouped_frequencies()


_SLOW = pytest.mark.skipif(not os.environ.get("NEURALZIP_SLOW_TESTS"), reason="NEURALZIP_SLOW_TESTS=1 runs it")


@pytest.mark.parametrize("name, digest", [pytest.param(name, digest, marks=[] if name == "lstm384-v6" else _SLOW)
                                          for name, digest in test_counts.test_golden_frequencies.pytestmark[0].args[1]])
def test_golden_count_frequencies(name, digest):
    """lstm384-v6 (27 sets of betas and a word context) in the CI; the others with the slow tests."""
    test_counts.test_golden_frequencies(name, digest)


def test_golden_map_frequencies():
    test_apm.test_golden_frequencies()


_STREAMS = {(model, level): rest for model, level, *rest in test_api.test_golden_stream.pytestmark[0].args[1]}


@pytest.mark.parametrize("model, level", [(None, None), pytest.param(None, 7, marks=_SLOW),
                                          pytest.param("lstm384-v11", 7, marks=_SLOW),
                                          pytest.param("lstm384-v3", 8, marks=_SLOW)])
def test_golden_stream(model, level):
    """The default level's model (counts, a word context, maps on the heavy nodes, match groups and chunks' own
    tables, and the bit mixer, which runs as loops on the host on either backend) in the CI; the best levels' and the first grouped model's with the slow tests."""
    test_api.test_golden_stream(model, level, *_STREAMS[(model, level)])
