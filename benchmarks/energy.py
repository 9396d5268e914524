"""Energy: measured from RAPL (CPU packages) and NVML (the GPU) where they can be read, else estimated.

- RAPL: /sys/class/powercap/intel-rapl:N/energy_uj, one counter per CPU package (AMD exposes the same files).
  Only the package domains (intel-rapl:N) are summed; their sub-domains (intel-rapl:N:M, cores, uncore, DRAM)
  are parts of them and would be counted twice. A package counter measures the whole package, so whatever
  else runs on the machine meanwhile is in the figure too.
- NVML (pynvml, from the nvidia-ml-py package): total energy of the GPU in millijoules, read only when the
  measurement runs on CUDA. It also includes the GPU's idle power over the interval.
- Estimate: when no CPU counter can be read, CPU energy = CPU-seconds x watts_per_core (a stated figure,
  --watts-per-core). Any figure that contains an estimated part has "estimate" in its source label, and every
  report marks such figures as estimates.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

POWERCAP = "/sys/class/powercap"
DEFAULT_WATTS_PER_CORE = 10.0


class _RaplCounter:
    """One RAPL package counter, with wrap-around handled."""

    def __init__(self, path: Path):
        self.path = path
        self.max_uj = int((path / "max_energy_range_uj").read_text())

    def read_uj(self) -> int:
        return int((self.path / "energy_uj").read_text())

    def delta_uj(self, before: int, after: int) -> int:
        return after - before if after >= before else after + self.max_uj - before


def rapl_counters(root: str = POWERCAP) -> list[_RaplCounter]:
    """The readable package-level RAPL counters (none on most VMs, or when energy_uj is root-only)."""
    counters = []
    for name in sorted(glob.glob(os.path.join(root, "intel-rapl:*"))):
        if not re.fullmatch(r"intel-rapl:\d+", os.path.basename(name)):
            continue        # a sub-domain, already inside its package's figure
        try:
            counter = _RaplCounter(Path(name))
            counter.read_uj()
        except (OSError, ValueError):
            continue
        counters.append(counter)
    return counters


class _NvmlCounter:
    """Total energy of one GPU through NVML (Volta or newer)."""

    def __init__(self, index: int):
        import pynvml
        pynvml.nvmlInit()
        self._nvml = pynvml
        self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        self.read_mj()      # raises where the GPU has no energy counter

    def read_mj(self) -> int:
        return int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))


def nvml_counter(index: int = 0) -> _NvmlCounter | None:
    """The GPU's NVML energy counter, or None when pynvml, the driver or the counter is missing."""
    try:
        return _NvmlCounter(index)
    except Exception:       # ImportError, NVMLError_*: NVML is optional; any failure means no measurement
        return None


class EnergyMeter:
    """Reads whichever energy counters exist; estimates the CPU's part from CPU time when none is readable."""

    def __init__(self, watts_per_core: float = DEFAULT_WATTS_PER_CORE, gpu: bool = False, gpu_index: int = 0,
                 powercap: str = POWERCAP):
        self.watts_per_core = watts_per_core
        self.rapl = rapl_counters(powercap)
        self.nvml = nvml_counter(gpu_index) if gpu else None

    @property
    def sources(self) -> str:
        """How figures from this meter are obtained, e.g. 'rapl', 'estimate', 'nvml+estimate'."""
        parts = ["rapl" if self.rapl else "estimate"]
        if self.nvml is not None:
            parts.insert(0, "nvml")
        return "+".join(parts)

    def read(self) -> dict:
        """A snapshot of the counters, for joules_since."""
        return {"rapl": [c.read_uj() for c in self.rapl],
                "nvml": self.nvml.read_mj() if self.nvml is not None else None}

    def joules_since(self, before: dict, cpu_seconds: float) -> tuple[float, str]:
        """Joules since the snapshot `before`, and the source label; cpu_seconds feeds the estimate."""
        now = self.read()
        if self.rapl:
            joules = sum(c.delta_uj(b, a) for c, b, a in zip(self.rapl, before["rapl"], now["rapl"])) / 1e6
        else:
            joules = cpu_seconds * self.watts_per_core
        if self.nvml is not None:
            joules += (now["nvml"] - before["nvml"]) / 1e3
        return joules, self.sources


def is_estimate(source: str) -> bool:
    return "estimate" in source
