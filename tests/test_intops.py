"""neuralzip.intops: exact int8 products at every batch the engine runs, the kernel chosen and why, hashes with no
int64 overflow, tie rules that hold on any kernel, and a user's deterministic-algorithms mode set aside."""

import re
import threading

import numpy as np
import pytest
import torch

import neuralzip
from neuralzip import backend, fused, intops, zoo
from neuralzip.fused import match as fused_match
from neuralzip.intops import Int8Matrix, exact_work, first_least, first_true, low32_product

TEXT = b"It was the best of times, it was the worst of times; \xff\x00 binary too.\n" * 8
# every batch size the engine multiplies at: one stream, the CPU's timing buckets and their neighbours, cuBLAS's
# padding edges (16, 17, multiples of 8), and the CPU's full batch of 256
ENGINE_ROWS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256]


def _level_shapes() -> list[tuple[int, int]]:
    """(K, N) of every level's two products: the recurrent one (H, 4H) and the output one (H, V)."""
    shapes = set()
    for level in zoo.LEVELS.values():
        c = zoo.load(level.model).config
        shapes |= {(c.hidden, 4 * c.hidden), (c.hidden, c.vocab_size)}
    return sorted(shapes)


def _kernels() -> list[str]:
    return ["float64", "float32", "int_mm"] + (["loops"] if backend.choose("cpu").loops else [])


@pytest.mark.parametrize("k, n", _level_shapes())
def test_every_kernel_is_exact_at_every_batch_the_engine_uses(k, n):
    gen = torch.Generator().manual_seed(k + n)
    b = torch.randint(-127, 128, (k, n), generator=gen, dtype=torch.int8)
    b[:, 0], b[:, 1] = 127, -127
    matrix = Int8Matrix(b)
    a_all = torch.randint(-127, 128, (max(ENGINE_ROWS), k), generator=gen, dtype=torch.int8)
    a_all[0], a_all[1] = 127, -127
    exact_all = (a_all.double() @ b.double()).long()        # exact: every partial sum is below 2**53
    for rows in ENGINE_ROWS:
        a, exact = a_all[:rows], exact_all[:rows]
        for kernel in _kernels():
            if kernel == "int_mm" and not intops._int_mm_is_exact("cpu", k, n, rows):
                continue
            assert torch.equal(matrix.product(kernel, a).long(), exact), (kernel, rows)
        # cuBLAS's padding (zero rows up to more than 16 and a multiple of 8), run here by the CPU's kernel
        if intops._int_mm_is_exact("cpu", k, n, rows):
            assert torch.equal(intops._int_mm(a, b, pad=True).long(), exact), rows
        assert torch.equal(matrix(a).long(), exact)


def test_padded_rows_follow_cublas():
    assert [intops.padded_rows(m, "cuda") for m in (1, 16, 17, 24, 25, 4096)] == [24, 24, 24, 24, 32, 4096]
    assert intops.padded_rows(5, "cpu") == 5


def test_the_kernel_chosen_is_reported_with_why_int_mm_was_not(monkeypatch):
    matrix = Int8Matrix(torch.ones(16, 24, dtype=torch.int8))
    matrix(torch.ones(3, 16, dtype=torch.int8))
    assert any(line.startswith("cpu 16x24 at 4 rows: ") for line in intops.kernel_report())

    def refuse(a, b):
        raise RuntimeError("CUBLAS_STATUS_NOT_SUPPORTED\nmore detail")
    monkeypatch.setattr(torch, "_int_mm", refuse)
    assert not intops._int_mm_is_exact("cpu", 40, 48, 5)
    assert intops._REFUSALS[("cpu", 40, 48, 5)] == "torch._int_mm raised CUBLAS_STATUS_NOT_SUPPORTED"
    Int8Matrix(torch.ones(40, 48, dtype=torch.int8))(torch.ones(5, 40, dtype=torch.int8))    # timed at 8 rows
    line = next(x for x in intops.kernel_report() if x.startswith("cpu 40x48 at 8 rows: "))
    assert line.split(": ")[1].split()[0] in ("float64", "float32", "loops")
    assert line.endswith("(torch._int_mm raised CUBLAS_STATUS_NOT_SUPPORTED)")
    assert not intops._int_mm_is_exact("cpu", 12, 8, 4)
    assert "multiples of 8" in intops._REFUSALS[("cpu", 12, 8, 4)]


