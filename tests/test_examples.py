"""The scripts in examples/ run."""

import subprocess
import sys
from pathlib import Path

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
