"""The synthetic log formats of benchmarks/logs.py: deterministic, distinct, split 8 / 8."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))       # benchmarks/ sits in the repository; it is not part of the installed package

from benchmarks import logs  # noqa: E402


def test_sixteen_formats_made_the_same_every_time(tmp_path):
    a = logs.generate(tmp_path / "a", 20_000, seed=3)
    b = logs.generate(tmp_path / "b", 20_000, seed=3)
    assert len(a) == 16 and [p.name for p in a] == [f"{name}.log" for name in logs.FORMATS]
    for x, y in zip(a, b):
        data = x.read_bytes()
        assert data == y.read_bytes() and len(data) >= 20_000 and data.endswith(b"\n")
    assert len({p.read_bytes()[:200] for p in a}) == 16


def test_a_smaller_size_is_a_prefix_and_the_split_is_even(tmp_path):
    small, large = logs.generate(tmp_path / "s", 5_000), logs.generate(tmp_path / "l", 30_000)
    assert all(l.read_bytes().startswith(s.read_bytes()) for s, l in zip(small, large))
    train, test = logs.split(large)
    assert len(train) == len(test) == 8 and not set(train) & set(test)
