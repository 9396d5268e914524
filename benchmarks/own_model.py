"""A model of one's own: ``nzip train`` on half of the 16 synthetic log formats, measured on the other half.

    python -m benchmarks.own_model [--minutes 10] [--size 200000] [--level 6] [--out DIR]

Generates the logs (benchmarks.logs), trains on the train half exactly as ``nzip train`` does
(neuralzip.train.fit, starting from the default model), then compresses every file of the test half with the
default model and with the new one (round trips verified), beside zstd -19 and xz -9e, and prints bits per byte.
The test formats were never trained on, though some share message text with a train format (see benchmarks.logs).
"""

from __future__ import annotations

import argparse
import lzma
import sys
import tempfile
from pathlib import Path

import zstandard

import neuralzip
from neuralzip.train.fit import fit

from . import logs


def _bpb(compressed: int, original: int) -> float:
    return 8 * compressed / original


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.own_model", description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="training time (default 10)")
    p.add_argument("--size", type=int, default=200_000, help="bytes per log format (default 200000)")
    p.add_argument("--level", type=int, default=neuralzip.DEFAULT_LEVEL)
    p.add_argument("--out", type=Path, help="keep the logs and the model here (default: a temporary directory)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        train, test = logs.split(logs.generate(out / "logs", args.size))
        model = out / "logs.nzm"
        summary = fit(train, model, minutes=args.minutes, log=lambda line: print(line, file=sys.stderr, flush=True))
        print(f"trained on {len(train)} formats ({summary['train_bytes']} bytes): {summary['steps']} steps in "
              f"{summary['seconds']:.0f} s; model {model.stat().st_size} bytes")
        print("\n| test format | bytes | default model | trained model | zstd -19 | xz -9e |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        totals = [0, 0, 0, 0, 0]
        for path in test:
            data = path.read_bytes()
            sizes = []
            for m in (None, model):
                blob = neuralzip.compress(data, args.level, model=m)
                assert neuralzip.decompress(blob, model=model) == data, f"round trip failed on {path.name}"
                sizes.append(len(blob))
            sizes.append(len(zstandard.ZstdCompressor(level=19).compress(data)))
            sizes.append(len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)))
            for i, n in enumerate([len(data), *sizes]):
                totals[i] += n
            print(f"| {path.stem} | {len(data)} | " + " | ".join(f"{_bpb(n, len(data)):.3f}" for n in sizes) + " |")
        print(f"| **all {len(test)}** | {totals[0]} | "
              + " | ".join(f"**{_bpb(n, totals[0]):.3f}**" for n in totals[1:]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
