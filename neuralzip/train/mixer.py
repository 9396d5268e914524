"""Give a model a bit mixer (neuralzip.mixer): the same network, match model, counts and maps, in a new model file
with the mixer's settings. The mixer learns everything from the file being compressed, so nothing here is
calibrated; the settings were chosen on the development set (neuralzip/models/CHOICES.md "The bit mixer")."""

from __future__ import annotations

from .. import modelfile
from .derive import derived, main


WITHOUT_COUNTS = dict(count_orders=(), count_betas=(), count_table_bits=0, count_word=0)


def mixer_settings(table_bits: int, rate: int, limit: int, map_order: int = 0, counts: bool = True,
                   key: bool = False) -> dict:
    """The config fields of a bit mixer of these settings; counts=False also drops the model's context counts (the
    mixer's context models take their place)."""
    return dict(mixer_table_bits=table_bits, mixer_rate=rate, mixer_limit=limit, mixer_map_order=map_order,
                **({} if counts else WITHOUT_COUNTS), **({"mixer_key": 1} if key else {}))


def with_mixer(model: modelfile.ModelFile, table_bits: int, rate: int, limit: int, name: str,
               description: str = "", map_order: int = 0, counts: bool = True, key: bool = False) -> bytes:
    return derived(model, name, description, **mixer_settings(table_bits, rate, limit, map_order, counts, key))


def _add_settings(p):
    p.add_argument("--table-bits", type=int, default=16, help="blocks of 16 probabilities per context model: 2**bits")
    p.add_argument("--rate", type=int, default=12, help="the mixing weights' learning rate")
    p.add_argument("--limit", type=int, default=255, help="a probability's count stops growing here")
    p.add_argument("--map-order", type=int, default=0,
                   help="> 0: the network's decision through an adaptive map on the last this many bytes, as one "
                        "more input (default 0: none)")
    p.add_argument("--key", action="store_true",
                   help="a 13th context model: the key (JSON's, an XML attribute's or tag's name) with the token")
    p.add_argument("--without-counts", action="store_true",
                   help="drop the model's context counts: the mixer's context models take their place")


def _settings(a) -> dict:
    return mixer_settings(a.table_bits, a.rate, a.limit, a.map_order, not a.without_counts, a.key)


if __name__ == "__main__":
    main(__doc__, _add_settings, _settings)
