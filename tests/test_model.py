"""The integer model gives the same bits whatever the batch, thread count or device (DESIGN.md section 1)."""

import hashlib

import numpy as np
import pytest
import torch

from neuralzip import backend, fused, intops, zoo
from neuralzip.intops import Int8Matrix, _float_matmul, rshift_round
from neuralzip.model import LSTMModel
from neuralzip.pipeline import restore_product_threads, set_product_threads

TEXT = b"It was the best of times, it was the worst of times; \xff\x00 binary too.\n" * 2


def _model(device="cpu") -> LSTMModel:
    return zoo.runtime(zoo.load("lstm384-v6"), backend.choose(device))     # the golden hash below is its network's


def _frequency_trace(model: LSTMModel, rows: list[bytes]) -> torch.Tensor:
    """(T, B, V) frequencies of each row's bytes, all rows in one lockstep batch, on the model's backend."""
    where = model.backend
    tokens = np.array([list(r) for r in rows], np.int64)
    state, prev, out = model.initial_state(len(rows)), model.start_tokens(len(rows)), []
    for t in range(tokens.shape[1]):
        state = model.step(state, prev)
        out.append(torch.from_numpy(where.to_host(model.frequencies(state)).copy()))
        prev = where.array(tokens[:, t].copy())
    return torch.stack(out)


def test_frequencies_are_positive_integers():
    f = _frequency_trace(_model(), [TEXT])
    assert f.dtype == torch.int32 and int(f.min()) >= 1 and int(f.sum(-1).max()) < 1 << 25


def test_one_stream_alone_equals_the_same_stream_in_a_batch():
    model = _model()
    others = [bytes(reversed(TEXT)), TEXT.upper(), bytes(range(256))[:len(TEXT)]] * 7
    alone = _frequency_trace(model, [TEXT])[:, 0]
    batched = _frequency_trace(model, others[:11] + [TEXT] + others[11:])[:, 11]
    assert torch.equal(alone, batched)


def test_thread_count_does_not_change_the_bits():
    model = _model()
    rows = [TEXT, TEXT[::-1]] * 20
    before = set_product_threads(1)
    try:
        one = _frequency_trace(model, rows)
        set_product_threads(2)
        two = _frequency_trace(model, rows)
    finally:
        restore_product_threads(before)
    assert torch.equal(one, two)


def test_golden_frequency_hash():
    """Any drift in the arithmetic, on any machine, fails here."""
    f = _frequency_trace(_model(), [TEXT, TEXT[::-1]])
    assert hashlib.sha256(f.numpy().tobytes()).hexdigest()[:16] == GOLDEN_FREQUENCIES


def _reference_trace(name: str, rows: list[bytes]) -> np.ndarray:
    """(T, B, V) frequencies as FORMAT.md's "Network" gives them, in plain int64 arithmetic on the model file's
    tensors: nothing of neuralzip.model, its kernels or its loops."""
    file = zoo.load(name)
    c, t = file.config, {k: np.asarray(v, np.int64) for k, v in file.tensors.items()}
    H, s, gb, gr, ab = c.hidden, c.requant_shift, c.gate_bits, c.gate_range, c.act_bits

    def requant(a, m):
        bound = ((1 << 31) - 1 - (1 << (s - 1))) // m
        return (np.clip(a, -bound, bound) * m + (1 << (s - 1))) >> s

    def look(table, x):
        return table[np.clip(x, 0, len(table) - 1)]

    h, cell = np.zeros((len(rows), H), np.int64), np.zeros((len(rows), H), np.int64)
    x, out = np.full(len(rows), c.start_token), []
    for step in range(len(rows[0])):
        pre = requant(h @ t["w_hh"], t["m_hh"]) + t["gates_in"][x] + (gr << gb)
        g = np.concatenate([look(t["sigmoid_lut"], pre[:, :2 * H]), look(t["tanh_lut"], pre[:, 2 * H:3 * H]),
                            look(t["sigmoid_lut"], pre[:, 3 * H:])], 1)
        i, f, u, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
        top = c.cell_range << ab
        cell = np.clip((f * cell + i * u + (1 << (ab - 1))) >> ab, -top, top)
        tc = look(t["tanh_lut"], ((cell + (1 << (ab - gb - 1))) >> (ab - gb)) + (gr << gb))
        h = ((((o * tc + (1 << (ab - 1))) >> ab) * 127 + (1 << (ab - 1))) >> ab)
        z = requant(h @ t["w_out"], t["m_out"]) + t["b_out"]
        out.append(1 + look(t["exp_lut"], z.max(1, keepdims=True) - z))
        x = np.array([r[step] for r in rows])
    return np.stack(out).astype(np.int32)


