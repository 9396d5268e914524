"""Give a model a bit mixer (neuralzip.mixer): the same network, match model, counts and maps, in a new model file
with the mixer's settings. The mixer learns everything from the file being compressed, so nothing here is
calibrated; the settings were chosen on the development set (neuralzip/models/CHOICES.md "The bit mixer")."""

from __future__ import annotations

import dataclasses

from .. import modelfile


def with_mixer(model: modelfile.ModelFile, table_bits: int, rate: int, limit: int, name: str,
               description: str = "") -> bytes:
    config = dataclasses.replace(model.config, mixer_table_bits=table_bits, mixer_rate=rate, mixer_limit=limit)
    return modelfile.dump(name, config, model.tensors, description)


if __name__ == "__main__":
    import argparse
    import hashlib
    from pathlib import Path

    from .. import zoo
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model", help="an embedded model's name or a model file")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--table-bits", type=int, default=16, help="blocks of 16 probabilities per context model: 2**bits")
    p.add_argument("--rate", type=int, default=12, help="the mixing weights' learning rate")
    p.add_argument("--limit", type=int, default=255, help="a probability's count stops growing here")
    p.add_argument("--description", default="")
    a = p.parse_args()
    data = with_mixer(zoo.load(a.model), a.table_bits, a.rate, a.limit, a.name, a.description)
    a.out.write_bytes(data)
    print(f"{a.out}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
