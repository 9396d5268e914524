"""``python -m benchmarks.ratio LEVELS FILE...``: bits per byte only, no timing, each round trip verified.

For comparing streams while the machine is busy (sizes do not depend on load): one line per file, with xz -9e's
size beside neuralzip's at each level and the frames each stream holds. `--models A,B` adds neuralzip with each
of those models (embedded names or model files, at the default level's chunks), `--zpaq` zpaq -m5 (the archive's
size), and `--head N` takes the first N bytes of each file.
"""

from __future__ import annotations

import argparse
import lzma
from pathlib import Path

import neuralzip


def row(path: Path, levels: list[int], models: list[str] = (), head: int | None = None, zpaq: bool = False) -> str:
    data = path.read_bytes()[:head]
    cells = [path.name, str(len(data)), f"xz-9e {_bpb(len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)), data)}"]
    for name, options in [(f"-{n}", {"level": n}) for n in levels] + [(m, {"model": m}) for m in models]:
        packed = neuralzip.compress(data, **options)
        model = options.get("model")            # a model file must be named to read its streams
        if neuralzip.decompress(packed, model=model) != data:
            raise SystemExit(f"{path}: {name} did not round-trip")
        frames = {kind: n for kind, n in neuralzip.describe(packed, model=model)[0].frames.items() if n}
        cells.append(f"{name} {_bpb(len(packed), data)} {frames}")
    if zpaq:
        from .peers import zpaq_codec
        codec = zpaq_codec()
        packed = codec.compress(data)
        if codec.decompress(packed) != data:
            raise SystemExit(f"{path}: zpaq -m5 did not round-trip")
        cells.append(f"zpaq-m5 {_bpb(len(packed), data)}")
    return "\t".join(cells)


def _bpb(size: int, data: bytes) -> str:
    return f"{8 * size / max(len(data), 1):.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ratio", description=__doc__.splitlines()[0])
    parser.add_argument("levels", help="neuralzip levels, comma-separated (or '' for none)")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--models", default="", help="neuralzip models too, comma-separated (names or files)")
    parser.add_argument("--head", type=int, help="the first HEAD bytes of each file")
    parser.add_argument("--zpaq", action="store_true", help="zpaq -m5 too (Debian: apt-get install -y zpaq)")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",") if n]
    models = [m for m in args.models.split(",") if m]
    for path in args.files:
        print(row(path, levels, models, args.head, args.zpaq), flush=True)


if __name__ == "__main__":
    main()
