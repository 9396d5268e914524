"""Add a model file to the models the package embeds: its config goes to neuralzip/models/NAME.json, and its
network to neuralzip/models/networks/ unless a model already embedded has the same network.

    python -m neuralzip.train.embed MODEL.nzm [--network NAME]

The embedded model has the file's SHA-256 (its identity in streams): loading it joins the two parts back into the
file's bytes and checks that hash (neuralzip.zoo).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import zoo


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", type=Path, help="a model file (.nzm)")
    p.add_argument("--network", help="name for its network if no embedded model shares it (say, the model's name)")
    p.add_argument("--models-dir", type=Path, default=zoo.MODELS_DIR, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    path = zoo.embed(a.model.read_bytes(), a.network, a.models_dir)
    print(f"{path}: embedded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
