"""Streaming at scale (benchmarks/streaming.py): round trips through pipes and NeuralZipFile, memory that does not
grow with the input. The 1 GiB run is ``python -m benchmarks.streaming`` (see README, "Streaming at scale")."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))       # benchmarks/ sits in the repository; it is not part of the installed package

from benchmarks import streaming  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.chdir(REPO)


def args(size: str, mode: str, text: str = "64K"):
    return argparse.Namespace(size=streaming._size(size), text_size=streaming._size(text), level=1, piece=10_000,
                              mode=mode, child=None)


def test_blocks_are_deterministic_and_mix_text_with_noise():
    a = list(streaming.blocks((5 << 20) - 7, (1 << 20) + 10))
    assert a == list(streaming.blocks((5 << 20) - 7, (1 << 20) + 10))
    assert [len(b) for b in a] == [1 << 20] * 4 + [(1 << 20) - 7]
    assert a[0].count(b" ") > len(a[0]) // 20 and a[2][:10].count(b" ") and not a[2][10:].count(b"    ")


def test_pipe_and_file_round_trips():
    pipe = streaming.run_pipe(args("3M", "pipe"))
    assert pipe["identical"] and pipe["compress"]["status"] == pipe["decompress"]["status"] == 0
    file = streaming.run_file(args("3M", "file"))
    assert file["identical"] and file["frames"]["neural_run"] > 0 and file["frames"]["stored"] > 0
    assert file["compressed"] == pipe["compressed"]       # same content, level and model: the same stream
    print(streaming.report(pipe), streaming.report(file), sep="\n")


def test_peak_memory_does_not_grow_with_the_input():
    small, large = (streaming.run_pipe(args(size, "pipe")) for size in ("4M", "40M"))
    assert small["identical"] and large["identical"]
    for side in ("compress", "decompress"):
        growth = large[side]["peak_rss_mib"] - small[side]["peak_rss_mib"]
        assert growth < 40, f"{side}: peak RSS grew by {growth:.0f} MiB for 36 MiB more input"


@pytest.mark.skipif(os.environ.get("NEURALZIP_SLOW_TESTS") != "1", reason="set NEURALZIP_SLOW_TESTS=1")
def test_256_mib_through_pipes_and_file():
    for run in (streaming.run_pipe, streaming.run_file):
        result = run(args("256M", "pipe", "4M"))
        print(streaming.report(result))
        assert result["identical"]
