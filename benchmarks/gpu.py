"""``python -m benchmarks.gpu``: neuralzip on a CUDA device in one run, for a session that has a GPU for minutes.

1. Streams: each level's stream of FILE made on the GPU is compared byte for byte with the CPU's (from the first
   --cpu-bytes of it, the CPU being slow), and the whole of FILE makes a round trip on the GPU, timed: bits per
   byte and compress / decompress MB/s per level.
2. Training (with --train and --dev): ``neuralzip.train.trainer`` on the GPU for --minutes, its checkpoint and the
   exported integer model written to --out, with the integer model's bits per byte on --dev.

On the workplace's GPU machine, with the data carried in ``.device/`` (ignored by git) and wheels for the
packages that machine lacks in ``.whl/`` (see the device tool's README)::

    python -c "import numpy as np; d = np.memmap('data/corpus/train.bin', mode='r'); n = len(d) // 100; \\
        open('.device/train.bin', 'wb').write(b''.join(d[i * n:i * n + (1 << 20)].tobytes() for i in range(100)))"
    xz -6 -T2 .device/train.bin; head -c 1048576 data/corpus/dev.bin > .device/dev.bin
    # then, there (carry .device and .whl):
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:.
    python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.device/train.bin.xz'), open('/tmp/t.bin', 'wb'))"
    python3 -m pytest -q tests/test_model.py tests/test_api.py -k cuda && \\
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, help="the text to compress at each level")
    p.add_argument("--levels", default="1,6,7")
    p.add_argument("--cpu-bytes", type=int, default=32768, help="how much of FILE to compare with the CPU's stream")
    p.add_argument("--train", type=Path, help="training bytes: train a model on the GPU too")
    p.add_argument("--dev", type=Path)
    p.add_argument("--out", type=Path, default=Path("."))
    p.add_argument("--minutes", type=float, default=4.0)
    p.add_argument("--hidden", type=int, default=384)
    p.add_argument("--batch", type=int, default=256)
    a = p.parse_args(argv)
    if not torch.cuda.is_available():
        p.error("no CUDA device")
    if a.train and a.dev is None:
        p.error("--train needs --dev")          # before the streams' minutes, not after them
    print(torch.cuda.get_device_name(), "torch", torch.__version__, flush=True)
    rows = streams(a.file.read_bytes(), [int(n) for n in a.levels.split(",")], a.cpu_bytes)
    if a.train:
        a.out.mkdir(parents=True, exist_ok=True)
        train(a.train, a.dev, a.out, a.minutes, a.hidden, a.batch)
    return 0 if all(r["round_trip"] and r["cpu_stream_equal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
