"""The predictor: the network plus the match model, exact integers, independent of the batch. (Context counts,
which lstm384-v4 adds after the match model, have tests of their own: test_counts.py.)"""

import dataclasses
import hashlib
import math

import pytest
import torch

from neuralzip import intops, zoo
from neuralzip.model import LSTMModel
from neuralzip.predictor import LENGTH_CAP, Predictor
from hosted import host, same

LINE = b"2026-11-27 23:01:17 host=web-07 id=9f3ac2e1 GET /api/v2/orders/48213 status=200\n"
TEXT = LINE + LINE.replace(b"23:01:17", b"23:01:19") + LINE.replace(b"48213", b"48291") + LINE


def _model(name: str = "lstm384-v3", **config) -> LSTMModel:
    m = zoo.load(name)
    return LSTMModel(dataclasses.replace(m.config, **config), m.tensors)


def _trace(model: LSTMModel, rows: list[bytes], groups: list[int] | None = None, pad: bytes = b"\0",
           ends: bool = True) -> torch.Tensor:
    """(T, B, V) frequencies for each row's bytes, all rows in one lockstep batch (shorter rows padded; with
    ends=False the predictor is not told where rows end and models the padding too)."""
    steps = max(map(len, rows))
    tokens = torch.tensor([list(r.ljust(steps, pad)) for r in rows], dtype=torch.int64)
    p, out = Predictor(model, len(rows), steps, groups, [len(r) for r in rows] if ends else None), []
    for t in range(steps):
        out.append(host(p.frequencies()))
        p.advance(tokens[:, t])
    return torch.stack(out)


def _bits(freqs: torch.Tensor, data: bytes) -> float:
    """Ideal code length of data (one stream) under its frequency trace (T, V)."""
    f = freqs.double()
    idx = torch.tensor(list(data))[:, None]
    return float(-torch.log2(f.gather(1, idx).squeeze(1) / f.sum(1)).sum())


def test_the_default_model_has_a_match_model_and_v1_has_none():
    assert zoo.load(zoo.DEFAULT_MODEL).config.match_context == 4 and zoo.load("lstm384-v3").config.match_context == 4
    assert zoo.load("lstm384-v1").config.match_context == 0


def test_without_a_match_model_the_predictor_is_the_network():
    model = _model(match_context=0)
    state, prev = model.initial_state(1), model.start_tokens(1)
    bare = []
    for byte in TEXT:
        state = model.step(state, prev)
        bare.append(host(model.frequencies(state)))
        prev = torch.tensor([byte])
    assert same(torch.cat(bare), _trace(model, [TEXT])[:, 0])


def test_repeats_cost_far_less_with_the_match_model():
    with_match, without = _model(), _model(match_context=0)
    second = slice(len(LINE), len(TEXT))            # everything after the first line repeats it, mostly
    a = _bits(_trace(with_match, [TEXT])[second, 0], TEXT[second])
    b = _bits(_trace(without, [TEXT])[second, 0], TEXT[second])
    assert a < 0.6 * b
    # the first line has nothing to match: the same as the network alone, bit for bit
    first = slice(0, len(LINE))
    assert same(_trace(with_match, [TEXT])[first], _trace(without, [TEXT])[first])


def test_one_stream_alone_equals_the_same_stream_in_a_batch():
    model = _model()
    others = [TEXT[::-1], TEXT.upper(), LINE * 5, b"abcd" * 3, bytes(range(256))]
    alone = _trace(model, [TEXT])[:, 0]
    batched = _trace(model, others[:3] + [TEXT] + others[3:])[:len(TEXT), 3]
    assert same(alone, batched)


def test_frequencies_stay_exact_in_float64_for_the_coder():
    f = _trace(_model(), [LINE * 40])           # long matches: confidence at its cap
    assert f.dtype == torch.int64 and int(f.min()) >= 1 and int(f.sum(-1).max()) < 1 << 53
    worst = float(f[-1, 0].max()) / float(f[-1, 0].sum())
    assert worst < 1 and -math.log2(worst) < 0.01    # a long match is almost free, never certain
    assert LENGTH_CAP == 64


def test_golden_frequencies():
    """The match model's semantics, frozen: any change here changes every stream made with lstm384-v2."""
    f = _trace(_model("lstm384-v2"), [TEXT, LINE], ends=False)     # frozen with LINE's padding modelled as bytes
    assert hashlib.sha256(f.numpy().tobytes()).hexdigest()[:16] == GOLDEN
    live = _trace(_model("lstm384-v2"), [TEXT, LINE])              # told where LINE ends: the same until then
    assert same(live[:, 0], f[:, 0]) and same(live[:len(LINE), 1], f[:len(LINE), 1])


GOLDEN = "a24857e939a8271b"


def test_prior_calibration_counts_hits_and_gives_positive_pseudo_counts():
    from neuralzip.predictor import N_CELLS, PRIOR_UNIT
    from neuralzip.train import match_prior
    base = zoo.load("lstm384-v1")
    config, hits, misses = match_prior.calibrated(base, TEXT * 3, strength=8)
    assert hits.sum() > misses.sum() > 0                 # repeated lines: mostly right
    prior = config.match_prior
    assert len(prior) == 2 * N_CELLS and min(prior) >= 1
    assert all(h + m == 8 * PRIOR_UNIT for h, m in zip(prior[:N_CELLS], prior[N_CELLS:]))


