"""The scripts in examples/ run."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import torch

import neuralzip

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_stream_logs(tmp_path):
    log = tmp_path / "app.log"
    log.write_bytes(b"2026-11-27 10:00:00 INFO service started\n" * 50)
    run = subprocess.run([sys.executable, str(EXAMPLES / "stream_logs.py"), str(log)], capture_output=True,
                         text=True, check=True)
    assert "50 lines" in run.stdout and (tmp_path / "app.log.nz").exists()


def test_stream_logs_sample():
    run = subprocess.run([sys.executable, str(EXAMPLES / "stream_logs.py")], capture_output=True, text=True,
                         check=True)
    assert "300 lines" in run.stdout


def _run(script: str, *args: str, **env: str) -> str:
    run = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                         check=True, env=dict(os.environ, **env))
    return run.stdout


def test_compress_directory(tmp_path):
    folder = tmp_path / "site"
    (folder / "css").mkdir(parents=True)
    (folder / "index.html").write_text("<html><body>Hello, hello, hello.</body></html>\n" * 20)
    (folder / "css" / "site.css").write_text("body { margin: 0; }\n" * 10)
    out = _run("compress_directory.py", str(folder), "--level", "1")
    assert "2 files" in out and "every file reads back the same" in out
    with neuralzip.open(tmp_path / "site.tar.nz") as f, tarfile.open(fileobj=f, mode="r|") as tar:
        assert sorted(m.name for m in tar if m.isfile()) == ["site/css/site.css", "site/index.html"]


def test_compress_directory_sample():
    assert "13 files" in _run("compress_directory.py", "--level", "1")


def test_train_own_model(tmp_path):
    # a tiny network for a few steps: the example's path, not its figures (those take minutes)
    logs = []
    for i in range(2):
        logs.append(tmp_path / f"app{i}.log")
        logs[-1].write_text("".join(f"2026-12-07 10:{m % 60:02d}:00 worker={m % 5} GET /item/{m * 37 % 1000} "
                                    f"status={200 if m % 9 else 500}\n" for m in range(400)))
    out = _run("train_own_model.py", *map(str, logs), "--scratch", "--hidden", "16", "--steps", "6",
               OMP_NUM_THREADS="1")
    assert "6 steps" in out and "with logs.nzm" in out
    data = logs[0].read_bytes()
    blob = neuralzip.compress(data, model=tmp_path / "logs.nzm")
    assert neuralzip.describe(blob, model=tmp_path / "logs.nzm")[0].model_name == "logs"


def test_on_cuda():
    out = _run("on_cuda.py")
    expected = "running on CUDA" if torch.cuda.is_available() else "CUDA is not available here: running on the CPU"
    assert expected in out and "decompressed on the CPU: same bytes" in out
