"""Give a model adaptive probability maps (neuralzip.apm): the same network, match model and counts, in a new model
file with the maps' settings. The maps learn everything from the file being compressed, so nothing here is
calibrated; the settings were chosen on the development split (neuralzip/models/CHOICES.md "Secondary
estimation")."""

from __future__ import annotations

from .. import modelfile
from .derive import derived, main


def with_maps(model: modelfile.ModelFile, orders: tuple, word: bool, table_bits: int, limit: int, share: int,
              name: str, description: str = "", mass: int = 0) -> bytes:
    return derived(model, name, description, apm_orders=tuple(orders), apm_word=int(word),
                   apm_table_bits=table_bits, apm_limit=limit, apm_share=share, apm_mass=mass)


def _add_settings(p):
    p.add_argument("--orders", default="1,2", help="context lengths of the maps, ascending (1 to 3)")
    p.add_argument("--word", action="store_true", help="a map on the word being read too")
    p.add_argument("--table-bits", type=int, default=16, help="rows per map but order 1's: 2**bits")
    p.add_argument("--limit", type=int, default=128, help="a point's hits are counted up to this")
    p.add_argument("--share", type=int, default=12, help="sixteenths of each decision that come from the maps")
    p.add_argument("--mass", type=int, default=0,
                   help="map only the nodes holding 2**-MASS of the frequencies or more (0: every node)")


def _settings(a) -> dict:
    return dict(apm_orders=tuple(int(k) for k in a.orders.split(",")), apm_word=int(a.word),
                apm_table_bits=a.table_bits, apm_limit=a.limit, apm_share=a.share, apm_mass=a.mass)


if __name__ == "__main__":
    main(__doc__, _add_settings, _settings)
