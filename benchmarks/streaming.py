"""Streaming at scale: a large input through ``nzip -c | nunzip -c`` and through NeuralZipFile, with peak memory.

    python -m benchmarks.streaming [--size 1G] [--text-size 24M] [--level 6] [--piece 64K] [--mode pipe,file]

The input is generated on the fly and never held whole: blocks of 1 MiB, most of them pseudo-random bytes (the
kind of data that takes the fallback path: compressed media, archives), with --text-size of English text spread
evenly among them so that it goes through the model. The text is the corpus's English files when
../shared/corpus is present, else this repository's own Markdown and Python files, repeated as needed.

pipe: the two commands run as separate processes joined by this one, which feeds the first, passes its output on
  and compares the second's output with the input by SHA-256, and counts the compressed bytes.
file: one process writes a file through neuralzip.open(..., "wb") in --piece sized writes, another reads it back
  in --piece sized reads.

Prints, for each: bytes in and out, bits per byte, wall-clock MB/s, CPU seconds, and the peak resident memory
(ru_maxrss) of each process; the frames of the compressed data by method. Exit status 1 if a round trip differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from .inputs import DEFAULT_CORPUS, ENGLISH_TEXTS

BLOCK = 1 << 20
REPO = Path(__file__).resolve().parent.parent


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1:].upper() in units else int(text)


def _text_source() -> bytes:
    files = [DEFAULT_CORPUS / f for f in ENGLISH_TEXTS if (DEFAULT_CORPUS / f).is_file()]
    if not files:
        files = sorted(p for p in REPO.rglob("*") if p.suffix in (".md", ".py") and ".venv" not in p.parts)
    return b"".join(p.read_bytes() for p in files)


def blocks(size: int, text_size: int, seed: int = 0):
    """The input, BLOCK bytes at a time (the last may be shorter): deterministic for given arguments."""
    text = _text_source()
    rng = np.random.Generator(np.random.PCG64(seed))
    n = -(-size // BLOCK)
    n_text = min(n, -(-text_size // BLOCK))
    text_at = {i * n // n_text for i in range(n_text)} if n_text else set()
    offset, text_left = 0, text_size
    for i in range(n):
        length = min(BLOCK, size - i * BLOCK)
        piece = bytearray()
        if i in text_at:
            while len(piece) < min(length, text_left):
                take = text[offset:offset + min(length, text_left) - len(piece)]
                piece += take
                offset = (offset + len(take)) % len(text)
            text_left -= len(piece)
        yield bytes(piece + rng.bytes(length - len(piece)))


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "neuralzip", "-q", *args]


def _reap(proc: subprocess.Popen) -> dict:
    """Wait for proc; its exit status, CPU seconds and peak RSS (MiB)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"status": proc.returncode, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}


def run_pipe(args) -> dict:
    comp = subprocess.Popen(_command("-c", f"-{args.level}"), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    decomp = subprocess.Popen(_command("-dc"), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    h_in, counts = hashlib.sha256(), {"in": 0, "compressed": 0}

    def feed():
        with comp.stdin:
            for block in blocks(args.size, args.text_size):
                h_in.update(block)
                counts["in"] += len(block)
                comp.stdin.write(block)

    def relay():
        with decomp.stdin:
            while piece := comp.stdout.read(BLOCK):
                counts["compressed"] += len(piece)
                decomp.stdin.write(piece)

    threads = [threading.Thread(target=feed), threading.Thread(target=relay)]
    start = time.monotonic()
    for t in threads:
        t.start()
    h_out, n_out = hashlib.sha256(), 0
    while piece := decomp.stdout.read(BLOCK):
        h_out.update(piece)
        n_out += len(piece)
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    return {"mode": "pipe", "bytes": counts["in"], "compressed": counts["compressed"], "wall_s": wall,
            "identical": h_in.digest() == h_out.digest() and n_out == counts["in"],
            "compress": _reap(comp), "decompress": _reap(decomp)}


def _child(args) -> None:
    """One side of file mode, in its own process so that its peak RSS is its own."""
    import neuralzip
    start = time.monotonic()
    h, n = hashlib.sha256(), 0
    if args.child == "write":
        with neuralzip.open(args.path, "wb", level=args.level) as f:
            for block in blocks(args.size, args.text_size):
                h.update(block)
                for i in range(0, len(block), args.piece):
                    f.write(block[i:i + args.piece])
                n += len(block)
    else:
        with neuralzip.open(args.path, "rb") as f:
            while piece := f.read(args.piece):
                h.update(piece)
                n += len(piece)
    print(json.dumps({"sha256": h.hexdigest(), "bytes": n, "wall_s": time.monotonic() - start}))


def run_file(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.nz")
        result = {"mode": "file"}
        for side in ("write", "read"):
            proc = subprocess.Popen([sys.executable, "-m", "benchmarks.streaming", "--child", side, "--path", path,
                                     "--size", str(args.size), "--text-size", str(args.text_size),
                                     "--level", str(args.level), "--piece", str(args.piece)],
                                    stdout=subprocess.PIPE, cwd=REPO)
            out = proc.stdout.read()
            proc.stdout.close()
            result[side] = {**json.loads(out or "{}"), **_reap(proc)}
        import neuralzip
        with open(path, "rb") as f:
            streams = neuralzip.describe(f)
        result.update(bytes=result["write"]["bytes"], compressed=os.path.getsize(path),
                      frames={m: sum(s.frames[m] for s in streams) for m in ("stored", "zstd", "neural", "neural_run")},
                      identical=result["write"].get("sha256") == result["read"].get("sha256")
                      and result["read"].get("bytes") == result["write"]["bytes"])
    return result


def report(r: dict) -> str:
    mb = r["bytes"] / 1e6
    lines = [f"{r['mode']}: {r['bytes']:,} bytes -> {r['compressed']:,} ({8 * r['compressed'] / r['bytes']:.3f} bpb), "
             f"round trip {'identical' if r['identical'] else 'DIFFERENT'}"]
    if "frames" in r:
        lines.append("  frames: " + ", ".join(f"{m} {n}" for m, n in r["frames"].items()))
    if r["mode"] == "pipe":
        lines.append(f"  both at once: {r['wall_s']:.0f} s wall, {mb / r['wall_s']:.2f} MB/s")
        sides = [("nzip -c", r["compress"]), ("nunzip -c", r["decompress"])]
    else:
        sides = [("NeuralZipFile write", r["write"]), ("NeuralZipFile read", r["read"])]
    for name, s in sides:
        extra = f", {s['wall_s']:.0f} s wall, {mb / s['wall_s']:.2f} MB/s" if "wall_s" in s else ""
        lines.append(f"  {name}: exit {s['status']}, {s['cpu_s']:.0f} CPU-s{extra}, peak RSS {s['peak_rss_mib']:.0f} MiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.streaming", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=_size, default=1 << 30, help="input bytes (suffix K, M, G; default 1G)")
    p.add_argument("--text-size", type=_size, default=24 << 20, help="of which English text (default 24M)")
    p.add_argument("--level", type=int, default=6)
    p.add_argument("--piece", type=_size, default=1 << 16, help="NeuralZipFile read and write size (default 64K)")
    p.add_argument("--mode", default="pipe,file", help="pipe, file or both (default pipe,file)")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--child", choices=("write", "read"), help=argparse.SUPPRESS)
    p.add_argument("--path", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    results = []
    for mode in args.mode.split(","):
        results.append({"pipe": run_pipe, "file": run_file}[mode](args))
        print(report(results[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0 if all(r["identical"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
