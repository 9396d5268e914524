"""Batches in flight: up to `threads` lockstep batches coded at once, their results handed back in order.

The batches of a stream share nothing (a batch holds whole match groups, fixed by offsets in the content), so they
can run side by side, each on a core: numba's loops and torch's products release the GIL. A worker runs torch
with one thread of its own (torch.set_num_threads is per thread: the caller's setting stays as it was), so that
two workers' products do not fight over the same cores. The results come back in the order the batches went in,
which is all the stream depends on: the same bytes whatever the thread count.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import torch


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


class Pipeline:
    """Jobs run on up to `threads` worker threads (with 1, at once in the caller's), results taken in order."""

    def __init__(self, threads: int):
        self._threads = threads
        self._pool = (ThreadPoolExecutor(threads, thread_name_prefix="neuralzip", initializer=torch.set_num_threads,
                                         initargs=(1,)) if threads > 1 else None)
        self._jobs: deque[tuple[object, Future]] = deque()

    def submit(self, tag, function, *args) -> None:
        """Start function(*args); tag comes back with its result."""
        if self._pool is None:
            future = Future()
            future.set_result(function(*args))
        else:
            future = self._pool.submit(function, *args)
        self._jobs.append((tag, future))

    def __len__(self) -> int:
        return len(self._jobs)

    def should_take(self) -> bool:
        """Whether the oldest job's result should be taken now: every worker is busy, or it is done."""
        return bool(self._jobs) and (len(self._jobs) >= self._threads or self._jobs[0][1].done())

    def take(self):
        """(tag, result) of the oldest job, waiting for it; its exception, if it raised one."""
        tag, future = self._jobs.popleft()
        return tag, future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
