"""neuralzip.pipeline: batches in flight, results in order, and the cores they share."""

import threading

import pytest
import torch

from neuralzip.pipeline import WORKER_NAME, Pipeline, product_threads, share_threads, thread_count


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


@pytest.mark.parametrize("kernel", ["float32", "float64"])
def test_numpys_products_run_on_one_thread_a_batch_and_change_no_byte(monkeypatch, kernel):
    """On the CPU's loops a batch's numpy products run on one thread, with threads=1 and threads=2 alike (the
    pipeline's cores go to batches side by side), the user's setting is back after, and the stream is the same
    bytes."""
    import neuralzip
    from neuralzip import intops, zoo
    data = b"Two threads share one batch's products; the stream stays the same bytes. " * 20   # one short chunk
    seen = []
    product = intops.Int8Matrix.product

    def counted(self, name, a):
        seen.append(product_threads())
        return product(self, name, a)
    monkeypatch.setattr(intops, "_fastest", lambda device, k, n, rows: kernel)
    monkeypatch.setattr(intops.Int8Matrix, "product", counted)
    zoo.runtime.cache_clear()              # a cached model's matrices keep the kernels they chose
    try:
        before = product_threads()
        one = neuralzip.compress(data, 6, threads=1)
        assert set(seen) == {1} and product_threads() == before
        seen.clear()
        assert neuralzip.compress(data, 6, threads=2) == one
        assert set(seen) == {1} and product_threads() == before
    finally:
        zoo.runtime.cache_clear()


def test_a_pipeline_dropped_with_jobs_in_flight_gives_numpys_setting_back():
    """A decompressor dropped after an error leaves its pipeline with jobs never taken: their ends, not the
    taking, give the process's numpy setting back."""
    release = threading.Event()
    before = product_threads()
    pipeline = Pipeline(2)
    pipeline.submit("fails", lambda: 1 / 0)
    pipeline.submit("waits", release.wait, 10)
    with pytest.raises(ZeroDivisionError):
        pipeline.take()
    assert product_threads() == 1          # the second job still runs
    (_, job), = pipeline._jobs
    del pipeline
    release.set()
    assert job._finished.wait(10)
    assert product_threads() == before