def _grouped(**config) -> LSTMModel:
    return _model("lstm384-v2", match_group_bytes=1 << 22, match_table_bits=16, **config)


def test_streams_of_one_group_match_each_others_text():
    model = _grouped()
    first, second = LINE * 2 + b"x" * 40, b"y" * 40 + TEXT          # second repeats what first had before it
    together = _trace(model, [first, second], [0, 0])[:, 1]
    apart = _trace(model, [first, second], [0, 1])[:, 1]
    assert _bits(together, second) < 0.8 * _bits(apart, second)
    # in groups of one, grouped or not is the same model
    assert same(apart, _trace(_model("lstm384-v2", match_table_bits=16), [first, second])[:, 1])


def test_a_group_gives_the_same_frequencies_in_any_batch():
    model = _grouped()
    group = [TEXT, LINE * 3, TEXT[::-1]]
    alone = _trace(model, group, [5, 5, 5])
    others = [TEXT.upper() * 2, bytes(range(256)), LINE]       # longer rows change the batch's width
    mixed = _trace(model, others[:2] + group + others[2:], [1, 1, 5, 5, 5, 9])
    assert same(alone, mixed[:alone.shape[0], 2:5])


def test_bytes_past_a_streams_end_never_reach_its_group():
    model = _grouped()
    rows = [TEXT, LINE[:30]]    # the short row ends where TEXT's later lines would go on matching it
    zeros, other = _trace(model, rows, [0, 0], pad=b"\0"), _trace(model, rows, [0, 0], pad=b"q")
    assert same(zeros[:, 0], other[:, 0]) and same(zeros[:30, 1], other[:30, 1])


def test_a_chunks_own_table_is_looked_up_before_its_groups():
    # second's own "the " (step 13) says "c"; first's, newer in the group's table (step 23), says "d"
    first = b"x" * 20 + b"the d" + b"x" * 60
    second = b"y" * 10 + b"the c" + b"y" * 30 + b"Zthe c" + b"y" * 10    # Z: a miss, then lookups again
    shared_only = _trace(_grouped(), [first, second], [0, 0])[:, 1]
    with_own = _trace(_grouped(match_local_bits=12), [first, second], [0, 0])[:, 1]
    at = 50                                                # the byte after second's second "the "
    share = lambda f, byte: float(f[at, ord(byte)]) / float(f[at].sum())
    assert share(shared_only, "d") > share(with_own, "d") and share(with_own, "c") > share(shared_only, "c")


def test_golden_grouped_frequencies():
    """Match groups, frozen (FORMAT.md "Match groups"): a change here changes every stream made with lstm384-v3."""
    assert zoo.load("lstm384-v3").config.match_group_bytes == 1 << 22
    f = _trace(_model("lstm384-v3"), [TEXT, LINE, TEXT[40:]], [0, 0, 0])
    assert hashlib.sha256(f.numpy().tobytes()).hexdigest()[:16] == GOLDEN_GROUPED


GOLDEN_GROUPED = "9dab30c4bffbc303"


