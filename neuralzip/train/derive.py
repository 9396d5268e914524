"""A model made of another by new settings of its config alone (the same network and tensors): the commands that
give a model adaptive probability maps (neuralzip.train.maps) or a bit mixer (neuralzip.train.mixer)."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
from pathlib import Path

from .. import modelfile


def derived(model: modelfile.ModelFile, name: str, description: str = "", **settings) -> bytes:
    """The model file of model with these config fields set, named name."""
    return modelfile.dump(name, dataclasses.replace(model.config, **settings), model.tensors, description)


def main(doc: str, add_settings, settings_of, argv: list[str] | None = None) -> None:
    """A command: MODEL -o OUT --name NAME [--description TEXT] and the settings add_settings(parser) adds, which
    settings_of(args) turns into config fields."""
    from .. import zoo
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("model", help="an embedded model's name or a model file")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--name", required=True)
    add_settings(p)
    p.add_argument("--description", default="")
    a = p.parse_args(argv)
    data = derived(zoo.load(a.model), a.name, a.description, **settings_of(a))
    a.out.write_bytes(data)
    print(f"{a.out}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
