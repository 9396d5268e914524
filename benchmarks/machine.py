"""The machine and the software a run is reported with."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

from .inputs import REPO_ROOT


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# the instruction sets that decide which exact int8 product is fastest (neuralzip.intops.Int8Matrix): int8 dot
# products (VNNI, AMX) make torch._int_mm fast; AVX2 alone leaves it 20-40 times slower than float32
INT8_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_features() -> list[str]:
    """Which of INT8_FEATURES /proc/cpuinfo lists (Linux; empty elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return [f for f in INT8_FEATURES if f in flags]
    except OSError:
        pass
    return []


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def git_revision() -> str:
    """The repository's commit, with '+dirty' when the working tree has changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def torch_info(device: str) -> dict:
    """torch's version and threads, and the GPU's name when the run is on CUDA."""
    try:
        import torch
    except ImportError:
        return {"torch": "not installed"}
    info = {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
    return info


def int8_kernels(device: str) -> list[str]:
    """The exact int8 product the default level's model gets on this device, for one stream and for a full
    batch, with why torch._int_mm was not taken (neuralzip.intops.kernel_report): a figure measured with a slow
    fallback says so."""
    try:
        import numpy as np
        from neuralzip import api, backend, intops, zoo
    except ImportError:
        return []
    try:
        where = backend.choose(device)
    except ValueError:
        return []
    model = zoo.load(zoo.LEVELS[zoo.DEFAULT_LEVEL].model)
    width = api.BATCH_CHUNKS.get(where.type, api.BATCH_CHUNKS["cpu"])
    for name in ("w_hh", "w_out"):
        b = model.tensors[name]
        matrix = intops.Int8Matrix(where.array(b) if not where.loops else b)
        for rows in (1, width):
            matrix(where.array(np.zeros((rows, b.shape[0]), np.int8)))
    return intops.kernel_report()


def describe(device: str) -> dict:
    """Machine, date and versions; the load average matters because a busy machine slows every figure."""
    try:
        cores_usable = len(os.sched_getaffinity(0))
    except AttributeError:
        cores_usable = os.cpu_count()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cpu_features": cpu_features(), "cores": os.cpu_count(), "cores_usable": cores_usable,
        "memory_gib": memory_gib(),
        "os": platform.platform(), "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "(unset)"),
        "device": device, "git": git_revision(),
        **torch_info(device), "int8_kernels": int8_kernels(device),
    }
