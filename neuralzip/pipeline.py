"""Batches in flight: up to `threads` lockstep batches coded at once, their results handed back in order.

The batches of a stream share nothing (a batch holds whole match groups, fixed by offsets in the content), so they
can run side by side, each on a core: numba's loops and the matrix products release the GIL. The results come back
in the order the batches went in, which is all the stream depends on: the same bytes whatever the thread count.

`threads` is how many cores the batches in flight use between them, as zstd's -T. Each running batch's torch
products get an equal share (share_threads(), which the engine calls between steps; torch's setting is per
thread), and numpy's products (the CPU's loops, neuralzip.backend) run on one thread each: the setting is one for
the process (threadpoolctl), so it goes to one thread when the process's first job starts and back when its last
running job ends, whichever pipeline they belong to, never under a running product. Jobs, not pipelines, are
counted, so that a pipeline left with jobs in flight (a decompressor dropped after an error) gives the setting
back all the same. With one thread the batch runs in the caller's thread on one core. Never more threads than
cores: where a product's threads wait on a core that another process holds, every step waits for that process's
time slice (2 torch threads on 2 cores with one of them busy made a batch three times slower than 1 thread;
neuralzip/models/CHOICES.md "Threads and a busy machine").

Workers are threads named WORKER_NAME, one per batch (a batch takes seconds to minutes). Like a standard library
pool's, they hold the interpreter's exit until they finish; an interrupted command line leaves without waiting
(neuralzip.cli).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections import deque

WORKER_NAME = "neuralzip-batch"
_job = threading.local()     # on a worker: the cores its pipeline's running jobs share


def thread_count(threads: int) -> int:
    """threads as given (0: one per core this process may use), checked."""
    if not isinstance(threads, int) or isinstance(threads, bool):
        raise TypeError(f"threads must be an int, not {type(threads).__name__}")
    if threads < 0:
        raise ValueError(f"threads must be 0 (one per core) or more, not {threads}")
    if threads == 0:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:      # not on Linux
            return os.cpu_count() or 1
    return threads


class _Cores:
    """The threads a pipeline's running jobs share."""

    def __init__(self, threads: int):
        self.threads, self.running = threads, 0
        self.lock = threading.Lock()

    def share(self) -> int:
        return max(1, self.threads // max(1, self.running))


@functools.lru_cache(maxsize=None)
def _blas():
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController().select(user_api="blas")


def product_threads() -> int:
    """The threads numpy's matrix products may use now (1 where numpy has no BLAS that threadpoolctl knows)."""
    return max([lib["num_threads"] for lib in _blas().info()], default=1)


def set_product_threads(n: int) -> tuple[int, int | None]:
    """Let the matrix products use n threads: numpy's BLAS (one setting for the process) and, where torch is
    loaded, the calling thread's torch. Returns what they had, for restore_product_threads."""
    torch = sys.modules.get("torch")
    saved = product_threads(), torch.get_num_threads() if torch is not None else None
    _blas().limit(limits=n)
    if torch is not None:
        torch.set_num_threads(n)
    return saved


def restore_product_threads(saved: tuple[int, int | None]) -> None:
    _blas().limit(limits=saved[0])
    if saved[1] is not None:
        sys.modules["torch"].set_num_threads(saved[1])


_running = [0, None]         # jobs running in the whole process, and numpy's product threads before the first
_running_lock = threading.Lock()


def _job_starts() -> None:
    with _running_lock:
        if _running[0] == 0:
            _running[1] = product_threads()
            _blas().limit(limits=1)
        _running[0] += 1


def _job_ends() -> None:
    with _running_lock:
        _running[0] -= 1
        if _running[0] == 0:
            _blas().limit(limits=_running[1])


def share_threads() -> None:
    """Give the calling job's torch products its pipeline's share of threads now (a job calls this between
    steps: the share changes as other jobs start and finish; torch's setting is per thread). Does nothing outside
    a job. numpy's products run on one thread in every job (Pipeline)."""
    cores = getattr(_job, "cores", None)
    torch = sys.modules.get("torch")
    if cores is not None and torch is not None and cores.share() != torch.get_num_threads():
        torch.set_num_threads(cores.share())


class _Job:
    """function(*args), on a worker thread of its own, or at once in the caller's on one core (where an exception
    goes straight to the caller)."""

    def __init__(self, function, args, cores: _Cores | None):
        self._finished = threading.Event()
        self._result = self._error = None
        _job_starts()
        if cores is not None:
            with cores.lock:
                cores.running += 1
            try:
                threading.Thread(target=self._run, args=(function, args, cores), name=WORKER_NAME).start()
            except BaseException:           # no thread to end the job (RuntimeError: can't start new thread)
                with cores.lock:
                    cores.running -= 1
                _job_ends()
                raise
            return
        torch = sys.modules.get("torch")
        torch_threads = torch.get_num_threads() if torch is not None else None
        try:
            if torch is not None:
                torch.set_num_threads(1)
            self._result = function(*args)
        finally:
            if torch is not None:
                torch.set_num_threads(torch_threads)
            _job_ends()
            self._finished.set()

    def _run(self, function, args, cores: _Cores) -> None:
        _job.cores = cores
        try:
            share_threads()
            self._result = function(*args)
        except BaseException as e:      # handed to whoever takes the result
            self._error = e
        finally:
            with cores.lock:
                cores.running -= 1
            _job_ends()
        self._finished.set()

    def done(self) -> bool:
        return self._finished.is_set()

    def result(self):
        self._finished.wait()
        if self._error is not None:
            raise self._error
        return self._result


class Pipeline:
    """Jobs run on up to `threads` worker threads (with 1, at once in the caller's), results taken in order."""

    def __init__(self, threads: int):
        self._threads = threads
        self._cores = _Cores(threads) if threads > 1 else None
        self._jobs: deque[tuple[object, _Job]] = deque()

    def submit(self, tag, function, *args) -> None:
        """Start function(*args); tag comes back with its result."""
        self._jobs.append((tag, _Job(function, args, self._cores)))

    def __len__(self) -> int:
        return len(self._jobs)

    def has_room(self) -> bool:
        """Whether a worker is free (never, with one thread: then every job runs in the caller's)."""
        return 1 < self._threads and len(self._jobs) < self._threads

    def should_take(self) -> bool:
        """Whether the oldest job's result should be taken now: every worker is busy, or it is done."""
        return bool(self._jobs) and (len(self._jobs) >= self._threads or self._jobs[0][1].done())

    def take(self):
        """(tag, result) of the oldest job, waiting for it; its exception, if it raised one."""
        tag, job = self._jobs.popleft()
        return tag, job.result()
