"""What sharing the match table across chunks is worth: the table behind "Match groups" in models/CHOICES.md.

    python -m benchmarks.match_groups [--model lstm384-v2] [FILE...]

For each file (default: six of the corpus), the integer model's bits per byte (ideal code length of the whole
file) under the model's network and prior with the match model set to each (chunk size, group, table) of
CONFIGS. No stream is written: it measures the predictor alone, one thread.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from neuralzip import zoo
from neuralzip.model import LSTMModel
from neuralzip.train.evaluate import integer_bits

from .inputs import DEFAULT_CORPUS

FILES = ["calgary/bib", "calgary/news", "calgary/book2", "calgary/paper1", "canterbury/alice29.txt",
         "canterbury-large/world192.txt"]
# (chunk size, match_group_bytes, match_table_bits, match_local_bits)
CONFIGS = [(16384, 0, 14, 0), (16384, 1 << 22, 18, 0), (16384, 1 << 22, 20, 0), (4096, 1 << 22, 20, 0),
           (4096, 0, 14, 0), (65536, 1 << 22, 20, 0), (16384, 1 << 22, 20, 14)]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="*", type=Path)
    p.add_argument("--model", default="lstm384-v2")
    p.add_argument("--limit", type=int, help="measure only the first LIMIT bytes of each file")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    base = zoo.load(a.model)
    paths = a.files or [DEFAULT_CORPUS / f for f in FILES]
    heads = [f"{c // 1024} KiB / {g >> 20 or 'no'} MiB groups / 2^{b}" + (f" + 2^{l} own" if l else "")
             for c, g, b, l in CONFIGS]
    print("| file | " + " | ".join(heads) + " |")
    print("| --- |" + " ---: |" * len(CONFIGS))
    for path in paths:
        data = path.read_bytes()[:a.limit]
        cells = []
        for chunk, group, bits, local in CONFIGS:
            config = dataclasses.replace(base.config, match_group_bytes=group, match_table_bits=bits,
                                         match_local_bits=local)
            cells.append(f"{integer_bits(LSTMModel(config, base.tensors), data, chunk) / len(data):.3f}")
        print(f"| {path.parent.name}/{path.name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
