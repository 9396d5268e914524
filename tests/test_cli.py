"""Tests of the nzip / nunzip command line (neuralzip.cli), mostly in-process through main(argv)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import neuralzip
from neuralzip import backend
from neuralzip import cli

# small inputs: every byte costs a step of the network on the CPU; prose, so that neural frames win
TEXT = (b"Compression and prediction are two views of the same thing: a model that guesses the next byte\n"
        b"well lets an arithmetic coder spend few bits on it. This file is only a few hundred bytes long,\n"
        b"so that the tests stay quick on a small machine, yet it is long enough to exercise the network,\n"
        b"the range coder and the framing of a stream from its header to its end-of-stream marker.\n"
        b"Numbers such as 3.14159, 2718 and 1/137 appear too, with punctuation; tabs\tand quotes \"too\".\n")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def nzip(*argv) -> int:
    return cli.main([str(a) for a in argv])


def nunzip(*argv) -> int:
    return cli.main_unzip([str(a) for a in argv])


@pytest.fixture(scope="module")
def blob() -> bytes:
    """TEXT compressed once by the library, for the tests that only decompress."""
    return neuralzip.compress(TEXT)


@pytest.fixture
def text_file(tmp_path) -> Path:
    p = tmp_path / "a.txt"
    p.write_bytes(TEXT)
    return p


@pytest.fixture
def nz_file(tmp_path, blob) -> Path:
    p = tmp_path / "b.txt.nz"
    p.write_bytes(blob)
    return p


@pytest.fixture
def stdin(monkeypatch):
    """Replace stdin with one holding the given bytes."""
    def feed(data: bytes, tty: bool = False):
        stream = io.TextIOWrapper(io.BytesIO(data))
        stream.isatty = lambda: tty
        monkeypatch.setattr(sys, "stdin", stream)
    return feed


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# ---------------------------------------------------------------------------------------------------------

def test_round_trip_removes_input_like_gzip(text_file, tmp_path, capsys):
    assert nzip(text_file) == 0
    packed = tmp_path / "a.txt.nz"
    assert listing(tmp_path) == ["a.txt.nz"]                   # removed after success, like gzip
    assert neuralzip.decompress(packed.read_bytes()) == TEXT
    assert nunzip("-k", packed) == 0
    assert text_file.read_bytes() == TEXT
    assert listing(tmp_path) == ["a.txt", "a.txt.nz"]         # -k kept it; no temporary files left
    assert capsys.readouterr().err == ""


def test_keep_and_rm(text_file, tmp_path):
    packed = tmp_path / "a.txt.nz"
    assert nzip("-k", text_file) == 0
    assert listing(tmp_path) == ["a.txt", "a.txt.nz"]
    packed.unlink()
    assert nzip("--rm", text_file) == 0
    assert listing(tmp_path) == ["a.txt.nz"]
    assert nzip("-d", packed) == 0
    assert listing(tmp_path) == ["a.txt"]
    assert text_file.read_bytes() == TEXT
    assert nzip("--rm", "-k", text_file) == 0                 # the last of -k / --rm wins
    assert listing(tmp_path) == ["a.txt", "a.txt.nz"]


def test_existing_output_is_not_overwritten_without_force(text_file, tmp_path, capsys):
    packed = tmp_path / "a.txt.nz"
    packed.write_bytes(b"precious")
    assert nzip(text_file) == 1
    assert f"{packed} already exists; use -f to overwrite" in capsys.readouterr().err
    assert packed.read_bytes() == b"precious"
    assert listing(tmp_path) == ["a.txt", "a.txt.nz"]
    assert nzip("-f", text_file) == 0
    assert neuralzip.decompress(packed.read_bytes()) == TEXT


def test_refuses_to_write_over_its_own_input(nz_file, blob, capsys):
    assert nzip("-d", "-f", "-o", nz_file, nz_file) == 1
    assert "same file" in capsys.readouterr().err
    assert nz_file.read_bytes() == blob


def test_stdout_keeps_input_and_writes_nothing_else(nz_file, text_file, tmp_path, capsysbinary, blob):
    assert nzip("-c", text_file) == 0
    assert neuralzip.decompress(capsysbinary.readouterr().out) == TEXT
    assert nzip("-dc", nz_file) == 0
    assert capsysbinary.readouterr().out == TEXT
    assert listing(tmp_path) == ["a.txt", "b.txt.nz"]


def test_stdin_to_stdout(stdin, capsysbinary, blob):
    stdin(TEXT)
    assert nzip() == 0
    packed = capsysbinary.readouterr().out
    assert neuralzip.decompress(packed) == TEXT
    stdin(blob)
    assert nzip("-d", "-") == 0
    assert capsysbinary.readouterr().out == TEXT


def test_output_option(text_file, nz_file, tmp_path):
    assert nzip("-o", tmp_path / "x.bin", text_file) == 0
    assert neuralzip.decompress((tmp_path / "x.bin").read_bytes()) == TEXT
    assert nzip("-d", "-o", tmp_path / "y", nz_file) == 0
    assert (tmp_path / "y").read_bytes() == TEXT
    assert nzip("-d", "-o", tmp_path / "z", tmp_path / "x.bin") == 0     # -o lifts the suffix rule
    assert (tmp_path / "z").read_bytes() == TEXT


def test_output_dash_is_stdout(text_file, tmp_path, capsysbinary):
    assert nzip("-k", "-o", "-", text_file) == 0
    assert neuralzip.decompress(capsysbinary.readouterr().out) == TEXT
    assert listing(tmp_path) == ["a.txt"]


def test_output_option_takes_one_input(text_file, nz_file, tmp_path):
    assert nzip("-o", tmp_path / "x", text_file, nz_file) == 2
    assert not (tmp_path / "x").exists()


def test_test_mode(nz_file, tmp_path, capsys, blob):
    assert nzip("-t", nz_file) == 0
    assert "OK" in capsys.readouterr().err
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0x55
    corrupt = tmp_path / "c.txt.nz"
    corrupt.write_bytes(bytes(bad))
    assert nzip("-t", corrupt) == 1
    assert "c.txt.nz" in capsys.readouterr().err
    assert nzip("-d", corrupt) == 1
    assert listing(tmp_path) == ["b.txt.nz", "c.txt.nz"]


def test_truncated_input_leaves_no_output(nz_file, tmp_path, capsys, blob):
    nz_file.write_bytes(blob[:-5])
    assert nzip("-d", nz_file) == 1
    assert "compressed data is truncated" in capsys.readouterr().err
    assert listing(tmp_path) == ["b.txt.nz"]


def test_trailing_garbage_is_an_error(nz_file, tmp_path, capsys, blob):
    nz_file.write_bytes(blob + b"garbage")
    assert nzip("-d", nz_file) == 1
    assert "not a neuralzip stream" in capsys.readouterr().err
    assert listing(tmp_path) == ["b.txt.nz"]


def test_empty_compressed_input_is_an_error(tmp_path, capsys):
    (tmp_path / "e.nz").write_bytes(b"")
    assert nzip("-d", tmp_path / "e.nz") == 1
    assert "empty" in capsys.readouterr().err


def test_unknown_suffix_is_skipped_with_status_2(text_file, tmp_path, capsys):
    assert nzip("-d", text_file) == 2
    assert "unknown suffix -- ignored" in capsys.readouterr().err
    assert nzip("-d", "-q", text_file) == 2
    assert capsys.readouterr().err == ""
    assert listing(tmp_path) == ["a.txt"]


def test_already_compressed_suffix_is_skipped(nz_file, tmp_path, capsys):
    assert nzip(nz_file) == 2
    assert "already has .nz suffix" in capsys.readouterr().err
    assert listing(tmp_path) == ["b.txt.nz"]


def test_errors_do_not_stop_the_other_files(text_file, tmp_path, capsys):
    missing = tmp_path / "missing.txt"
    assert nzip(missing, text_file) == 1
    assert f"nzip: {missing}: No such file or directory" in capsys.readouterr().err
    assert (tmp_path / "a.txt.nz").exists()


def test_error_outranks_warning(text_file, tmp_path):
    assert nzip("-d", text_file, tmp_path / "missing.nz") == 1


def test_list(nz_file, tmp_path, capsys, blob):
    assert nzip("-l", nz_file) == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()
    for word in ("compressed", "original", "ratio", "bits/byte", "model", "chunk", "stored/zstd/neural/run"):
        assert word in header
    info = neuralzip.describe(blob)[0]
    assert row.split()[:2] == [str(len(blob)), str(len(TEXT))]
    assert f"{8 * len(blob) / len(TEXT):.3f}" in row
    assert info.model_name in row and str(info.chunk_size) in row and row.endswith(str(nz_file))
    assert "/".join(str(info.frames[m]) for m in ("stored", "zstd", "neural", "neural_run")) in row


def test_list_several_files_gives_totals(nz_file, tmp_path, capsys, blob):
    other = tmp_path / "two.nz"
    other.write_bytes(blob + blob)
    assert nzip("-l", nz_file, other) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[2].split()[:2] == [str(2 * len(blob)), str(2 * len(TEXT))]
    assert lines[3].split()[:2] == [str(3 * len(blob)), str(3 * len(TEXT))]


@pytest.mark.parametrize("flag, chunk", [("-1", 4096), ("-9", 262144), ("--level=9", 262144)])
def test_levels(flag, chunk, tmp_path, capsysbinary):
    data = TEXT[:300]
    (tmp_path / "s").write_bytes(data)
    assert nzip(flag, "-c", tmp_path / "s") == 0
    packed = capsysbinary.readouterr().out
    assert neuralzip.describe(packed)[0].chunk_size == chunk
    assert neuralzip.decompress(packed) == data


def test_bad_level_is_a_usage_error(text_file, capsys):
    assert nzip("--level", "10", text_file) == 2
    assert "usage:" in capsys.readouterr().err


def test_threads(tmp_path, capsysbinary, monkeypatch):
    seen = []
    real = neuralzip.NeuralZipCompressor
    monkeypatch.setattr(neuralzip, "NeuralZipCompressor", lambda *a, **k: seen.append(k["threads"]) or real(*a, **k))
    (tmp_path / "s").write_bytes(TEXT[:300])
    assert nzip("-T2", "-1", "-c", tmp_path / "s") == 0 and set(seen) == {2}
    packed = capsysbinary.readouterr().out
    seen.clear()
    assert nzip("--threads", "0", "-1", "-c", tmp_path / "s") == 0 and min(seen) >= 1
    assert capsysbinary.readouterr().out == packed          # the same stream whatever the count
    (tmp_path / "s.nz").write_bytes(packed)
    assert nunzip("-T", "3", "-c", tmp_path / "s.nz") == 0
    assert capsysbinary.readouterr().out == TEXT[:300]


def test_bad_thread_count_is_a_usage_error(text_file, capsys):
    assert nzip("--threads=-1", text_file) == 2
    assert "thread count" in capsys.readouterr().err


def test_mode_and_times_are_preserved(text_file, tmp_path):
    os.chmod(text_file, 0o640)
    os.utime(text_file, ns=(1_000_000_000_000_000_000, 1_100_000_000_000_000_000))
    assert nzip(text_file) == 0
    st = os.stat(tmp_path / "a.txt.nz")
    assert st.st_mode & 0o7777 == 0o640
    assert st.st_mtime_ns == 1_100_000_000_000_000_000
    assert not text_file.exists()
    assert nzip("-d", tmp_path / "a.txt.nz") == 0
    st = os.stat(text_file)
    assert st.st_mode & 0o7777 == 0o640
    assert st.st_mtime_ns == 1_100_000_000_000_000_000


def test_refuses_compressed_data_on_a_terminal(text_file, tmp_path, monkeypatch, capsys, stdin, blob):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert nzip("-c", text_file) == 1
    assert "stdout is a console, aborting; use -f to force" in capsys.readouterr().err
    stdin(blob, tty=True)
    assert nzip("-d") == 1
    assert "stdin is a console" in capsys.readouterr().err
    assert nzip(text_file) == 0                               # to a file: the terminal does not matter
    assert nzip("-dcf", tmp_path / "a.txt.nz") == 0           # decompressed data may go to a terminal


def test_concatenated_files_decompress_to_the_concatenation(tmp_path, monkeypatch, blob):
    second = neuralzip.compress(b"second part\n", 1)
    (tmp_path / "cat.nz").write_bytes(blob + second + blob)
    # tiny read and output sizes drive the streaming loop through every branch
    monkeypatch.setattr(cli, "READ_SIZE", 7)
    monkeypatch.setattr(cli, "OUT_SIZE", 50)
    assert nzip("-d", tmp_path / "cat.nz") == 0
    assert (tmp_path / "cat").read_bytes() == TEXT + b"second part\n" + TEXT


def test_empty_input_round_trip(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    assert nzip("--rm", tmp_path / "empty") == 0
    assert nzip("-d", tmp_path / "empty.nz") == 0
    assert (tmp_path / "empty").read_bytes() == b""


def test_verbose_report(text_file, capsys):
    assert nzip("-v", text_file) == 0
    err = capsys.readouterr().err
    assert f"{text_file}: {len(TEXT)} -> " in err and "bits/byte" in err and "/s" in err


def test_progress_only_on_a_terminal(text_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "PROGRESS_MIN", 100)       # make the small input count as large
    monkeypatch.setattr(cli, "PROGRESS_INTERVAL", 0)
    monkeypatch.setattr(cli, "READ_SIZE", 64)
    assert nzip("-kf", text_file) == 0
    assert capsys.readouterr().err == ""                  # stderr is not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert nzip("-kf", text_file) == 0
    err = capsys.readouterr().err
    assert f"\r{text_file}: " in err and f"/ {len(TEXT)} B (" in err and "B/s" in err
    assert err.endswith("\r") and err.rsplit("\r", 2)[1].strip() == ""   # cleared at the end
    assert nzip("-kf", "-q", text_file) == 0
    assert capsys.readouterr().err == ""


def test_no_progress_line_for_a_small_input_on_a_terminal(text_file, monkeypatch, capsys):
    monkeypatch.setattr(cli, "PROGRESS_INTERVAL", 0)
    monkeypatch.setattr(cli, "READ_SIZE", 64)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert nzip("-kf", text_file) == 0
    assert capsys.readouterr().err == ""                  # done before a line would help


def test_multiple_files_to_stdout_concatenate(text_file, nz_file, capsysbinary):
    assert nzip("-dc", nz_file, nz_file) == 0
    assert capsysbinary.readouterr().out == TEXT + TEXT


def test_interrupt_leaves_input_and_no_temporary_file(text_file, tmp_path, monkeypatch, capsys):
    def interrupted(self, data):
        raise KeyboardInterrupt
    monkeypatch.setattr(neuralzip.NeuralZipCompressor, "compress", interrupted)
    assert nzip("--rm", text_file) == 130
    assert listing(tmp_path) == ["a.txt"]
    assert text_file.read_bytes() == TEXT


def test_unusable_arguments_exit_1(text_file, tmp_path, capsys):
    assert nzip("--model", tmp_path / "no-such-model.nzm", text_file) == 1
    assert "no model" in capsys.readouterr().err
    if not backend.torch_present() or not __import__("torch").cuda.is_available():
        assert nzip("--device", "cuda", text_file) == 1
        assert "CUDA" in capsys.readouterr().err
    assert listing(tmp_path) == ["a.txt"]


def test_max_size_refuses_a_bomb_and_keeps_the_input(nz_file, tmp_path, capsys):
    assert nunzip("--max-size", len(TEXT) - 1, nz_file) == 1
    assert "size limit" in capsys.readouterr().err
    assert listing(tmp_path) == ["b.txt.nz"]
    assert nunzip("-t", "--max-size", "100", nz_file) == 1
    assert nunzip("-t", "--max-size", "1K", nz_file) == 0
    assert nunzip("--max-size", len(TEXT), nz_file) == 0
    assert (tmp_path / "b.txt").read_bytes() == TEXT


def test_max_size_counts_every_concatenated_stream(nz_file, blob, capsysbinary):
    nz_file.write_bytes(blob + blob)
    assert nunzip("-c", "--max-size", 2 * len(TEXT) - 1, nz_file) == 1
    assert nunzip("-c", "--max-size", 2 * len(TEXT), nz_file) == 0


@pytest.mark.parametrize("size", ["-5", "lots", "1Q"])
def test_bad_max_size_is_a_usage_error(nz_file, size, capsys):
    assert nunzip(f"--max-size={size}", nz_file) == 2
    assert "invalid size" in capsys.readouterr().err


def test_version(capsys):
    assert nzip("-V") == 0
    assert neuralzip.__version__ in capsys.readouterr().out


def test_directory_is_skipped(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    assert nzip(tmp_path / "d") == 2
    assert "is a directory" in capsys.readouterr().err


# end to end, in a fresh interpreter -------------------------------------------------------------------------

def test_pipe_round_trip(text_file):
    nzip_cmd = [sys.executable, "-m", "neuralzip", "-c", str(text_file)]
    nunzip_cmd = [sys.executable, "-c", "import sys, neuralzip.cli; sys.exit(neuralzip.cli.main_unzip())", "-c"]
    with subprocess.Popen(nzip_cmd, stdout=subprocess.PIPE, env=ENV) as first:
        second = subprocess.run(nunzip_cmd, stdin=first.stdout, capture_output=True, env=ENV, timeout=120)
        first.stdout.close()
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert second.stdout == TEXT


@pytest.mark.parametrize("threads", ["1", "2"])
def test_ctrl_c_in_a_real_process_leaves_the_input_and_no_output(tmp_path, threads):
    """SIGINT while nzip works on a file: exit 130 at once (with -T2 too, whose worker is still coding), the input
    untouched, no output and no temporary file."""
    big = tmp_path / "big.txt"
    big.write_bytes(TEXT * 2000)                       # about 1 MB of prose: many seconds of work
    # a test run started in the background inherits an ignored SIGINT, and Python then never raises
    # KeyboardInterrupt: give the child the default disposition, as a terminal would
    proc = subprocess.Popen([sys.executable, "-m", "neuralzip", "-T", threads, "--rm", str(big)], env=ENV,
                            stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".big.txt.nz.tmp") for p in tmp_path.iterdir()):   # the work has begun
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - interrupted < 10
    assert b"interrupted" in err and b"Traceback" not in err
    assert listing(tmp_path) == ["big.txt"] and big.read_bytes() == TEXT * 2000


def test_closed_stdout_exits_quietly(nz_file):
    read_end, write_end = os.pipe()
    os.close(read_end)                 # nobody will read: the first write fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "neuralzip", "-dc", str(nz_file)], stdout=write_end,
                              stderr=subprocess.PIPE, env=ENV, timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr and b"Exception" not in proc.stderr


def test_ray_without_the_extra_says_how_to_install_it(text_file, capsys, monkeypatch):
    """--ray where Ray is not installed: an error naming the extra, the input kept and no output left."""
    monkeypatch.setitem(sys.modules, "ray", None)               # import ray raises ImportError
    monkeypatch.delitem(sys.modules, "neuralzip.distributed", raising=False)
    monkeypatch.delattr(neuralzip, "distributed", raising=False)     # else `from . import distributed` finds it
    assert cli.main([str(text_file), "--ray"]) == 1
    assert "pip install 'neuralzip[ray]'" in capsys.readouterr().err
    assert text_file.exists() and not Path(str(text_file) + ".nz").exists()
