"""Timing, CPU time and peak memory of one compressor call.

Wall time is time.perf_counter. CPU time is getrusage user+system time of this process *and* of its waited-for
children, so that an external compressor (zpaq) is charged for the work its own process does. A call that is
too quick to time on its own (gzip on 2 KB takes microseconds) is repeated until min_time has passed, and the
figures are the mean per call.

Peak memory is the resident-set high-water mark (ru_maxrss), which the kernel keeps per process. It cannot be
reset, so each (compressor, file) pair is measured in a fresh worker process (see benchmarks.worker): the
worker's peak is then the peak of that one compressor on that one file, plus the interpreter it runs in, which
is reported separately as the baseline taken before the compressor is set up.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass
from typing import Callable

from .energy import EnergyMeter


def cpu_seconds() -> float:
    """User + system CPU time so far of this process and of the children it has waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _maxrss_bytes(who: int) -> int:
    # Linux reports ru_maxrss in KiB, macOS in bytes
    rss = resource.getrusage(who).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def peak_rss_self() -> int:
    """High-water resident set size of this process, in bytes."""
    return _maxrss_bytes(resource.RUSAGE_SELF)


def peak_rss_children() -> int:
    """High-water resident set size of the largest waited-for child process, in bytes."""
    return _maxrss_bytes(resource.RUSAGE_CHILDREN)


@dataclass
class Timing:
    """Mean figures per call of a repeated operation."""
    reps: int
    wall_s: float       # wall-clock seconds per call
    cpu_s: float        # CPU seconds per call (process + children)
    joules: float       # energy per call, measured or estimated (see energy_source)
    energy_source: str  # e.g. "rapl", "nvml+estimate", "estimate"; "estimate" anywhere means not measured


def repeat(fn: Callable[[], bytes], meter: EnergyMeter, min_time: float, max_reps: int) -> tuple[bytes, bool, Timing]:
    """Call fn until min_time seconds have passed (at least once, at most max_reps times).

    Returns its first output, whether every later output equalled it, and the mean figures per call. Only the
    first output is kept, so that repetitions do not inflate the peak memory being measured.
    """
    first, same = None, True
    wall = cpu = 0.0
    reps = 0
    energy_before = meter.read()
    while reps < max_reps and (reps == 0 or wall < min_time):
        cpu_before, start = cpu_seconds(), time.perf_counter()
        out = fn()
        wall += time.perf_counter() - start
        cpu += cpu_seconds() - cpu_before
        reps += 1
        # compared outside the timed span: only the call itself is timed
        if first is None:
            first = out
        elif out != first:
            same = False
        del out
    joules, source = meter.joules_since(energy_before, cpu)
    return first, same, Timing(reps=reps, wall_s=wall / reps, cpu_s=cpu / reps, joules=joules / reps,
                               energy_source=source)
