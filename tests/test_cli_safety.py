"""The command line's safety checks, each on its own, and its error paths: never lose or damage a user's file."""

from __future__ import annotations

import errno
import os
import sys
import threading
from pathlib import Path

import pytest

import neuralzip
from neuralzip import cli, modelfile, zoo

TEXT = (b"Compression and prediction are two views of the same thing: a model that guesses the next byte\n"
        b"well lets an arithmetic coder spend few bits on it, and a command line must never lose a file.\n")
SLOW = os.environ.get("NEURALZIP_SLOW_TESTS") == "1"


@pytest.fixture(scope="module")
def blob() -> bytes:
    return neuralzip.compress(TEXT, 1)


@pytest.fixture
def text_file(tmp_path) -> Path:
    p = tmp_path / "a.txt"
    p.write_bytes(TEXT)
    return p


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def no_work(monkeypatch):
    """Make compressing or decompressing fail the test: a refusal must come before the work."""
    for name in ("_compress", "_decompress"):
        monkeypatch.setattr(cli, name, lambda *a: pytest.fail("did the work before refusing"))


# the checks ----------------------------------------------------------------------------------------------------

def test_a_target_that_appears_during_the_work_is_not_overwritten(text_file, tmp_path, monkeypatch, capsys):
    target = tmp_path / "a.txt.nz"
    real = cli._compress

    def compress_while_another_program_writes_the_target(*args):
        target.write_bytes(b"theirs")
        return real(*args)

    monkeypatch.setattr(cli, "_compress", compress_while_another_program_writes_the_target)
    assert cli.main([str(text_file)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == b"theirs" and text_file.read_bytes() == TEXT
    assert listing(tmp_path) == ["a.txt", "a.txt.nz"]


def test_a_dangling_symlink_target_is_refused_before_the_work(text_file, tmp_path, monkeypatch, capsys):
    link = tmp_path / "a.txt.nz"
    link.symlink_to(tmp_path / "nowhere")
    no_work(monkeypatch)
    assert cli.main([str(text_file)]) == 1
    assert "already exists; use -f" in capsys.readouterr().err
    assert link.is_symlink() and not link.exists() and text_file.read_bytes() == TEXT
    assert listing(tmp_path) == ["a.txt", "a.txt.nz"]


def test_an_input_that_cannot_be_removed_exits_1(text_file, tmp_path, monkeypatch, capsys):
    real = os.unlink

    def unlink(path, *args, **kwargs):
        if Path(path) == text_file:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    assert cli.main([str(text_file)]) == 1
    assert "output written, but the input could not be removed: Permission denied" in capsys.readouterr().err
    assert neuralzip.decompress((tmp_path / "a.txt.nz").read_bytes()) == TEXT and text_file.read_bytes() == TEXT


def test_appending_to_the_input_through_stdout_is_refused(text_file):
    """nzip -c f >> f would read its own output for ever: refused before anything is written."""
    import subprocess
    with open(text_file, "ab") as out:
        done = subprocess.run([sys.executable, "-m", "neuralzip", "-1", "-c", str(text_file)], stdout=out,
                              stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert done.returncode == 1 and b"input and output are the same file" in done.stderr
    assert text_file.read_bytes() == TEXT


def test_a_fifo_is_skipped_without_being_opened(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # a reader that opened it would wait for a writer: give it one, so that a broken check fails, not hangs
    def write():
        try:
            Path(fifo).write_bytes(b"from the pipe")
        except BrokenPipeError:         # the reader below, which only unblocks this one, has gone
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        assert cli.main([str(fifo)]) == 2
        assert "is not a regular file -- ignored" in capsys.readouterr().err
        assert listing(tmp_path) == ["pipe"]
    finally:
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))     # let the writer finish either way
        writer.join(5)


def test_a_device_is_skipped(tmp_path, capsys):
    device = tmp_path / "null"
    device.symlink_to(os.devnull)
    assert cli.main([str(device)]) == 2
    assert "is not a regular file -- ignored" in capsys.readouterr().err
    assert listing(tmp_path) == ["null"] and Path(os.devnull).exists()


# error paths ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def own_model(tmp_path_factory) -> Path:
    """The level-1 network under another name: a model no neuralzip embeds."""
    base = zoo.load(zoo.level(1).model)
    path = tmp_path_factory.mktemp("models") / "mine.nzm"
    path.write_bytes(modelfile.dump("mine", base.config, base.tensors))
    return path


def test_a_stream_whose_model_is_not_installed_names_it(own_model, tmp_path, capsys):
    packed = tmp_path / "a.txt.nz"
    packed.write_bytes(neuralzip.compress(TEXT, 1, model=own_model))
    assert neuralzip.describe(packed.read_bytes())[0].frames["neural"] == 1
    assert cli.main_unzip(["-k", str(packed)]) == 1
    err = capsys.readouterr().err
    assert f"needs model {zoo.load(own_model).sha256[:4].hex()}" in err and "--model PATH" in err
    assert listing(tmp_path) == ["a.txt.nz"]
    assert cli.main_unzip(["-k", "--model", str(own_model), str(packed)]) == 0
    assert (tmp_path / "a.txt").read_bytes() == TEXT


def test_list_names_a_model_it_is_given(own_model, tmp_path, capsys):
    """A stream names its model by 4 bytes of its SHA-256: nzip -l shows the name of an embedded model or of the
    --model given, else those bytes in hex."""
    packed = tmp_path / "a.txt.nz"
    packed.write_bytes(neuralzip.compress(TEXT, 1, model=own_model) + neuralzip.compress(TEXT, 1))
    model_id = zoo.load(own_model).sha256[:4].hex()
    capsys.readouterr()
    assert cli.main(["-l", str(packed)]) == 0
    assert f" {model_id},{zoo.level(1).model} " in capsys.readouterr().out
    assert cli.main(["-l", "--model", str(own_model), str(packed)]) == 0
    assert f" mine,{zoo.level(1).model} " in capsys.readouterr().out
    assert cli.main(["-l", "--model", str(tmp_path / "none.nzm"), str(packed)]) == 1
    assert "no model" in capsys.readouterr().err


def test_an_unknown_format_version_says_to_upgrade(blob, tmp_path, capsys):
    from fuzz.mutations import set_header_field
    from neuralzip.format import parse_header
    end = parse_header(blob)[1]
    packed = tmp_path / "a.txt.nz"
    packed.write_bytes(set_header_field(blob[:end], "version", 4) + blob[end:])
    assert cli.main_unzip([str(packed)]) == 1
    assert "stream format version 4 is not supported" in capsys.readouterr().err
    assert listing(tmp_path) == ["a.txt.nz"]


def test_damage_after_good_streams_is_counted(blob, tmp_path, capsys):
    packed = tmp_path / "three.nz"
    packed.write_bytes(blob + blob + b"\x89NZP\x09\x00\x01 a stream of a later version")
    assert cli.main_unzip(["-c", str(packed)]) == 1
    assert "after 2 good streams: stream format version 9" in capsys.readouterr().err


def test_truncation_through_the_command_line(blob, tmp_path, capsysbinary):
    """Every cut of a stream when NEURALZIP_SLOW_TESTS=1, every fifth otherwise: exit 1, no output file."""
    packed = tmp_path / "a.txt.nz"
    for cut in range(1, len(blob), 1 if SLOW else 5):
        packed.write_bytes(blob[:cut])
        assert cli.main_unzip(["-k", str(packed)]) == 1, cut
        assert listing(tmp_path) == ["a.txt.nz"], cut
        assert b"truncated" in capsysbinary.readouterr().err, cut


def test_truncation_through_a_file_reader(blob):
    import io
    for cut in range(1, len(blob), 1 if SLOW else 5):
        with neuralzip.NeuralZipFile(io.BytesIO(blob[:cut])) as f, pytest.raises(EOFError):
            f.read()


def test_an_output_folder_that_does_not_exist(text_file, tmp_path, capsys):
    assert cli.main(["-k", "-o", str(tmp_path / "missing" / "a.nz"), str(text_file)]) == 1
    assert "cannot create: No such file or directory" in capsys.readouterr().err
    assert listing(tmp_path) == ["a.txt"]


@pytest.mark.parametrize("failing", ["write", "rename"])
def test_a_full_disk_or_a_failed_rename_keeps_the_input_and_the_old_output(text_file, tmp_path, monkeypatch,
                                                                           capsys, failing):
    target = tmp_path / "a.txt.nz"
    target.write_bytes(b"the old output")
    if failing == "write":
        real = cli._compress

        def compress_onto_a_full_disk(read, write, args, progress):
            real(read, write, args, progress)
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(cli, "_compress", compress_onto_a_full_disk)
    else:
        monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(errno.EXDEV, "Cross-device link")))
    assert cli.main(["-f", str(text_file)]) == 1
    assert ("No space left on device" if failing == "write" else "Cross-device link") in capsys.readouterr().err
    assert text_file.read_bytes() == TEXT and target.read_bytes() == b"the old output"
    assert listing(tmp_path) == ["a.txt", "a.txt.nz"]
