"""Round trips over the benchmark corpus (../shared/corpus), where it is present.

By default every file up to 128 KiB goes through level 1 whole and through the default level as its first 8 KiB:
the default level's time goes by steps, 4,096 of them for any input from 4 KiB to 4 MiB, each dearer the more
chunks run in lockstep (8 KiB: about 2 s a direction on a two-core machine; 128 KiB: about 10).
NEURALZIP_SLOW_TESTS=1 runs every file whole at the default level, through the API and the command line.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import neuralzip

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SLOW = os.environ.get("NEURALZIP_SLOW_TESTS") == "1"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in {".md", ".tsv"}) \
    if CORPUS.is_dir() else []
SMALL = [p for p in FILES if p.stat().st_size <= 128 << 10]

pytestmark = pytest.mark.skipif(not FILES, reason="benchmark corpus not present (../shared/corpus)")


def _id(p):
    return f"{p.parent.name}/{p.name}"


PREFIX = 8 << 10


def _round_trip(data: bytes, level: int | None) -> None:
    blob = neuralzip.compress(data, level)
    assert neuralzip.decompress(blob) == data
    # never more than the framing beyond the original: header and end (< 100 bytes), 13 bytes a frame
    assert len(blob) <= len(data) + 100 + 13 * (len(data) // 16384 + 1)


@pytest.mark.parametrize("path", FILES if SLOW else SMALL, ids=_id)
def test_api_round_trip(path):
    data = path.read_bytes()
    _round_trip(data if SLOW else data[:PREFIX], None)
    if not SLOW:
        _round_trip(data, 1)


@pytest.mark.skipif(not SLOW, reason="set NEURALZIP_SLOW_TESTS=1")
@pytest.mark.parametrize("path", FILES, ids=_id)
def test_command_line_pipe_round_trip(path):
    env = dict(os.environ)
    nzip = subprocess.Popen([sys.executable, "-m", "neuralzip", "-c", str(path)], stdout=subprocess.PIPE, env=env)
    out = subprocess.run([sys.executable, "-m", "neuralzip", "-dc"], stdin=nzip.stdout, capture_output=True,
                         env=env, check=True).stdout
    assert nzip.wait() == 0
    assert out == path.read_bytes()


# kennedy.xls (1 MB) at the default level takes a minute: level 1 has the same fallbacks, in seconds
@pytest.mark.parametrize("name, level", [("canterbury-artificial/random.txt", None), ("canterbury/kennedy.xls", 1)])
def test_file_grows_at_most_a_tenth_of_a_percent_and_64_bytes(name, level):
    data = (CORPUS / name).read_bytes()
    assert len(neuralzip.compress(data, level)) <= len(data) * 1.001 + 64
