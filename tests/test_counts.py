"""Context counts (neuralzip.counts): exact counts, batch independence, the blend, the choice among sets of betas,
and lstm384-v4's, lstm384-v5's and lstm384-v6's frequencies frozen."""

import dataclasses
import hashlib
import math
import random
from collections import Counter

import pytest
import torch

from neuralzip import zoo
from neuralzip.counts import COUNT_MAX, LOG2_TABLE, ContextCounts
from neuralzip.model import LSTMModel
from neuralzip.predictor import Predictor
from neuralzip.train import count_betas
from hosted import host, same

LINE = b"2026-11-27 23:01:17 host=web-07 id=9f3ac2e1 GET /api/v2/orders/48213 status=200\n"
TEXT = LINE + LINE.replace(b"23:01:17", b"23:01:19") + LINE.replace(b"48213", b"48291") + LINE
ORDERS = (2, 4, 8)


def _counts(rows: list[bytes], groups: list[int], table_bits: int = 16, betas=(0, 1) * 3) -> ContextCounts:
    return ContextCounts(groups, [len(r) for r in rows], ORDERS, betas, table_bits, 10, torch.device("cpu"))


def _run(rows: list[bytes], groups: list[int], **kw):
    """Each step's counts of each stream's context, per order: (T, B, K, 256), rows run in one lockstep batch."""
    steps = max(map(len, rows))
    tokens = torch.tensor([list(r.ljust(steps, b"\0")) for r in rows], dtype=torch.int64)
    cc, out = _counts(rows, groups, **kw), []
    for t in range(steps):
        out.append(host(cc.lookup()[0]).long())
        cc.update(t, tokens[:, t])
    return torch.stack(out), cc


def _exact(rows: list[bytes], order: int, stream: int, t: int) -> Counter:
    """What followed stream's context at step t in every row of its group before step t, counted by hand."""
    padded = [b"\n" + r for r in rows]        # every stream is read as following a newline (the start token)
    context = lambda r, i: (b"\0" * 16 + padded[r][:i + 1])[-order:]
    want = context(stream, t)
    return Counter(rows[r][i] for r in range(len(rows)) for i in range(min(t, len(rows[r])))
                   if context(r, i) == want)


WORDS = ("Der Bär sah den BÄR; der bär lief. "
         "The cat saw “THE Cat”—the cat ran… 猫が走った.\n" * 3).encode()


def _word_key(row: bytes, i: int) -> tuple[bytes, bytes]:
    """The word context before byte i, by hand: the word being read (ASCII letters case-folded, and UTF-8's
    two-byte characters) and the last word completed before it."""
    words, current = [b""], b""
    for x in row[:i]:
        if 97 <= (x | 0x20) <= 122 or 0xC0 <= x < 0xE0 or (0x80 <= x < 0xC0 and current):
            current += bytes([x if x >= 128 else x | 0x20])
        elif current:
            words.append(current)
            current = b""
    return current, words[-1]


def test_the_word_context_counts_what_followed_the_same_two_words():
    rows = [WORDS, WORDS[50:], b"x"]
    steps = max(map(len, rows))
    tokens = torch.tensor([list(r.ljust(steps, b"\0")) for r in rows], dtype=torch.int64)
    cc = ContextCounts([0, 0, 0], [len(r) for r in rows], ORDERS, (0, 1) * 4, 16, 10, torch.device("cpu"), word=True)
    for t in range(steps):
        seen = host(cc.lookup()[0])[:, 0].long()                  # the word context comes first
        for b, row in enumerate(rows):
            if t < len(row):
                want = Counter(rows[r][i] for r in range(3) for i in range(min(t, len(rows[r])))
                               if _word_key(rows[r], i) == _word_key(row, t))
                assert {x: int(seen[b, x]) for x in range(256) if seen[b, x]} == want, (b, t)
        cc.update(t, tokens[:, t])


def test_counts_are_what_followed_each_context_in_the_group():
    rows = [TEXT, LINE * 2, TEXT[::-1]]
    seen, _ = _run(rows, [0, 0, 0])
    for t in range(0, len(LINE) * 2, 7):
        for b in range(3):
            for k, order in enumerate(ORDERS):
                got = {v: int(seen[t, b, k, v]) for v in range(256) if seen[t, b, k, v]}
                assert got == dict(_exact(rows, order, b, t)), (t, b, order)


def test_groups_count_apart():
    rows = [TEXT, TEXT]
    together, _ = _run(rows, [0, 0])
    apart, _ = _run(rows, [0, 1])
    assert same(apart[:, 0], apart[:, 1])               # alone, each is the other's twin
    assert together[-1, 1].sum() > apart[-1, 1].sum()          # together, each sees the other's text too


