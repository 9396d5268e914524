"""One (compressor, file) measurement, in a process of its own: ``python -m benchmarks.worker SPEC RESULT``.

SPEC is a JSON object (codec, device, path, limit, min_time, max_reps, watts_per_core); the figures are written
as JSON to the file RESULT (not to stdout, which a compressor might write to). A fresh process per pair is what
makes ru_maxrss, a high-water mark that cannot be reset, the peak of this pair alone; see benchmarks.measure.

The worker checks the round trip itself, byte for byte; the parent checks it again against the SHA-256 of the
input that it read on its own side (benchmarks.runner).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

from . import measure, peers
from .energy import EnergyMeter


def run(spec: dict) -> dict:
    """Measure spec's codec on spec's input: sizes, per-call times, CPU time, energy, peak memory."""
    data = Path(spec["path"]).read_bytes()
    if spec.get("limit") is not None:
        data = data[:spec["limit"]]
    codec = peers.make(spec["codec"], spec["device"], spec.get("threads", 1))
    meter = EnergyMeter(spec["watts_per_core"], gpu=spec["codec"].startswith(peers.NEURALZIP_PREFIX)
                        and spec["device"] == "cuda")
    # everything so far (interpreter, imports, the input) is the baseline; the compressor's own memory,
    # model included, comes after it
    baseline_rss = measure.peak_rss_self()

    start = time.perf_counter()
    codec.setup()
    setup_s = time.perf_counter() - start

    args = (meter, spec["min_time"], spec["max_reps"])
    blob, same_blobs, comp = measure.repeat(lambda: codec.compress(data), *args)
    restored, same_outputs, decomp = measure.repeat(lambda: codec.decompress(blob), *args)

    peak_self, peak_child = measure.peak_rss_self(), measure.peak_rss_children()
    # an external compressor's memory is its own process's (the largest child); an in-process one's is ours
    peak = peak_child if codec.external else peak_self
    growth = peak_child if codec.external else peak_self - baseline_rss
    return {
        "compressor": codec.name, "family": codec.family, "params": codec.params, "version": codec.version,
        "model": codec.model, "model_bytes": codec.model_bytes,
        "original_bytes": len(data), "compressed_bytes": len(blob),
        "roundtrip_ok": restored == data and same_outputs,
        "deterministic": same_blobs,
        "decompressed_sha256": hashlib.sha256(restored).hexdigest(),
        "setup_s": setup_s,
        "compress_reps": comp.reps, "compress_s": comp.wall_s, "compress_cpu_s": comp.cpu_s,
        "compress_j": comp.joules,
        "decompress_reps": decomp.reps, "decompress_s": decomp.wall_s, "decompress_cpu_s": decomp.cpu_s,
        "decompress_j": decomp.joules,
        "energy_source": comp.energy_source,
        "baseline_rss_bytes": 0 if codec.external else baseline_rss,
        "peak_rss_bytes": peak, "peak_rss_growth_bytes": growth,
        **codec.details(blob),
    }


def _measure(spec_json: str, result_path: str) -> int:
    try:
        result = run(json.loads(spec_json))
    except peers.Unavailable as e:
        result = {"error": str(e), "unavailable": True}
    except Exception:
        result = {"error": traceback.format_exc(limit=5)}
    Path(result_path).write_text(json.dumps(result))
    return 0 if "error" not in result else 1


def main(argv: list[str]) -> int:
    """Measure in a forked child. Linux carries ru_maxrss across exec, so this process starts with the
    spawning harness's high-water mark (torch and all); a forked child starts with a fresh one, at the size
    of this small process, which is what the baseline then records."""
    spec_json, result_path = argv
    if not hasattr(os, "fork"):
        return _measure(spec_json, result_path)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = _measure(spec_json, result_path)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
