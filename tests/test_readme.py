"""The README's command-line examples run as written (its Python examples run as doctests)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _command_line_examples() -> list[str]:
    section = README.read_text().split("## Command line", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_command_line_examples(tmp_path):
    notes = b"Meeting notes: the quarterly report is due on Friday; bring the figures.\n" * 3
    (tmp_path / "notes.txt").write_bytes(notes)
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    for line in _command_line_examples():
        subprocess.run(["bash", "-c", "set -o pipefail; " + line], cwd=tmp_path, env=env, check=True,
                       capture_output=True)
    assert (tmp_path / "notes.txt").read_bytes() == notes
    assert (tmp_path / "twice.txt").read_bytes() == notes * 2


@pytest.mark.xdist_group("ray")       # its `ray stop` ends every Ray process here: beside no other Ray test
def test_cluster_examples(tmp_path):
    """The commands of "Running on a cluster", with Ray: a local instance, then a head node started and stopped."""
    pytest.importorskip("ray")
    section = README.read_text().split("## Running on a cluster", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    notes = b"Meeting notes: the quarterly report is due on Friday; bring the figures.\n" * 300
    (tmp_path / "notes.txt").write_bytes(notes)
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    try:
        for line in (line for line in block.splitlines() if line.strip()):
            subprocess.run(["bash", "-c", "set -o pipefail; " + line], cwd=tmp_path, env=env, check=True,
                           capture_output=True)
    finally:
        subprocess.run(["ray", "stop"], env=env, capture_output=True)     # when a line failed before it
    assert (tmp_path / "notes.txt").read_bytes() == notes
