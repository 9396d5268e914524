"""``python -m benchmarks.chunk_sizes SIZES FILE[:N]...``: a level's size and speed at other chunk sizes.

Shorter chunks put more streams in lockstep, so a small input takes fewer steps, each dearer; they also start the
network's state afresh more often. This measures both sides for choosing a level's chunk size: per file (FILE:N
takes its first N bytes) and chunk size, the bits per byte and the in-process KB/s each way (the best of --repeat
runs, after one warm-up; start-up is not counted), every round trip verified. The compressor's chunk size is set
past the level's own (readers take any, from the stream's header). Time it on an idle machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import neuralzip
from neuralzip.api import NeuralZipCompressor


def measure(data: bytes, level: int | None, chunk_size: int, repeat: int) -> tuple[float, float, float]:
    """(bits per byte, compress KB/s, decompress KB/s) of data at level with chunks of chunk_size."""
    best_c = best_d = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        compressor = NeuralZipCompressor(level)
        compressor._chunk_size = chunk_size
        packed = compressor.compress(data) + compressor.flush()
        best_c = min(best_c, time.perf_counter() - start)
        start = time.perf_counter()
        back = neuralzip.decompress(packed)
        best_d = min(best_d, time.perf_counter() - start)
        if back != data:
            raise SystemExit(f"chunks of {chunk_size}: the round trip lost data")
    return 8 * len(packed) / len(data), len(data) / best_c / 1000, len(data) / best_d / 1000


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.chunk_sizes", description=__doc__.split("\n\n")[0])
    p.add_argument("sizes", help="chunk sizes, comma-separated powers of two (e.g. 4096,2048,1024)")
    p.add_argument("files", nargs="+", help="FILE or FILE:N (its first N bytes)")
    p.add_argument("--level", type=int, default=None, help="the level (default: the default level)")
    p.add_argument("--repeat", type=int, default=2, help="runs per cell, the best kept (default 2)")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    warm = b"the compiled loops loaded once " * 100
    neuralzip.decompress(neuralzip.compress(warm, args.level))
    for spec in args.files:
        path, _, n = spec.partition(":")
        data = Path(path).read_bytes()[:int(n)] if n else Path(path).read_bytes()
        cells = [f"{Path(path).name}{f'[:{n}]' if n else ''}", str(len(data))]
        for size in sizes:
            bpb, up, down = measure(data, args.level, size, args.repeat)
            cells.append(f"{size}: {bpb:.3f} bpb {up:.1f} / {down:.1f} KB/s")
        print("\t".join(cells), flush=True)


if __name__ == "__main__":
    main()
