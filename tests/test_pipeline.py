"""neuralzip.pipeline: batches in flight, results in order, and the cores they share."""

import threading

import pytest
import torch

from neuralzip.pipeline import WORKER_NAME, Pipeline, share_threads, thread_count


def torch_threads_in_job(*_):
    share_threads()
    return torch.get_num_threads(), threading.current_thread().name


def test_thread_count():
    assert thread_count(3) == 3
    assert thread_count(0) >= 1
    with pytest.raises(ValueError):
        thread_count(-1)
    with pytest.raises(TypeError):
        thread_count(True)


def test_one_thread_runs_in_the_caller_on_one_core_and_restores_its_setting():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        pipeline = Pipeline(1)
        pipeline.submit("a", torch_threads_in_job)
        assert pipeline.take() == ("a", (1, threading.current_thread().name))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_running_jobs_share_the_threads():
    release = threading.Event()
    seen = []

    def job(name):
        seen.append(("alone" if name == "first" else "beside", torch_threads_in_job()[0]))
        if name == "first":
            started.set()
            release.wait(10)
            seen.append(("after", torch_threads_in_job()[0]))
        return name

    started = threading.Event()
    pipeline = Pipeline(4)
    pipeline.submit(1, job, "first")
    assert started.wait(10)
    pipeline.submit(2, job, "second")          # runs while the first waits: four threads between two jobs
    assert pipeline._jobs[1][1]._finished.wait(10)
    release.set()
    assert [pipeline.take(), pipeline.take()] == [(1, "first"), (2, "second")]
    assert seen[0] == ("alone", 4) and ("beside", 2) in seen and ("after", 4) in seen


def test_workers_are_named_and_errors_reach_the_caller():
    def fail():
        raise OSError("boom")

    pipeline = Pipeline(2)
    pipeline.submit("x", torch_threads_in_job)
    pipeline.submit("y", fail)
    tag, (_, name) = pipeline.take()
    assert tag == "x" and name == WORKER_NAME
    with pytest.raises(OSError, match="boom"):
        pipeline.take()


def test_share_threads_outside_a_job_changes_nothing():
    before = torch.get_num_threads()
    share_threads()
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("kernel", ["float32", "int_mm"])
def test_two_threads_multiply_on_two_torch_threads_and_change_no_byte(monkeypatch, kernel):
    """threads=2 with one batch in flight gives that batch's products two torch threads (threads=1 pins them to
    one), and the stream is the same bytes: the products are exact whatever the threads split."""
    import neuralzip
    from neuralzip import intops, zoo
    if kernel == "int_mm" and not intops._int_mm_is_exact("cpu", 384, 1536, 4):
        pytest.skip("torch._int_mm is not exact on this CPU")
    data = b"Two threads share one batch's products; the stream stays the same bytes. " * 20   # one short chunk
    seen = []
    product = intops.Int8Matrix.product

    def counted(self, name, a):
        seen.append(torch.get_num_threads())
        return product(self, name, a)
    monkeypatch.setattr(intops, "_fastest", lambda device, k, n, rows: kernel)
    monkeypatch.setattr(intops.Int8Matrix, "product", counted)
    zoo.runtime.cache_clear()              # a cached model's matrices keep the kernels they chose
    try:
        one = neuralzip.compress(data, 6, threads=1)
        assert set(seen) == {1}
        seen.clear()
        assert neuralzip.compress(data, 6, threads=2) == one
        assert set(seen) == {2}
    finally:
        zoo.runtime.cache_clear()
