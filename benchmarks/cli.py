"""The command line: python -m benchmarks [--quick] [--levels 1,6,7] [--device cpu|cuda|auto] [--out DIR] [PATH...]

Exit status: 0 when every round trip was verified, 1 when any (compressor, file) failed or did not round-trip,
2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path

from . import inputs, machine, peers, plots, report, runner
from .energy import DEFAULT_WATTS_PER_CORE, EnergyMeter

DEFAULT_LEVELS = "1,6,7"   # fast, default and best at its fastest: level 9 takes hours over the corpus
DEFAULT_OUT = inputs.REPO_ROOT / "benchmarks"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description="Benchmark neuralzip against classical compressors on the same files.")
    p.add_argument("paths", nargs="*", metavar="FOLDER_OR_FILES",
                   help=f"files, or folders to search recursively (*.md and *.tsv skipped); "
                        f"default {inputs.DEFAULT_CORPUS}")
    p.add_argument("--quick", action="store_true",
                   help=f"the first {inputs.QUICK_BYTES} bytes of {inputs.QUICK_FILES} files and only fast "
                        "peers, written to a temporary --out unless one is given")
    p.add_argument("--levels", default=DEFAULT_LEVELS,
                   help="neuralzip levels, comma-separated, or 'none' (default %(default)s)")
    p.add_argument("--peers", default=None,
                   help=f"peers, comma-separated, or 'none' (default: all; with --quick: "
                        f"{','.join(peers.peer_names(quick=True))}); all: {','.join(peers.PEERS)}")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto", help="neuralzip's device")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="neuralzip's threads= (nzip -T N; 0: one per core); default 1, as its default and as the "
                        "peers run here (xz, PPMd and brotli in one thread; zpaq -m5 a corpus file in one block, "
                        "on one thread)")
    p.add_argument("--out", type=Path, default=None, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--watts-per-core", type=float, default=DEFAULT_WATTS_PER_CORE,
                   help="for the energy ESTIMATE when no RAPL counter is readable (default %(default)s W)")
    p.add_argument("--min-time", type=float, default=None,
                   help="repeat a call until this many seconds have passed (default 0.5; --quick 0.05)")
    p.add_argument("--max-reps", type=int, default=None, help="but at most this many times (default 100; --quick 20)")
    return p.parse_args(argv)


def _names(value: str) -> list[str]:
    return [] if value.strip().lower() == "none" else [v.strip() for v in value.split(",") if v.strip()]


def choose_codecs(args, device: str) -> tuple[dict[str, peers.Codec], dict[str, str]]:
    """The compressors to run, built once here to check that they are available; and the skipped ones' notes."""
    names = [f"{peers.NEURALZIP_PREFIX}{int(n)}" for n in _names(args.levels)]
    names += _names(args.peers) if args.peers is not None else peers.peer_names(args.quick)
    available, skipped = {}, {}
    for name in dict.fromkeys(names):
        if not name.startswith(peers.NEURALZIP_PREFIX) and name not in peers.PEERS:
            raise SystemExit(f"unknown peer {name!r}; the peers are {', '.join(peers.PEERS)}")
        try:
            available[name] = peers.make(name, device)
        except peers.Unavailable as e:
            skipped[name] = str(e)
        except ValueError as e:     # a level out of range
            raise SystemExit(f"{name}: {e}")
    return available, skipped


def resolve_device(requested: str) -> str:
    """'cpu' or 'cuda', the way neuralzip resolves it; asking for CUDA where there is none is a usage error."""
    from neuralzip import backend
    try:
        return backend.choose(requested).type
    except ValueError as e:
        raise SystemExit(str(e))


def energy_note(watts_per_core: float, uses_gpu: bool) -> str:
    """How energy figures are obtained in this run, for the console and RESULTS.md."""
    meter = EnergyMeter(watts_per_core, gpu=uses_gpu)
    cpu = (f"CPU measured with RAPL ({len(meter.rapl)} package counter(s), whole package)" if meter.rapl else
           f"ESTIMATE: CPU-seconds × {watts_per_core:g} W per core (no readable RAPL counter)")
    if uses_gpu:
        gpu = "GPU measured with NVML" if meter.nvml is not None else "GPU NOT measured (no NVML): CPU part only"
        return f"{cpu}; neuralzip on CUDA: {gpu}"
    return cpu