def test_a_plain_reference_from_format_md_gives_the_golden_frequencies():
    """The golden hash is the code's own; FORMAT.md's text, computed plainly, must give the same frequencies."""
    rows = [TEXT, TEXT[::-1]]
    reference = _reference_trace("lstm384-v6", rows)
    assert np.array_equal(reference, _frequency_trace(_model(), rows).numpy())
    assert hashlib.sha256(reference.tobytes()).hexdigest()[:16] == GOLDEN_FREQUENCIES
    narrow = _model_of("lstm64-v1")
    assert np.array_equal(_reference_trace("lstm64-v1", rows), _frequency_trace(narrow, rows).numpy())


def _model_of(name: str) -> LSTMModel:
    return zoo.runtime(zoo.load(name), backend.choose("cpu"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_equals_cpu():
    rows = [TEXT, TEXT[::-1]] * 9
    assert torch.equal(_frequency_trace(_model("cpu"), rows), _frequency_trace(_model("cuda"), rows))


@pytest.mark.parametrize("m, k, n", [(1, 384, 1536), (3, 8, 8), (40, 384, 256), (7, 2000, 16), (5, 13, 9)])
def test_int8_product_is_exact(m, k, n):
    a, b = _extreme_int8(m, k, n)
    exact = (a.double() @ b.double()).to(torch.int64)
    assert torch.equal(Int8Matrix(b)(a).to(torch.int64), exact)
    assert torch.equal(_float_matmul(a, b).to(torch.int64), exact)


@pytest.mark.parametrize("kernel", ["int_mm", "float32", "float64", "loops"])
@pytest.mark.parametrize("m, k, n", [(2, 384, 1536), (40, 384, 256), (7, 1024, 16)])
def test_every_int8_kernel_is_exact(monkeypatch, kernel, m, k, n):
    """Whichever kernel a machine finds fastest gives the same integers (K = 1024 is float32's limit)."""
    if kernel == "int_mm" and not intops._int_mm_is_exact("cpu", k, n, m):
        pytest.skip("torch._int_mm is not exact on this CPU")
    if kernel == "loops" and not backend.choose("cpu").loops:
        pytest.skip("numba is missing or NEURALZIP_FUSED=0")
    a, b = _extreme_int8(m, k, n)
    if kernel != "int_mm":               # (whose start-up check, and the model's values, stay within +-127)
        a[1], b[:, 1] = -128, -128       # float32's worst case: 1024 * 128 * 128 = 2**24
    monkeypatch.setattr(intops, "_fastest", lambda device, k, n, rows: kernel)
    exact = (a.double() @ b.double()).to(torch.int64)
    assert torch.equal(Int8Matrix(b)(a).to(torch.int64), exact)


def test_the_fastest_kernel_is_one_of_them():
    for rows in (1, 64):
        assert intops._fastest("cpu", 384, 256, rows) in ("int_mm", "float32", "float64", "loops")


def test_float32_kernel_steps_aside_for_reduced_precision(monkeypatch):
    a, b = _extreme_int8(3, 1024, 8)
    a[1], b[:, 1] = -128, -128
    monkeypatch.setattr(intops, "_fastest", lambda device, k, n, rows: "float32")
    matrix = Int8Matrix(b)
    try:
        torch.set_float32_matmul_precision("medium")
        assert not intops._float32_is_exact()
        assert torch.equal(matrix(a).to(torch.int64), (a.double() @ b.double()).to(torch.int64))
        assert "float32" not in matrix._forms
    finally:
        torch.set_float32_matmul_precision("highest")
    assert intops._float32_is_exact()


def _extreme_int8(m, k, n):
    g = torch.Generator().manual_seed(m * k * n)
    a = torch.randint(-127, 128, (m, k), generator=g, dtype=torch.int8)
    b = torch.randint(-127, 128, (k, n), generator=g, dtype=torch.int8)
    a[0] = 127
    b[:, 0] = 127
    return a, b


def test_rshift_round_rounds_half_up():
    x = torch.tensor([-6, -5, -3, -2, 2, 3, 5, 6], dtype=torch.int32)
    assert rshift_round(x, 2).tolist() == [-1, -1, -1, 0, 1, 1, 1, 2]


def test_model_rejects_wrong_tensors():
    mf = zoo.load(zoo.DEFAULT_MODEL)
    bad = dict(mf.tensors, w_hh=mf.tensors["w_hh"].astype(np.int32))
    with pytest.raises(ValueError, match="w_hh"):
        LSTMModel(mf.config, bad)


@pytest.mark.parametrize("name", ["lstm384-v4", "lstm384-v5", "lstm384-v6", "lstm384-v7", "lstm384-v8", "lstm384-v9",
                                  "lstm384-v10", "lstm384-v11", "lstm384-v12", "lstm128-v1", "lstm64-v1"])
def test_a_model_file_dumps_back_to_its_own_bytes(name):
    """Its SHA-256 is its identity in every stream: a config field added later (count_word) must not change the
    bytes of a model made before it, so that its card's command still rebuilds it."""
    from neuralzip import modelfile
    raw = zoo.embedded_bytes(name)
    m = modelfile.load(raw)
    assert modelfile.dump(m.name, m.config, m.tensors, m.description) == raw


GOLDEN_FREQUENCIES = "e8562950e7f6df1b"
