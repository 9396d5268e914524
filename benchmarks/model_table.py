"""Compare model files on ratio and speed: the table behind the choice of architecture (models/CHOICES.md).

    python -m benchmarks.model_table MODEL.nzm... [--dev data/corpus/dev.bin] [--dev-bytes 262144]
                                     [--speed-file ../shared/corpus/calgary/book1] [--level 6]

For each model: its size; the integer model's bits per byte (ideal code length, chunks of the level's size) on the
first --dev-bytes of a development split and on the English texts of the corpus (alice29, asyoulik, lcet10,
plrabn12, book1, book2, paper1-6, news, bib) taken together; and compress / decompress KB/s of the real API on
--speed-file, round trip verified. Run it with nothing else busy: speed depends on the machine being idle.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

import neuralzip
from neuralzip import zoo
from neuralzip.train.evaluate import integer_bits

from .inputs import DEFAULT_CORPUS, ENGLISH_TEXTS


def measure(path: Path, dev: bytes, english: list[bytes], speed_data: bytes, level: int) -> dict:
    model = zoo.load(path)
    runtime = zoo.runtime(model, torch.device("cpu"))
    chunk = zoo.level(level).chunk_size
    row = {"model": model.name, "hidden": model.config.hidden, "bytes": path.stat().st_size}
    if dev:
        row["dev_bpb"] = integer_bits(runtime, dev, chunk) / len(dev)
    if english:
        row["english_bpb"] = sum(integer_bits(runtime, d, chunk) for d in english) / sum(map(len, english))
    start = time.monotonic()
    blob = neuralzip.compress(speed_data, level, model=path)
    middle = time.monotonic()
    assert neuralzip.decompress(blob, model=path) == speed_data
    end = time.monotonic()
    row["compress_kbs"] = len(speed_data) / (middle - start) / 1e3
    row["decompress_kbs"] = len(speed_data) / (end - middle) / 1e3
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.model_table", description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="+", type=Path)
    p.add_argument("--dev", type=Path, help="development split to measure on (e.g. data/corpus/dev.bin)")
    p.add_argument("--dev-bytes", type=int, default=1 << 18)
    p.add_argument("--speed-file", type=Path, default=DEFAULT_CORPUS / "calgary" / "book1")
    p.add_argument("--level", type=int, default=neuralzip.DEFAULT_LEVEL)
    args = p.parse_args(argv)
    dev = args.dev.read_bytes()[:args.dev_bytes] if args.dev else b""
    english = [(DEFAULT_CORPUS / f).read_bytes() for f in ENGLISH_TEXTS if (DEFAULT_CORPUS / f).is_file()]
    speed_data = args.speed_file.read_bytes()
    print(f"level {args.level}; speed on {args.speed_file.name} ({len(speed_data)} bytes), "
          f"{torch.get_num_threads()} threads\n")
    print("| model | cells | file bytes | dev bpb | English bpb | compress KB/s | decompress KB/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path in args.models:
        r = measure(path, dev, english, speed_data, args.level)
        print(f"| {r['model']} | {r['hidden']} | {r['bytes']:,} | {r.get('dev_bpb', float('nan')):.3f} | "
              f"{r.get('english_bpb', float('nan')):.3f} | {r['compress_kbs']:.0f} | {r['decompress_kbs']:.0f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