def test_totals_and_kinds_follow_the_counts_through_halving():
    run = b"ab" * 600                                          # "ab" follows "ab" far more than 255 times
    seen, cc = _run([run, run[1:]], [0, 0])
    assert int(seen.max()) <= COUNT_MAX
    assert same(cc.totals, host(cc.counts).sum(1, dtype=torch.int64))
    assert same(cc.kinds, (cc.counts > 0).sum(1))


def test_a_full_table_keeps_frequent_contexts():
    # 2**8 rows for thousands of contexts: rare ones come and go, the frequent one stays
    rows = [bytes((i * 7919) % 251 for i in range(3000)) + b"the cat " * 50]
    seen, _ = _run(rows, [0], table_bits=8)
    assert int(seen[-1, 0, 1].sum()) >= 40                     # "cat " / "the " contexts of order 4 survive


def test_unseen_contexts_leave_the_prediction_alone():
    cc = _counts([TEXT], [0], betas=(3, 5) * 3)
    f = torch.randint(1 << 10, 1 << 16, (1, 256))   # (rarer bytes: the floor of 1 in 2**22)
    q = host(cc.mix(f))
    ratio = q.double() / f.double()
    assert float(ratio.max() / ratio.min()) < 1.01             # the same distribution, rescaled


def test_a_deterministic_context_predicts_strongly():
    steps = len(LINE) * 4
    cc = _counts([LINE * 4], [0])
    flat = torch.ones(1, 256, dtype=torch.int64)
    for t in range(steps - 1):
        cc.update(t, torch.tensor([(LINE * 4)[t]]))
    q = host(cc.mix(flat))                                           # LINE's last byte (the newline) comes next
    assert float(q[0, 10]) / float(q.sum()) > 0.5


TRUST, DOUBT = (0, 1) * 3, (0, 1 << 20) * 3          # betas that follow the counts, and that all but ignore them


ACGT = bytes(random.Random(0).choices(b"ACGT", k=2000))


