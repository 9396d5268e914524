"""Batches in flight: up to `threads` lockstep batches coded at once, their results handed back in order.

The batches of a stream share nothing (a batch holds whole match groups, fixed by offsets in the content), so they
can run side by side, each on a core: numba's loops and torch's products release the GIL. A worker runs torch
with one thread of its own (torch.set_num_threads is per thread: the caller's setting stays as it was), so that
two workers' products do not fight over the same cores. The results come back in the order the batches went in,
which is all the stream depends on: the same bytes whatever the thread count.

Workers are threads named WORKER_NAME, one per batch (a batch takes seconds to minutes). Like a standard library
pool's, they hold the interpreter's exit until they finish; an interrupted command line leaves without waiting
(neuralzip.cli).
"""

from __future__ import annotations

import os
import threading
from collections import deque

import torch

WORKER_NAME = "neuralzip-batch"

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


class _Job:
    """function(*args), on a worker thread of its own, or at once in the caller's (where an exception goes
    straight to the caller)."""

    def __init__(self, function, args, threaded: bool):
        self._finished = threading.Event()
        self._result = self._error = None
        if threaded:
            threading.Thread(target=self._run, args=(function, args), name=WORKER_NAME).start()
        else:
            self._result = function(*args)
            self._finished.set()

    def _run(self, function, args) -> None:
        torch.set_num_threads(1)
        try:
            self._result = function(*args)
        except BaseException as e:      # handed to whoever takes the result
            self._error = e
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
        self._jobs: deque[tuple[object, _Job]] = deque()

    def submit(self, tag, function, *args) -> None:
        """Start function(*args); tag comes back with its result."""
        self._jobs.append((tag, _Job(function, args, threaded=self._threads > 1)))

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
