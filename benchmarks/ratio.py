"""``python -m benchmarks.ratio LEVELS FILE...``: bits per byte only, no timing, each round trip verified.

For comparing streams while the machine is busy (sizes do not depend on load): one line per file, with xz -9e's
size beside neuralzip's at each level and the frames each stream holds.
"""

from __future__ import annotations

import argparse
import lzma
from pathlib import Path

import neuralzip


def row(path: Path, levels: list[int]) -> str:
    data = path.read_bytes()
    cells = [path.name, str(len(data)), f"xz-9e {_bpb(len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)), data)}"]
    for level in levels:
        packed = neuralzip.compress(data, level)
        if neuralzip.decompress(packed) != data:
            raise SystemExit(f"{path}: level {level} did not round-trip")
        frames = {kind: n for kind, n in neuralzip.describe(packed)[0].frames.items() if n}
        cells.append(f"-{level} {_bpb(len(packed), data)} {frames}")
    return "\t".join(cells)


def _bpb(size: int, data: bytes) -> str:
    return f"{8 * size / max(len(data), 1):.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ratio", description=__doc__.splitlines()[0])
    parser.add_argument("levels", help="neuralzip levels, comma-separated")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.files:
        print(row(path, [int(n) for n in args.levels.split(",")]), flush=True)


if __name__ == "__main__":
    main()