def test_nzip_verbose_reports_the_kernel(tmp_path, capsys):
    from neuralzip import cli
    path = tmp_path / "t.txt"
    path.write_bytes(TEXT)
    assert cli.main(["-v", "-k", "--level", "1", str(path)]) == 0
    err = capsys.readouterr().err
    # level 1 runs on the host: its 64x256 product is reported under "numpy" (the loops' form) or "cpu" (torch's)
    assert "int8 products:" in err and re.search(r"(numpy|cpu) 64x256 at \d+ rows: ", err)


@pytest.mark.parametrize("x", [0, 1, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x9E3779B9])
@pytest.mark.parametrize("m", [2654435761, 0x5BD1E995, 0xFFFFFFFF, 1])
def test_low32_product_is_the_wrapping_products_low_bits(x, m):
    want = (x * m) & 0xFFFFFFFF
    assert int(low32_product(torch.tensor([x]), m)[0]) == want
    assert int(fused_match.low32_product(x, m)) == want
    # no partial product passes 2**48, far from int64's 2**63
    assert (x & 0xFFFF) * m < 1 << 48 and ((x >> 16) & 0xFFFF) * m < 1 << 48


def test_low32_product_on_random_contexts():
    x = torch.randint(0, 1 << 32, (10000,), generator=torch.Generator().manual_seed(1))
    want = torch.tensor([(int(v) * 2654435761) & 0xFFFFFFFF for v in x])
    assert torch.equal(low32_product(x, 2654435761), want)
    with pytest.raises(ValueError, match="32-bit"):
        low32_product(x, 1 << 32)


def test_tie_rules_take_the_first_index():
    mask = torch.tensor([[False, True, True, False], [False, False, False, False], [True, True, True, True]])
    assert first_true(mask, 1).tolist() == [1, 4, 0]
    values = torch.tensor([[3, 1, 1, 2], [5, 5, 5, 5], [0, 9, 0, 0]])
    assert first_least(values, 1).tolist() == [1, 0, 0]
    assert first_least(values.T.contiguous(), 0).tolist() == [1, 0, 0]


def test_exact_work_sets_the_users_mode_aside_and_restores_it():
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
        with exact_work():
            assert not torch.are_deterministic_algorithms_enabled()
            with exact_work():                   # nested (a batch inside a product check)
                assert not torch.are_deterministic_algorithms_enabled()
            assert not torch.are_deterministic_algorithms_enabled()
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        # batches on several threads: the last one out restores the mode
        inside, leave = threading.Barrier(3), threading.Event()

        def batch():
            with exact_work():
                inside.wait()
                leave.wait()
        workers = [threading.Thread(target=batch) for _ in range(2)]
        for w in workers:
            w.start()
        inside.wait()
        assert not torch.are_deterministic_algorithms_enabled()
        leave.set()
        for w in workers:
            w.join()
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)
    with exact_work():
        assert not torch.are_deterministic_algorithms_enabled()
    assert not torch.are_deterministic_algorithms_enabled()


def _refused_in_deterministic_mode(a, b):
    """A product that torch refuses in deterministic mode, as it refuses every cuBLAS product on CUDA when
    CUBLAS_WORKSPACE_CONFIG is unset (put_ is refused on the CPU too), then the exact product."""
    torch.zeros(1).put_(torch.tensor([0]), torch.tensor([1.0]))
    product = (torch.as_tensor(a).double() @ torch.as_tensor(b).double()).to(torch.int32)
    return product.numpy() if isinstance(a, np.ndarray) else product


@pytest.mark.parametrize("backend", ["loops", "tensor"])
def test_compression_works_under_the_users_deterministic_mode(monkeypatch, backend):
    """A user's torch.use_deterministic_algorithms(True) changes nothing: the products run with it set aside
    (on CUDA without CUBLAS_WORKSPACE_CONFIG torch would refuse them; here a product that the CPU refuses in that
    mode stands in for them), and the setting is the user's again after."""
    monkeypatch.setenv("NEURALZIP_FUSED", "1" if backend == "loops" else "0")
    zoo.runtime.cache_clear()
    try:
        blob = neuralzip.compress(TEXT, 1)
        monkeypatch.setattr(Int8Matrix, "product", lambda self, kernel, a: _refused_in_deterministic_mode(a, self.b))
        torch.use_deterministic_algorithms(True)
        with pytest.raises(RuntimeError, match="deterministic"):
            _refused_in_deterministic_mode(torch.ones(1, 8, dtype=torch.int8), torch.ones(8, 8, dtype=torch.int8))
        assert neuralzip.compress(TEXT, 1) == blob
        assert neuralzip.decompress(blob) == TEXT
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)
        zoo.runtime.cache_clear()
