"""Runs one worker process per (compressor, file), checks its round trip, and turns its figures into a row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .energy import is_estimate
from .inputs import REPO_ROOT, Input

MB = 1e6    # MB/s and per-MB figures use decimal megabytes, as compressor benchmarks usually do


@dataclass(frozen=True)
class Settings:
    device: str             # resolved: "cpu" or "cuda"
    threads: int            # neuralzip's threads= (0: one per core)
    min_time: float         # repeat a call until this many seconds have passed ...
    max_reps: int           # ... but at most this many times
    watts_per_core: float   # for the energy estimate


def measure_in_subprocess(codec: str, item: Input, settings: Settings) -> dict:
    """The worker's raw figures for codec on item, or {"error": ...} if it failed or crashed."""
    spec = {"codec": codec, "device": settings.device, "threads": settings.threads, "path": str(item.path),
            "limit": item.limit, "min_time": settings.min_time, "max_reps": settings.max_reps,
            "watts_per_core": settings.watts_per_core}
    # the worker must import this package wherever the harness was started from
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        result_path = Path(tmp, "result.json")
        proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", json.dumps(spec), str(result_path)],
                              env=env, cwd=REPO_ROOT, capture_output=True, text=True)
        if result_path.exists():
            return json.loads(result_path.read_text())
    return {"error": f"worker exited with status {proc.returncode}: {proc.stderr.strip()[-2000:]}"}


def check_roundtrip(raw: dict, input_sha256: str) -> bool:
    """True only if the worker compared the bytes equal and their hash matches the parent's own read."""
    return bool(raw.get("roundtrip_ok")) and raw.get("decompressed_sha256") == input_sha256


def _per_mb(value: float, nbytes: int) -> float | None:
    return value / (nbytes / MB) if nbytes else None


def _mb_per_s(nbytes: int, seconds: float) -> float | None:
    return nbytes / MB / seconds if nbytes and seconds > 0 else None    # an empty file has no rate


def to_row(codec: str, item: Input, raw: dict, input_sha256: str) -> dict:
    """One result row: the worker's raw figures plus the derived ones (bpb, MB/s, per-MB costs)."""
    row = {"file": item.name, "compressor": codec, "verified": False, "error": raw.get("error", "")}
    if "error" in raw:
        return row
    row.update(raw)
    row["verified"] = check_roundtrip(raw, input_sha256)
    if not row["verified"]:
        row["error"] = "round trip MISMATCH: the decompressed bytes differ from the input"
    n = raw["original_bytes"]
    row.update({
        "bpb": 8 * raw["compressed_bytes"] / n if n else None,
        "compress_mb_s": _mb_per_s(n, raw["compress_s"]),
        "decompress_mb_s": _mb_per_s(n, raw["decompress_s"]),
        "compress_cpu_s_per_mb": _per_mb(raw["compress_cpu_s"], n),
        "decompress_cpu_s_per_mb": _per_mb(raw["decompress_cpu_s"], n),
        "compress_j_per_mb": _per_mb(raw["compress_j"], n),
        "decompress_j_per_mb": _per_mb(raw["decompress_j"], n),
        "energy_estimated": is_estimate(raw["energy_source"]),
        "peak_rss_mb": raw["peak_rss_bytes"] / MB,
        "peak_rss_growth_mb": raw["peak_rss_growth_bytes"] / MB,
        "baseline_rss_mb": raw["baseline_rss_bytes"] / MB,
    })
    return row


def run_all(codecs: list[str], inputs: list[Input], settings: Settings, on_row=lambda row: None) -> list[dict]:
    """Every codec on every input (files outer, so one file's rows come together); on_row sees each row."""
    rows = []
    for item in inputs:
        sha = item.sha256()
        for codec in codecs:
            row = to_row(codec, item, measure_in_subprocess(codec, item, settings), sha)
            rows.append(row)
            on_row(row)
    return rows
