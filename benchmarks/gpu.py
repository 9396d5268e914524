"""``python -m benchmarks.gpu``: neuralzip on a CUDA device, for a machine that has a GPU for minutes.

``--check`` (about 8 minutes on an H100): the prepared device check, one line per check and a verdict, in order:

1. kernel: the int8 product each level's matrices get, and torch._int_mm's exactness at every batch width the
   engine can run (every multiple of 8 from 24 to 4096 rows on CUDA, as cuBLAS's padding makes them);
2. primitives: each operation whose result a careless kernel could change (ties, repeated indices, int64 hashes,
   floor division, sorting) on the device against the CPU;
3. traces: per-step frequency hashes of every level's model, the CPU's loops against the device's tensor path, for
   a stream alone and inside a wide batch;
4. golden: the golden streams of tests/test_api.py made and read on the device;
5. round trips: a 4 MB mixed file compressed on the CPU and decompressed on the device, and the other way;
6. speed: MB/s each way at the default and the fastest level on the device, and its peak memory.

Without CUDA it is a dry run on the CPU: the same checks, the CPU against itself (the tensor path against the
loops), smaller, and says so on its first line; tests/test_benchmarks.py runs it. ``--memory`` prints the peak
device memory the batch-width rule allows per level (neuralzip.memory), the table in benchmarks/gpu/README.md.

Without --check or --memory: each level's stream of FILE made on the GPU is compared byte for byte with the CPU's
(from the first --cpu-bytes of it), and the whole of FILE makes a round trip on the GPU, timed. With --train and
--dev: ``neuralzip.train.trainer`` on the GPU for --minutes, its checkpoint and the exported integer model written
to --out, with the integer model's bits per byte on --dev.

On the workplace's GPU machine, with the data carried in ``.device/`` (ignored by git) and wheels for the
packages that machine lacks in ``.whl/`` (see the device tool's README)::

    python -c "import numpy as np; d = np.memmap('data/corpus/train.bin', mode='r'); n = len(d) // 100; \\
        open('.device/train.bin', 'wb').write(b''.join(d[i * n:i * n + (1 << 20)].tobytes() for i in range(100)))"
    xz -6 -T2 .device/train.bin; head -c 1048576 data/corpus/dev.bin > .device/dev.bin
    # then, there (carry .device and .whl):
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:.
    python3 -m benchmarks.gpu --check --out $OUT
    python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.device/train.bin.xz'), open('/tmp/t.bin', 'wb'))"
    python3 -m benchmarks.gpu .device/dev.bin --train /tmp/t.bin --dev .device/dev.bin --out $OUT
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

import neuralzip


def streams(data: bytes, levels: list[int], cpu_bytes: int) -> list[dict]:
    rows = []
    head = data[:cpu_bytes]
    for level in levels:
        same = neuralzip.compress(head, level, device="cuda") == neuralzip.compress(head, level, device="cpu")
        t0 = time.perf_counter()
        blob = neuralzip.compress(data, level, device="cuda")
        t1 = time.perf_counter()
        ok = neuralzip.decompress(blob, device="cuda") == data
        t2 = time.perf_counter()
        rows.append({"level": level, "bytes": len(data), "bpb": round(len(blob) * 8 / len(data), 4),
                     "compress_MBps": round(len(data) / (t1 - t0) / 1e6, 3),
                     "decompress_MBps": round(len(data) / (t2 - t1) / 1e6, 3),
                     "round_trip": ok, "cpu_stream_equal": same})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def train(train_file: Path, dev_file: Path, out: Path, minutes: float, hidden: int, batch: int) -> None:
    ckpt, model = out / f"gpu-h{hidden}.pt", out / f"gpu-h{hidden}.nzm"
    run = [sys.executable, "-m", "neuralzip.train.trainer", "--train", str(train_file), "--dev", str(dev_file),
           "-o", str(ckpt), "--hidden", str(hidden), "--batch", str(batch), "--steps", "1000000",
           "--minutes", str(minutes), "--device", "cuda", "--eval-every", "2000"]
    subprocess.run(run, check=True)
    subprocess.run([sys.executable, "-m", "neuralzip.train.export", str(ckpt), "-o", str(model),
                    "--name", model.stem], check=True)
    subprocess.run([sys.executable, "-m", "neuralzip.train.evaluate", str(dev_file), "--model", str(model)],
                   check=True)


# --check ---------------------------------------------------------------------------------------------------------

CHECK_BYTES = 4 << 20        # the round trips' mixed file
TRACE_BYTES = 384            # each level model's traced stream
WIDE_BATCH = 256             # the wide batch a traced stream runs inside (on CUDA)
CUDA_ROWS = range(24, 4097, 8)      # every row count cuBLAS multiplies in a batch of 1 to 4096 streams


class Checks:
    """One line per check, PASS / FAIL / SKIP, and the verdict."""

    def __init__(self, out=None):
        self.failed, self.passed, self.lines, self._out = 0, 0, [], out

    def say(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)

    def run(self, name: str, check) -> None:
        """check() -> (ok, detail); ok None is a SKIP; an exception is a FAIL with its message."""
        started = time.perf_counter()
        try:
            ok, detail = check()
        except Exception as e:                    # a check that breaks is a failed check, and the rest go on
            ok, detail = False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        word = "SKIP" if ok is None else "PASS" if ok else "FAIL"
        self.failed += ok is False
        self.passed += ok is True
        self.say(f"{word} {name}: {detail} ({time.perf_counter() - started:.1f} s)")


def mixed_file(size: int) -> bytes:
    """size bytes of what a user compresses: this repository's text and code, a table of numbers, zeros, and
    random bytes (a fixed seed: the same file everywhere)."""
    import random
    root = Path(__file__).resolve().parent.parent
    text = b"".join(p.read_bytes() for p in sorted(root.glob("*.md")) + sorted((root / "neuralzip").glob("*.py")))
    rng = random.Random(20261207)
    numbers = "".join(f"{i},{rng.randint(0, 10**6)},{rng.random():.6f}\n" for i in range(size // 64)).encode()
    parts, out = [text, numbers, bytes(size // 16), rng.randbytes(size // 8)], bytearray()
    while len(out) < size:
        for part in parts:
            out += part[:max(1, size // 8)]
    return bytes(out[:size])


def _level_models() -> dict[str, int]:
    """Each level's model, by name, with the first level that uses it."""
    from neuralzip import zoo
    models = {}
    for level in sorted(zoo.LEVELS):
        models.setdefault(zoo.LEVELS[level].model, level)
    return models


