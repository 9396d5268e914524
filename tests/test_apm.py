"""Secondary estimation (neuralzip.apm): PAQ's stretch, a by-hand reference of FORMAT.md "Secondary estimation",
batch independence, what the maps learn, and lstm384-v7's frequencies frozen."""

import hashlib
import math

import pytest
import torch

from neuralzip import zoo
from neuralzip.apm import INITIAL_POINTS, STRETCH_TABLE, AdaptiveProbabilityMaps, squash
from neuralzip.model import LSTMModel
from neuralzip.predictor import Predictor
from neuralzip.train.maps import with_maps
from test_predictor import LINE, TEXT, _trace
from test_predictor import _model as _any_model
from hosted import host, same


def _model(**config) -> LSTMModel:
    return _any_model("lstm384-v7", **config)


def test_stretch_inverts_squash():
    assert [squash((j - 16) * 128) for j in range(33)][1:-1] == [2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488,
                                                               747, 1101, 1546, 2047, 2549, 2994, 3348, 3607, 3785,
                                                               3901, 3975, 4022, 4050, 4068, 4079, 4085, 4089, 4092,
                                                               4093]
    assert STRETCH_TABLE == sorted(STRETCH_TABLE) and STRETCH_TABLE[2047] <= 0 <= STRETCH_TABLE[2048]
    for p in range(1, 4095):
        x = STRETCH_TABLE[p]
        assert squash(x) >= p and (x == -2047 or squash(x - 1) < p)
    assert INITIAL_POINTS[16] == 2047 * 16