@pytest.mark.parametrize("data, chosen", [(TEXT * 4, 0), (ACGT, 1)])
def test_a_group_blends_with_the_set_that_coded_its_bytes_shortest(data, chosen):
    """Repeated text under a flat prior: the set that trusts the counts; random letters under a prior that knows
    their distribution exactly: the set that leaves it alone."""
    rows = [data[:len(data) // 2], data[len(data) // 2:]]
    cc = _counts(rows, [3, 3], betas=TRUST + DOUBT)
    tokens = torch.tensor([list(r) for r in rows])
    flat = torch.ones(2, 256, dtype=torch.int64)
    flat[:, list(b"ACGT")] = 1 << 20
    for t in range(tokens.shape[1]):
        host(cc.mix(flat))
        cc.update(t, tokens[:, t])
    assert cc.cost.shape == (1, 2) and int(cc.cost.argmin()) == chosen
    alone = [_counts(rows, [3, 3], betas=betas) for betas in (TRUST, DOUBT)]
    for t in range(tokens.shape[1]):
        for one in alone:
            one.update(t, tokens[:, t])
    assert same(host(cc.mix(flat)), host(alone[chosen].mix(flat)))


def test_running_code_lengths_are_the_sets_bits_in_4096ths():
    """After one step from empty tables, each set's running length is -log2 of the share it gave each byte."""
    rows, flat = [b"ab", b"ac"], torch.ones(2, 256, dtype=torch.int64)
    cc = _counts(rows, [0, 0], betas=TRUST + DOUBT)
    host(cc.mix(flat))
    cc.update(0, torch.tensor([97, 97]))
    q = (1 << 22) // 256 + 1                                   # the uniform share, unchanged by empty counts
    expected = 2 * 4096 * (24 - math.log2(q))
    assert all(abs(int(v) - expected) <= 2 for v in cc.cost[0])


def _model(name: str = "lstm384-v5", **config) -> LSTMModel:
    m = zoo.load(name)
    return LSTMModel(dataclasses.replace(m.config, **config), m.tensors)


def _trace(model: LSTMModel, rows: list[bytes], groups: list[int]) -> torch.Tensor:
    steps = max(map(len, rows))
    tokens = torch.tensor([list(r.ljust(steps, b"\0")) for r in rows], dtype=torch.int64)
    p, out = Predictor(model, len(rows), steps, groups, [len(r) for r in rows]), []
    for t in range(steps):
        out.append(host(p.frequencies()))
        p.advance(tokens[:, t])
    return torch.stack(out)


def test_the_default_model_counts_words_and_six_orders_with_27_sets_of_betas():
    c = zoo.load(zoo.DEFAULT_MODEL).config
    assert zoo.DEFAULT_MODEL == "lstm384-v16" and c.count_orders == (2, 3, 4, 6, 8, 12) and c.match_group_bytes
    assert c.count_word == 1 and len(c.count_betas) == 27 * 14


@pytest.mark.parametrize("name", ["lstm384-v4", "lstm384-v5"])
def test_a_group_gives_the_same_frequencies_in_any_batch(name):
    model = _model(name)
    group = [TEXT, LINE * 3, TEXT[::-1]]
    alone = _trace(model, group, [5, 5, 5])
    others = [TEXT.upper() * 2, bytes(range(256)), LINE]
    mixed = _trace(model, others[:2] + group + others[2:], [1, 1, 5, 5, 5, 9])
    assert same(alone, mixed[:alone.shape[0], 2:5])


def test_counts_make_repeats_cheaper():
    data = TEXT * 3
    bits = lambda f: float(-torch.log2(f.double().gather(1, torch.tensor(list(data))[:, None]).squeeze(1)
                                        / f.double().sum(1)).sum())
    with_counts = _trace(_model(), [data], [0])[:, 0]
    without = _trace(_model(count_orders=(), count_betas=()), [data], [0])[:, 0]
    assert bits(with_counts) < 0.9 * bits(without)


@pytest.mark.parametrize("config", [dict(count_orders=(8, 4)), dict(count_orders=(4, 8, 17)),
                                    dict(count_betas=(1, 1)), dict(count_betas=(1, 0) * 3),
                                    dict(count_betas=(1, 1) * 3 * 65),
                                    dict(count_table_bits=30), dict(match_group_bytes=0, match_local_bits=0),
                                    dict(count_word=2), dict(count_word=1)])        # (the last: 2 betas too few)
def test_bad_count_settings_are_refused(config):
    with pytest.raises(ValueError, match="context counts"):
        Predictor(_model(**config), 1, 10)


@pytest.mark.parametrize("name, digest", [("lstm384-v4", "d9fbe30dbff46a1c"), ("lstm384-v5", "7275fe7c1903d1b9"),
                                          ("lstm384-v6", "964d17b047d4b1a3")])
def test_golden_frequencies(name, digest):
    """Context counts, frozen (FORMAT.md "Context counts"): a change here changes every stream made with
    lstm384-v4 (one set of betas), lstm384-v5 (27) or lstm384-v6 (27, and a word context)."""
    f = _trace(_model(name), [TEXT, LINE, TEXT[40:]], [0, 0, 0])
    assert hashlib.sha256(f.numpy().tobytes()).hexdigest()[:16] == digest


def test_calibration_finds_betas_that_help_on_repetitive_text():
    base = zoo.load("lstm384-v3")
    config = dataclasses.replace(base.config, count_orders=(4, 8), count_betas=(0, 1) * 2, count_table_bits=12)
    r = count_betas.record(config, base.tensors, TEXT * 4, chunk=len(TEXT))
    assert r.prob.shape == r.live.shape == (4, len(TEXT)) and r.n.shape == r.u.shape == r.c.shape == (4, len(TEXT), 2)
    assert (r.c <= r.n).all() and (r.u <= r.n).all() and (r.u[r.n > 0] >= 1).all() and r.live.all()
    betas = count_betas.search([r])
    assert len(betas) == 4 and min(betas[1::2]) >= 1
    assert count_betas.code_length([r], [betas]) < 0.9 * count_betas.code_length([r], [[]])


def test_grids_of_beta_sets():
    assert count_betas.grid_sets("16,64;3,6;=", 3) == [
        [16, 1, 3, 1, 3, 1], [16, 1, 6, 1, 6, 1], [64, 1, 3, 1, 3, 1], [64, 1, 6, 1, 6, 1]]
    for bad in ("16;3", "=;3;4", "a;3;4"):
        with pytest.raises(ValueError):
            count_betas.grid_sets(bad, 3)


def test_the_estimate_of_adaptive_sets_follows_the_better_set():
    """count_betas.code_length with two sets comes out near the better one alone (on repeated text, the set
    that trusts the counts)."""
    base = zoo.load("lstm384-v3")
    config = dataclasses.replace(base.config, count_orders=(2, 4, 8), count_betas=(0, 1) * 3, count_table_bits=12)
    r = count_betas.record(config, base.tensors, TEXT * 4, chunk=len(TEXT))
    trust, doubt = list(TRUST), list(DOUBT)
    alone = [count_betas.code_length([r], [s]) for s in (trust, doubt)]
    both = count_betas.code_length([r], [trust, doubt])
    assert alone[0] < alone[1] and both < alone[0] + 0.1 * (alone[1] - alone[0])


def test_the_log2_table_is_exact():
    """The running code lengths' table, from doubles where they decide, equals the integers' answer everywhere."""
    assert LOG2_TABLE == [(m ** 4096).bit_length() - 1 - 8 * 4096 for m in range(256, 512)]