def select_inputs(args, scratch: Path) -> list[inputs.Input]:
    if args.quick:
        return inputs.quick(args.paths, scratch)
    paths = args.paths or [inputs.DEFAULT_CORPUS]
    try:
        return inputs.collect(paths)
    except FileNotFoundError as e:
        raise SystemExit(f"{e} (give files or folders to measure)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _main(argv)
    except SystemExit as e:
        if isinstance(e.code, str):
            print(f"python -m benchmarks: {e.code}", file=sys.stderr)
            return 2
        return e.code or 0


def _main(argv: list[str]) -> int:
    args = parse_args(argv)
    out = args.out or (Path(tempfile.mkdtemp(prefix="neuralzip-bench-quick-")) if args.quick else DEFAULT_OUT)
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(args.device)
    if args.threads < 0:
        raise SystemExit("--threads must be 0 (one per core) or more")
    settings = runner.Settings(device=device, threads=args.threads,
                               min_time=args.min_time or (0.05 if args.quick else 0.5),
                               max_reps=args.max_reps or (20 if args.quick else 100),
                               watts_per_core=args.watts_per_core)
    codecs, skipped = choose_codecs(args, device)
    for name, note in skipped.items():
        print(f"note: skipping {name}: {note}")
    if not codecs:
        raise SystemExit("no compressor is available to run")
    items = select_inputs(args, out / "inputs")
    if not items:
        raise SystemExit("no input files found")

    uses_gpu = device == "cuda" and any(c.family == "neuralzip" for c in codecs.values())
    meta = machine.describe(device)
    note = energy_note(args.watts_per_core, uses_gpu)
    print(f"{meta['cpu']} × {meta['cores']}, load {meta['load_average_at_start']}; neuralzip on {device}; "
          f"energy: {note}")
    print(f"{len(items)} inputs, {len(codecs)} compressors; results to {out}\n")
    print(report.console_header())
    rows = runner.run_all(list(codecs), items, settings, on_row=lambda row: print(report.console_row(row),
                                                                                  flush=True))
    totals = report.totals(rows, list(codecs))
    print(report.console_totals(totals))

    run = build_run(argv, args, settings, meta, note, codecs, skipped, items, rows, totals)
    write_outputs(out, run)
    if run["failures"]:
        print(f"\nFAILED: {run['failures']} (compressor, file) measurement(s) did not round-trip or crashed",
              file=sys.stderr)
        return 1
    return 0


def build_run(argv, args, settings, meta, note, codecs, skipped, items, rows, totals) -> dict:
    """Everything results.json holds, and what RESULTS.md and the plots are drawn from."""
    import neuralzip
    return {
        "command": "python -m benchmarks" + ("" if not argv else " " + shlex.join(argv)),
        "machine": meta,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "neuralzip_version": neuralzip.__version__,
        "settings": {"quick": args.quick, "device": settings.device, "min_time": settings.min_time,
                     "max_reps": settings.max_reps, "watts_per_core": settings.watts_per_core},
        "energy_note": note,
        "codecs": {name: {"family": c.family, "version": c.version, "params": c.params,
                          "model": c.model, "model_bytes": c.model_bytes} for name, c in codecs.items()},
        "skipped": skipped,
        "inputs": [{"name": i.name, "path": str(i.path), "limit": i.limit, "bytes": len(i.read()),
                    "sha256": i.sha256()} for i in items],
        "rows": rows,
        "totals": totals,
        "failures": sum(not r["verified"] for r in rows),
    }


def write_outputs(out: Path, run: dict) -> None:
    report.write_json(out / "results.json", run)
    report.write_csv(out / "results.csv", run["rows"])
    written, notes = plots.write_all(out, run)
    for n in notes:
        print(f"note: {n}")
    report.write_markdown(out / "RESULTS.md", run, written, notes)
    print(f"\nwrote {out / 'RESULTS.md'}, results.json, results.csv" +
          (f", {', '.join(Path(p).name for p in written)}" if written else ""))