def check_kernels(device: torch.device, rows: list[int]):
    from neuralzip import intops, zoo
    chosen, bad = set(), []
    for name in _level_models():
        m = zoo.load(name)
        for weight in ("w_hh", "w_out"):
            b = torch.from_numpy(m.tensors[weight]).to(device)
            k, n = b.shape
            matrix = intops.Int8Matrix(b)
            for r in rows:
                a = torch.randint(-127, 128, (r, k), dtype=torch.int8, generator=torch.Generator().manual_seed(r))
                got = matrix(a.to(device)).cpu()
                if not torch.equal(got.long(), (a.double() @ b.cpu().double()).long()):
                    bad.append(f"{name} {weight} at {r} rows")
            chosen |= set(matrix._kernel.values())
    refused = sorted(set(intops._REFUSALS.values()))
    detail = (f"kernels {sorted(chosen)} exact at {len(rows)} batch widths ({rows[0]}..{rows[-1]} rows) x "
              f"{2 * len(_level_models())} matrices" + (f"; torch._int_mm refused: {refused[0]}" if refused else ""))
    if device.type == "cuda" and chosen != {"int_mm"}:
        detail += " (slow: float64 on a GPU)"
    return not bad, detail if not bad else f"inexact: {bad[:3]}"


def primitives(device: torch.device) -> dict:
    """Each risky operation of the tensor path on its own, with ties and repeated indices, on device."""
    from neuralzip import intops
    g = torch.Generator().manual_seed(7)
    ints = lambda high, *shape: torch.randint(0, high, shape, generator=g).to(device)
    slots, values = ints(50, 20000), ints(1 << 40, 20000)
    ties = ints(3, 4000, 4)
    x = torch.cat([ints(1 << 32, 100000), torch.tensor([0, 0xFFFFFFFF, 0x80000000], device=device)])
    keys = ints(300, 20000)
    sorted_keys, order = keys.sort()
    first = torch.ones_like(sorted_keys, dtype=torch.bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    table = torch.zeros(64, dtype=torch.int64, device=device)
    a8, b8 = ints(255, 40, 384).sub(127).to(torch.int8), ints(255, 384, 1536).sub(127).to(torch.int8)
    return {
        "first_true over ties": intops.first_true(ties == ties.amin(1, keepdim=True), 1),
        "first_least over ties": intops.first_least(ties, 1),
        "scatter_reduce amax, repeated slots": table.clone().index_fill_(0, slots, 0).scatter_reduce_(
            0, slots, values, "amax"),
        "index_add_ int64, repeated": table.clone().index_add_(0, slots, values),
        "index_add_ int32, repeated": table.int().index_add_(0, slots, (values & 0xFFFF).int()),
        "index_put_ of equal values, repeated": table.clone().index_put_((slots,), slots * 3),
        "sort and runs by cumsum": torch.stack([sorted_keys, first.long().cumsum(0)]),
        "low32_product": intops.low32_product(x, 2654435761),
        "hash products below 2**63": ((x ^ 0x9E3779B1) * 0x5BD1E995) & 0xFFFFFFFF,
        "floor division of negatives": torch.div(values - (1 << 39), ints(1000, 20000) + 1, rounding_mode="floor"),
        "rounding shift": intops.rshift_round(values - (1 << 39), 7),
        "int8 product, float64": intops._float_matmul(a8, b8),
        "gather and index_select": values.index_select(0, slots) + values.gather(0, slots),
    }


def check_primitives(device: torch.device):
    here, there = primitives(torch.device("cpu")), primitives(device)
    differ = [name for name in here if not torch.equal(here[name], there[name].cpu())]
    return not differ, f"{len(here) - len(differ)} of {len(here)} equal to the CPU's" + (
        f"; differ: {differ}" if differ else "")


def frequency_trace(model, rows: list[bytes], which: int) -> str:
    """The SHA-256 (16 hex digits) of stream which's per-step frequencies, all rows in one lockstep batch, each its
    own group."""
    import hashlib
    from neuralzip.predictor import Predictor
    import numpy as np
    steps, where = max(map(len, rows)), model.backend
    tokens = np.array([list(r.ljust(steps, b"\0")) for r in rows], np.int64)
    p, h = Predictor(model, len(rows), steps, list(range(len(rows))), [len(r) for r in rows]), hashlib.sha256()
    for t in range(len(rows[which])):
        h.update(np.ascontiguousarray(where.to_host(p.frequencies())[which]).tobytes())
        p.advance(where.array(tokens[:, t].copy()))
    return h.hexdigest()[:16]


def check_traces(device: torch.device, size: int, wide: int, models: list[str]):
    from neuralzip.backend import Backend
    from neuralzip.model import LSTMModel
    from neuralzip import zoo
    data = mixed_file(1 << 16)
    target = data[:size]
    others = [data[(i * 997) % (len(data) - size):][:size] for i in range(1, wide)]
    results = []
    for name in models:
        m = zoo.load(name)
        loops = frequency_trace(LSTMModel(m.config, m.tensors, Backend("cpu", loops=True)), [target], 0)
        model = LSTMModel(m.config, m.tensors, Backend(str(device), loops=False))     # the tensor path
        alone = frequency_trace(model, [target], 0)
        batched = frequency_trace(model, others[:wide // 2] + [target] + others[wide // 2:], wide // 2)
        results.append((name, loops, alone, batched))
    bad = [r[0] for r in results if not r[1] == r[2] == r[3]]
    return not bad, (f"{len(results) - len(bad)} of {len(results)} models: CPU loops = {device.type} alone = "
                     f"{device.type} in a batch of {wide}, {size} steps" + (f"; differ: {bad}" if bad else ""))


def check_golden(device: torch.device, quick: bool):
    import hashlib
    import importlib.util
    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("golden_streams", root / "tests" / "test_api.py")
    tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tests)
    cases = tests.test_golden_stream.pytestmark[0].args[1]
    cases = cases[:1] if quick else cases
    bad = []
    for model, level, digest, *_ in cases:       # then the digests of the stream framed in older versions
        blob = neuralzip.compress(tests.TEXT, level, model=model, device=device)
        if hashlib.sha256(blob).hexdigest()[:16] != digest or neuralzip.decompress(blob, device=device) != tests.TEXT:
            bad.append(model or f"level {level}")
    return not bad, f"{len(cases) - len(bad)} of {len(cases)} golden streams made and read on {device.type}" + (
        f"; differ: {bad}" if bad else "")


def check_round_trips(device: torch.device, data: bytes, level: int | None):
    here = neuralzip.compress(data, level, device="cpu", threads=0)
    there = neuralzip.compress(data, level, device=device)
    ok = here == there and neuralzip.decompress(here, device=device) == data \
        and neuralzip.decompress(there, device="cpu", threads=0) == data
    return ok, (f"{len(data)} bytes at level {level or 'default'}: cpu -> {device.type} and {device.type} -> cpu, "
                f"{len(here)} bytes, streams {'equal' if here == there else 'DIFFER'}")


def check_speed(device: torch.device, data: bytes, levels: list[int]):
    parts = []
    for level in levels:
        neuralzip.decompress(neuralzip.compress(data[:4096], level, device=device), device=device)   # warm
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        blob = neuralzip.compress(data, level, device=device)
        t1 = time.perf_counter()
        ok = neuralzip.decompress(blob, device=device) == data
        t2 = time.perf_counter()
        peak = (f", peak {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB" if device.type == "cuda"
                else "")
        parts.append(f"level {level}: {len(data) / (t1 - t0) / 1e6:.3f} / {len(data) / (t2 - t1) / 1e6:.3f} MB/s"
                     f"{peak}" + ("" if ok else " ROUND TRIP FAILED"))
        if not ok:
            return False, "; ".join(parts)
    return True, f"{len(data)} bytes on {device.type}, compress / decompress: " + "; ".join(parts)


def check(out: Path | None, quick: bool) -> int:
    """The prepared device check (module docstring); 0 when every check passes."""
    from neuralzip import memory, zoo
    from benchmarks.machine import describe
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    checks = Checks()
    m = describe(device.type)
    checks.say(f"{'CHECK' if cuda else 'DRY RUN (no CUDA: the CPU against itself)'} on "
               f"{m.get('gpu', m['cpu'])}, torch {m['torch']}, git {m['git']}, {m['date']}")
    if cuda:
        free, total = torch.cuda.mem_get_info(device)
        checks.say(f"memory: {free / 2**30:.1f} of {total / 2**30:.1f} GiB free; batch width at level 6: "
                   f"{memory.widest_batch(zoo.load(zoo.LEVELS[6].model).config, zoo.LEVELS[6].chunk_size, free)}")
    rows = list(CUDA_ROWS) if cuda else [1, 8] if quick else [1, 2, 3, 7, 8, 9, 16, 17, 64, 128, 256]
    checks.run("1 kernel", lambda: check_kernels(device, rows))
    checks.run("2 primitives", lambda: check_primitives(device))
    size, wide = (TRACE_BYTES, WIDE_BATCH) if cuda else (24, 3) if quick else (TRACE_BYTES, 8)
    models = list(_level_models())
    if quick and not cuda:                  # the fastest and the default level's models
        models = [zoo.LEVELS[zoo.MIN_LEVEL].model, zoo.LEVELS[zoo.DEFAULT_LEVEL].model]
    checks.run("3 traces", lambda: check_traces(device, size, wide, models))
    checks.run("4 golden", lambda: check_golden(device, quick and not cuda))
    data = mixed_file(CHECK_BYTES if cuda else 1 << 12 if quick else 1 << 16)
    checks.run("5 round trips", lambda: check_round_trips(device, data, None if cuda or not quick else 1))
    levels = [zoo.DEFAULT_LEVEL, zoo.MIN_LEVEL] if cuda or not quick else [zoo.MIN_LEVEL]
    checks.run("6 speed", lambda: check_speed(device, data, levels))
    checks.say(f"VERDICT: {'PASS' if not checks.failed else 'FAIL'} ({checks.passed} passed, {checks.failed} failed"
               f"{'' if cuda else '; a dry run: no GPU was checked'})")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        name = f"check-{m['date'][:10]}-{'cuda' if cuda else 'dry-run'}.txt"
        (out / name).write_text("\n".join(checks.lines) + "\n")
    return 1 if checks.failed else 0


def memory_table(free: int) -> list[str]:
    """Per level: the width the rule gives a device with free bytes free, and the peak it allows (Markdown)."""
    from neuralzip import memory, zoo
    lines = [f"| level | model | chunk | width (chunks) | peak allowed ({free / 2**30:.0f} GiB free) "
             f"| peak at width {memory.WIDEST_CHUNKS} |", "|---|---|---|---|---|---|"]
    for level in sorted(zoo.LEVELS):
        lv = zoo.LEVELS[level]
        config = zoo.load(lv.model).config
        width = memory.widest_batch(config, lv.chunk_size, free)
        lines.append(f"| {level} | {lv.model} | {lv.chunk_size // 1024} KiB | {width} | "
                     f"{memory.batch_bytes(config, lv.chunk_size, width) / 2**30:.2f} GiB | "
                     f"{memory.batch_bytes(config, lv.chunk_size, memory.WIDEST_CHUNKS) / 2**30:.2f} GiB |")
    return lines



def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, nargs="?", help="the text to compress at each level")
    p.add_argument("--check", action="store_true", help="the prepared device check (a dry run without CUDA)")
    p.add_argument("--quick", action="store_true", help="with --check and no CUDA: the smallest dry run")
    p.add_argument("--memory", type=float, metavar="GIB",
                   help="print the width rule's peak memory per level for a device with GIB free")
    p.add_argument("--levels", default="1,6,7")
    p.add_argument("--cpu-bytes", type=int, default=32768, help="how much of FILE to compare with the CPU's stream")
    p.add_argument("--train", type=Path, help="training bytes: train a model on the GPU too")
    p.add_argument("--dev", type=Path)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--minutes", type=float, default=4.0)
    p.add_argument("--hidden", type=int, default=384)
    p.add_argument("--batch", type=int, default=256)
    a = p.parse_args(argv)
    if a.memory is not None:
        print("\n".join(memory_table(int(a.memory * 2**30))))
        return 0
    if a.check:
        return check(a.out, a.quick)
    if a.file is None:
        p.error("give FILE, or --check, or --memory")
    if not torch.cuda.is_available():
        p.error("no CUDA device")
    if a.train and a.dev is None:
        p.error("--train needs --dev")          # before the streams' minutes, not after them
    print(torch.cuda.get_device_name(), "torch", torch.__version__, flush=True)
    rows = streams(a.file.read_bytes(), [int(n) for n in a.levels.split(",")], a.cpu_bytes)
    if a.train:
        out = a.out or Path(".")
        out.mkdir(parents=True, exist_ok=True)
        train(a.train, a.dev, out, a.minutes, a.hidden, a.batch)
    return 0 if all(r["round_trip"] and r["cpu_stream_equal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