class Reference:
    """FORMAT.md "Secondary estimation" for one group, in plain Python integers, one dict per order."""

    def __init__(self, members: int, orders, word: bool, r: int, limit: int, share: int):
        self.orders, self.r, self.limit, self.share = list(orders) + ["word"] * word, r, limit, share
        self.points = [{} for _ in self.orders]     # row -> 33 points
        self.hits = [{} for _ in self.orders]
        self.last = [[10] * 4 for _ in range(members)]
        self.word = [0] * members

    def _row(self, member: int, order, node: int) -> int:
        c = 0
        for x in self.last[member][-order:] if order != "word" else []:
            c = c << 8 | x
        if order == "word":
            c = self.word[member] & 0xFFFFFF
        key = c * 255 + node
        return key if order == 1 else ((key * 0x5BD1E995) & 0xFFFFFFFF) >> (32 - self.r)

    def _point(self, i: int, row: int, j: int) -> int:
        return self.points[i].get(row, INITIAL_POINTS)[j]

    def _node(self, member: int, f: list[int], node: int):
        d = (node + 1).bit_length() - 1
        prefix = node + 1 - (1 << d)
        span = 256 >> d
        n0 = sum(f[prefix * span:prefix * span + span // 2])
        n1 = sum(f[prefix * span + span // 2:prefix * span + span])
        p = min(max((n1 << 12) // (n0 + n1), 1), 4095)
        position = STRETCH_TABLE[p] + 2048
        return p, position >> 7, position & 127

    def frequencies(self, member: int, f: list[int]) -> list[int]:
        share = [1 << 24]
        for d in range(8):
            nxt = []
            for prefix in range(1 << d):
                node = (1 << d) - 1 + prefix
                p, lo, w = self._node(member, f, node)
                d_lo = d_hi = 0
                for i, k in enumerate(self.orders):
                    row = self._row(member, k, node)
                    d_lo += self._point(i, row, lo) - INITIAL_POINTS[lo]
                    d_hi += self._point(i, row, lo + 1) - INITIAL_POINTS[lo + 1]
                m = (INITIAL_POINTS[lo] * (128 - w) + INITIAL_POINTS[lo + 1] * w) >> 7
                a = m + ((d_lo * (128 - w) + d_hi * w) >> 7) // len(self.orders)
                pi = min(max(((p << 4) * (16 - self.share) + a * self.share) >> 4, 16), 65520)
                one = (share[prefix] * pi) >> 16
                nxt += [share[prefix] - one, one]
            share = nxt
        return [v + 1 for v in share]

    def update(self, step: list[tuple[int, list[int], int]]):
        """step: (member, its frequencies, its byte) for every member with a byte at this step."""
        errors = {}
        for member, f, x in step:
            for d in range(8):
                node = (1 << d) - 1 + (x >> (8 - d))
                e = 65535 * (x >> (7 - d) & 1)
                _, lo, w = self._node(member, f, node)
                for i, k in enumerate(self.orders):
                    row = self._row(member, k, node)
                    for j, weight in ((lo, 128 - w), (lo + 1, w)):
                        entry = errors.setdefault((i, row, j), [0, 0, 0])
                        entry[0] += (e - self._point(i, row, j)) * weight
                        entry[1] += weight
                        entry[2] += 1
        for (i, row, j), (error, weight, m) in errors.items():
            h = self.hits[i].get(row, [0] * 33)
            points = list(self.points[i].get(row, INITIAL_POINTS))
            points[j] += error // (min(h[j], 128 * self.limit) + 192 + 128 * m)
            h = list(h)
            h[j] = min(h[j] + weight, 128 * self.limit)
            self.points[i][row], self.hits[i][row] = points, h
        for member, _, x in step:
            self.last[member] = self.last[member][1:] + [x]
            v, folded = self.word[member], x | 0x20
            if 97 <= folded <= 122 or 0xC0 <= x < 0xE0 or (0x80 <= x < 0xC0 and v):
                self.word[member] = (((v ^ (x if x >= 128 else folded)) * 0x5BD1E995) & 0xFFFFFFFF) | 1
            else:
                self.word[member] = 0


def test_the_maps_are_what_format_md_says():
    rows = ["abracadabra Abracadabra".encode(), "cadabra! éa".encode(), "abraxas abracadabra é".encode()]
    freqs = torch.tensor([[1 + (7 * b * b + 3 * b) % 50 for b in range(256)]] * 3, dtype=torch.int64)
    freqs[:, 97] += 900                                                              # 'a' is likely
    settings = dict(orders=(1, 2), word=True, r=8, limit=3, share=12)
    apm = AdaptiveProbabilityMaps([0, 0, 0], list(map(len, rows)), settings["orders"], settings["r"],
                                  settings["limit"], settings["share"], 10, torch.device("cpu"), word=True)
    ref = Reference(3, **settings)
    for t in range(max(map(len, rows))):
        f = freqs * (1 + t % 3)
        got = host(apm.mix(f))
        live = [b for b in range(3) if t < len(rows[b])]
        for b in live:
            assert got[b].tolist() == ref.frequencies(b, f[b].tolist()), (t, b)
        symbols = torch.tensor([rows[b][t] if t < len(rows[b]) else 0 for b in range(3)])
        apm.update(t, symbols)
        ref.update([(b, f[b].tolist(), rows[b][t]) for b in live])


def test_fresh_maps_nearly_keep_the_prediction():
    freqs = torch.tensor([[1 + (b * 37) % 101 for b in range(256)]], dtype=torch.int64) << 10
    apm = AdaptiveProbabilityMaps([0], [1], (1, 2), 16, 128, 12, 10, torch.device("cpu"))
    got = host(apm.mix(freqs)).double()
    p, q = freqs.double() / freqs.sum(), got / got.sum()
    assert got.sum() == (1 << 24) + 256 and float((p * (p / q).log2()).sum()) < 0.01     # KL in bits


def test_the_maps_learn_what_the_prediction_misses():
    """Under a flat prediction, 'ab' repeated costs 8 bits a byte; order-1 maps learn that b follows a. (With the
    whole say, a share of 16; at 12 each decision keeps a quarter of its flat 1/2, and a byte costs 1.54 bits.)"""
    data = b"ab" * 400
    apm = AdaptiveProbabilityMaps([0], [len(data)], (1,), 16, 128, 16, 10, torch.device("cpu"))
    flat, bits = torch.ones(1, 256, dtype=torch.int64), []
    for t, x in enumerate(data):
        f = host(apm.mix(flat)).double()[0]
        bits.append(-math.log2(f[x] / f.sum()))
        apm.update(t, torch.tensor([x]))
    assert bits[0] > 7.9 and sum(bits[-100:]) / 100 < 0.3


def test_a_group_gives_the_same_frequencies_in_any_batch():
    model = _model()
    group = [TEXT, LINE * 3, TEXT[::-1]]
    alone = _trace(model, group, [5, 5, 5])
    others = [TEXT.upper() * 2, bytes(range(256)), LINE]
    mixed = _trace(model, others[:2] + group + others[2:], [1, 1, 5, 5, 5, 9])
    assert same(alone, mixed[:alone.shape[0], 2:5])


@pytest.mark.parametrize("config", [dict(apm_orders=(2, 1)), dict(apm_orders=(1, 4)), dict(apm_table_bits=4),
                                    dict(apm_limit=0), dict(apm_share=17), dict(apm_word=2),
                                    dict(apm_orders=(1,), apm_word=1, apm_table_bits=0),
                                    dict(match_group_bytes=0, match_local_bits=0)])
def test_bad_map_settings_are_refused(config):
    with pytest.raises(ValueError, match="adaptive probability maps"):
        Predictor(_model(count_orders=(), count_betas=(), **config), 1, 10)


def test_the_models_with_maps_are_lstm384_v10_with_maps():
    """lstm384-v11 and lstm384-v12 are what their cards' commands make of lstm384-v10, and lstm384-v7 of
    lstm384-v6, byte for byte (so, the same SHA-256)."""
    for made_of, base, mass in (("lstm384-v11", "lstm384-v10", 0), ("lstm384-v12", "lstm384-v10", 8),
                                ("lstm384-v7", "lstm384-v6", 0)):
        model = zoo.load(made_of)
        made = with_maps(zoo.load(base), (1, 2), True, 16, 128, 12, made_of, model.description, mass)
        assert hashlib.sha256(made).digest() == model.sha256



def test_maps_on_the_heavy_nodes_only():
    """apm_mass: nodes holding less than 2**-mass of the frequencies keep the prediction exactly (FORMAT.md
    "Secondary estimation"); with every node above the threshold the maps are the full ones."""
    freqs = torch.full((1, 256), 1, dtype=torch.int64)
    freqs[0, 65] = 1 << 20                       # nearly all the mass under one byte's path
    full = AdaptiveProbabilityMaps([0], [1], (1,), 16, 128, 16, 10, torch.device("cpu"))
    heavy = AdaptiveProbabilityMaps([0], [1], (1,), 16, 128, 16, 10, torch.device("cpu"), mass=8)
    a, b = host(full.mix(freqs)), host(heavy.mix(freqs))
    assert not same(a, b)
    # every byte off the heavy path sits under a light node at depth 2 or below: its split is the prediction's
    assert b[0, 128] == b[0, 129] == b[0, 200]
    assert same(AdaptiveProbabilityMaps([0], [1], (1,), 16, 128, 16, 10, torch.device("cpu"),
                                               mass=24).mix(torch.full((1, 256), 7)), host(full.mix(torch.full((1, 256), 7))))


def test_golden_frequencies():
    """lstm384-v7's frequencies, frozen (FORMAT.md "Secondary estimation"): a change here changes every stream
    made with it."""
    f = _trace(_model(), [TEXT, LINE, TEXT[40:]], [0, 0, 0])
    assert hashlib.sha256(f.numpy().tobytes()).hexdigest()[:16] == "d046802bda6ecdb8"
