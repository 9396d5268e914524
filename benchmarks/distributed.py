"""Scaling on Ray: one input compressed on one machine, by 1 and by 2 Ray workers, and by 2 with one killed midway.

    python -m benchmarks.distributed [--size 100M] [--level 1] [--workers 1,2] [--keep DIR]

The input is --size bytes of mixed text, made the same way every time: the text files of the development set
(../shared/devset: its csv, english-large, json, logs, prose-other and xml folders, files in path order; not its
binaries nor its source tarballs), concatenated and repeated until the size is reached. Without the devset, this
repository's own Markdown and Python files stand in (and the figures are not comparable). Its SHA-256 is printed.

Each run is a process of its own, so that its peak resident memory (ru_maxrss) is its own: the input is read
and coded in 1 MiB pieces, as nzip does, and the stream written to a file.

- local: NeuralZipCompressor on one thread (neuralzip.compress's bytes);
- ray N: a local Ray instance of N CPUs and N workers (neuralzip.distributed.RayCompressor);
- ray N, one killed: the same, with the first worker's actor killed once half the input has been read and a
  batch is in flight (Ray restarts it and runs its batches again).

Ray's actors are separate processes: the memory shown is the driver's, the process that reads the input, sends
the batches and writes the stream. Prints a Markdown table (wall time, KB/s of input, the driver's peak RSS, and
whether the stream is the same bytes as the local one); exit status 1 if any is not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEVSET = REPO.parent / "shared" / "devset"
TEXT_FOLDERS = ("csv", "english-large", "json", "logs", "prose-other", "xml")
PIECE = 1 << 20
OBJECT_STORE = 500 << 20        # the local Ray instance's object store: a few batches in flight need little


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1:].upper() in units else int(text)


def text_files() -> tuple[str, list[Path]]:
    """(what they are, the files) that the input is made of."""
    files = sorted(p for folder in TEXT_FOLDERS for p in (DEVSET / folder).glob("*") if p.is_file())
    if files:
        return f"the devset's text files ({', '.join(TEXT_FOLDERS)}; {len(files)} files)", files
    return "this repository's Markdown and Python files (no devset)", sorted(
        p for p in REPO.rglob("*") if p.suffix in (".md", ".py") and ".venv" not in p.parts)


def make_input(path: Path, size: int) -> str:
    """Write size bytes of the text files, repeated, to path; returns its SHA-256."""
    _, files = text_files()
    digest, left = hashlib.sha256(), size
    with open(path, "wb") as out:
        while left:
            for f in files:
                piece = f.read_bytes()[:left]
                out.write(piece)
                digest.update(piece)
                left -= len(piece)
                if not left:
                    break
    return digest.hexdigest()


def run_one(mode: str, workers: int, level: int, source: Path, target: Path) -> dict:
    """One run in this process: source compressed to target. Returns its figures."""
    kill_at = None
    if mode == "local":
        import neuralzip
        compressor, pool = neuralzip.NeuralZipCompressor(level), None
    else:
        import ray
        from neuralzip import distributed
        pool = distributed.Workers(workers, num_cpus=workers, object_store_memory=OBJECT_STORE)
        compressor = distributed.RayCompressor(level, workers=pool)
        if mode == "killed":
            kill_at = source.stat().st_size // 2
    started = time.monotonic()
    read = 0
    try:
        with open(source, "rb") as src, open(target, "wb") as dst:
            while piece := src.read(PIECE):
                dst.write(compressor.compress(piece))
                read += len(piece)
                # midway, and while a batch is in flight (one was submitted and not yet taken)
                if kill_at is not None and read >= kill_at and len(compressor._batches):
                    ray.kill(pool.actors[0], no_restart=False)
                    kill_at = None
            dst.write(compressor.flush())
        seconds = time.monotonic() - started
    finally:
        if pool is not None:
            pool.close()
    return {"seconds": seconds, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while piece := f.read(PIECE):
            h.update(piece)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=_size, default=_size("100M"), help="input bytes (default 100M: 100 MiB)")
    p.add_argument("--level", type=int, default=1, help="compression level (default 1)")
    p.add_argument("--workers", default="1,2", help="Ray worker counts to run (default 1,2); the last also "
                                                    "runs with one worker killed midway")
    p.add_argument("--keep", type=Path, help="make the input and streams in DIR and keep them")
    p.add_argument("--run", nargs=5, metavar=("MODE", "WORKERS", "LEVEL", "SOURCE", "TARGET"),
                   help=argparse.SUPPRESS)          # one run, in a process of its own
    a = p.parse_args(argv)
    if a.run:
        mode, workers, level, source, target = a.run
        print(json.dumps(run_one(mode, int(workers), int(level), Path(source), Path(target))))
        return 0
    counts = [int(n) for n in a.workers.split(",")]
    runs = [("local", 1)] + [("ray", n) for n in counts] + [("killed", counts[-1])]
    with tempfile.TemporaryDirectory() as scratch:
        folder = a.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / "input.txt"
        what, _ = text_files()
        sha = make_input(source, a.size)
        print(f"input: {a.size} bytes of {what}, SHA-256 {sha}; level {a.level}", flush=True)
        rows, reference, ok = [], None, True
        for mode, workers in runs:
            target = folder / f"{mode}-{workers}.nz"
            out = subprocess.run([sys.executable, "-m", "benchmarks.distributed", "--run", mode, str(workers),
                                  str(a.level), str(source), str(target)], cwd=REPO, check=True,
                                 stdout=subprocess.PIPE, text=True).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            digest = _digest(target)
            reference = reference or digest
            same = digest == reference
            ok &= same
            name = {"local": "one machine, 1 thread", "ray": f"Ray, {workers} worker" + "s" * (workers > 1),
                    "killed": f"Ray, {workers} workers, one killed midway"}[mode]
            rows.append(f"| {name} | {figures['seconds']:.1f} | {a.size / 1000 / figures['seconds']:.0f} | "
                        f"{figures['peak_rss'] / (1 << 20):.0f} | {target.stat().st_size} | "
                        f"{'yes' if same else 'NO'} |")
            print(f"{name}: {figures['seconds']:.1f} s", file=sys.stderr, flush=True)
    print("| run | wall time (s) | KB/s | driver peak RSS (MiB) | compressed bytes | same bytes as one machine |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