class Reference:
    """The match model of one chunk (match_group_bytes = 0) exactly as FORMAT.md's "Match model" states it, in plain
    Python integers: an independent check of the arithmetic that test_golden_frequencies freezes. (Written from
    FORMAT.md, it found the document's count of cells wrong: 20 length buckets, 160 cells, not 21 and 168.)"""

    CELLS = 20 * 8

    def __init__(self, table_bits: int, prior: list[int]):
        assert len(prior) == 2 * self.CELLS
        self.m, self.prior_hits, self.prior_misses = table_bits, prior[:self.CELLS], prior[self.CELLS:]
        self.table = [0] * (1 << table_bits)
        self.history, self.ctx, self.ptr, self.length = [], 0, 0, 0
        self.hits, self.misses = [0] * self.CELLS, [0] * self.CELLS

    def _cell(self, f_predicted: int, total: int) -> int:
        n = self.length
        bucket = n if n <= 15 else 16 + (n >= 24) + (n >= 32) + (n >= 48)
        p = sum(64 * f_predicted >= total * threshold for threshold in (1, 4, 8, 16, 32, 48, 56))
        return 8 * bucket + p

    def frequencies(self, f: list[int]) -> list[int]:
        """The network's frequencies f, adjusted before the next byte."""
        if not self.length:
            return list(f)
        total, predicted = sum(f), self.history[self.ptr]
        cell = self._cell(f[predicted], total)
        h = 16 * self.hits[cell] + self.prior_hits[cell]
        m = 16 * self.misses[cell] + self.prior_misses[cell]
        boost = min(max((h * total - f[predicted] * (h + m)) // m, 0), total * 2 ** 10)
        out = list(f)
        out[predicted] += boost
        self._pending_cell = cell
        return out

    def advance(self, x: int) -> None:
        t = len(self.history)
        if self.length:
            hit = self.history[self.ptr] == x
            (self.hits if hit else self.misses)[self._pending_cell] += 1
            self.length, self.ptr = (min(self.length + 1, 64), self.ptr + 1) if hit else (0, self.ptr)
        self.history.append(x)
        self.ctx = ((self.ctx << 8) | x) & 0xFFFFFFFF
        if t >= 3:
            slot = ((self.ctx * 2654435761) & 0xFFFFFFFF) >> (32 - self.m)
            key = (self.ctx & 0x7FFFFFFF) << 32
            e = self.table[slot]
            if self.length == 0 and e > 0 and e >> 32 == key >> 32:
                self.ptr, self.length = e & 0xFFFFFFFF, 4
            self.table[slot] = key | (t + 1)


def test_the_match_model_is_formats_reference():
    """lstm384-v2's frequencies are its network's (the same model with match_context 0) adjusted by Reference: the
    golden digest of test_golden_frequencies, remade from FORMAT.md's text."""
    model, network = _model("lstm384-v2"), _model("lstm384-v2", match_context=0)
    rows = [TEXT, LINE.ljust(len(TEXT), b"\0")]          # as the golden trace models LINE's padding
    net = _trace(network, rows, ends=False)
    out, hits, misses = torch.zeros(net.shape, dtype=torch.int64), 0, 0
    for b, row in enumerate(rows):
        reference = Reference(model.config.match_table_bits, list(model.config.match_prior))
        for t, byte in enumerate(row):
            out[t, b] = torch.tensor(reference.frequencies(net[t, b].tolist()))
            reference.advance(byte)
        hits, misses = hits + sum(reference.hits), misses + sum(reference.misses)
    assert hits > 20 and misses > 0                     # matches were found, kept and lost
    assert hashlib.sha256(out.numpy().tobytes()).hexdigest()[:16] == GOLDEN


class _HostSyncs(torch.utils._python_dispatch.TorchDispatchMode):
    """Counts the operations that would make a GPU step wait for the host: results whose size depends on the data
    (nonzero, unique, boolean indexing, masked_select, repeat_interleave by a tensor), a value read by Python (item,
    tolist, bool of a tensor: _local_scalar_dense), torch.equal, and any copy to another device."""
    SIZED_BY_DATA = {"nonzero", "nonzero_static", "_unique", "_unique2", "unique_dim", "unique_consecutive",
                     "masked_select", "argwhere", "_local_scalar_dense", "equal", "is_nonzero", "item"}

    def __init__(self):
        super().__init__()
        self.syncs = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__
        flat = [a for arg in list(args) + list(kwargs.values())
                for a in (arg if isinstance(arg, (list, tuple)) else [arg])]
        tensors = [a for a in flat if isinstance(a, torch.Tensor)]
        if (name in self.SIZED_BY_DATA
                or (name in ("index", "index_put", "index_put_")
                    and any(i is not None and i.dtype in (torch.bool, torch.uint8) for i in args[1]))
                or (name == "repeat_interleave" and isinstance(args[0], torch.Tensor) and "output_size" not in kwargs
                    and (len(args) < 2 or isinstance(args[1], torch.Tensor)))
                or (name in ("_to_copy", "to", "copy_") and kwargs.get("device") not in (None, tensors[0].device))):
            self.syncs.append(name)
        return func(*args, **kwargs)


@pytest.mark.parametrize("name", sorted({level.model for level in zoo.LEVELS.values()}))
def test_a_tensor_step_never_waits_for_the_host(monkeypatch, name):
    """The tensor path (the one CUDA runs) makes a step one stream of fixed-shape kernels: no operation whose
    result's size depends on the data and no value read back by Python, for every level's model (with the
    products CUDA would run: torch._int_mm where exact, else float64). Only the frequencies and symbols cross,
    which neuralzip.engine does outside the predictor."""
    monkeypatch.setenv("NEURALZIP_FUSED", "0")
    monkeypatch.setattr(intops, "_fastest",
                        lambda device, k, n, rows: "int_mm" if intops._int_mm_is_exact(device, k, n, rows)
                        else "float64")
    model = _model(name)
    rows = [TEXT, LINE[:6], TEXT[40:]]
    tokens = torch.tensor([list(r.ljust(len(TEXT), b"\0")) for r in rows], dtype=torch.int64)
    p = Predictor(model, len(rows), len(TEXT), [0, 0, 0], [len(r) for r in rows])
    p.frequencies()                    # the first step chooses the product's kernel (a timing, once per process)
    p.advance(tokens[:, 0])
    for t in range(1, 12):             # past the match model's first insert (step 4) and a finished stream
        with _HostSyncs() as mode:
            p.frequencies()
            p.advance(tokens[:, t])
        assert mode.syncs == [], (name, t)
    with _HostSyncs() as mode:         # the counter sees them
        torch.unique(tokens[0]), tokens[0][tokens[0] > 60], int(tokens[0, 0])
    assert mode.syncs == ["_unique2", "index", "_local_scalar_dense"]

