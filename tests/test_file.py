"""NeuralZipFile and open()."""

import io

import pytest

import neuralzip
from neuralzip import NeuralZipFile

TEXT = b"Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse.\n"


def test_write_then_read(tmp_path):
    path = tmp_path / "a.nz"
    with NeuralZipFile(path, "wb") as f:
        for _ in range(3):
            assert f.write(TEXT) == len(TEXT)
        assert f.tell() == 3 * len(TEXT)
    assert neuralzip.decompress(path.read_bytes()) == TEXT * 3
    with NeuralZipFile(path) as f:
        assert f.read(5) == b"Call "
        assert f.readline() == TEXT[5:]
        assert f.tell() == len(TEXT)
        assert f.read() == TEXT * 2
        assert f.read() == b""


def test_small_reads_and_file_objects():
    buf = io.BytesIO()
    with NeuralZipFile(buf, "w", level=1) as f:
        f.write(TEXT * 50)
    buf.seek(0)
    with NeuralZipFile(buf) as f:
        pieces = iter(lambda: f.read(7), b"")
        assert b"".join(pieces) == TEXT * 50
    assert not buf.closed          # a file object passed in stays open


def test_append_makes_a_concatenation(tmp_path):
    path = tmp_path / "a.nz"
    with neuralzip.open(path, "wb") as f:
        f.write(b"one ")
    with neuralzip.open(path, "ab") as f:
        f.write(b"two")
    with neuralzip.open(path) as f:
        assert f.read() == b"one two"


def test_text_mode(tmp_path):
    path = tmp_path / "t.nz"
    with neuralzip.open(path, "wt", encoding="utf-8") as f:
        f.write("héllo\nwörld\n")
    with neuralzip.open(path, "rt", encoding="utf-8") as f:
        assert f.readlines() == ["héllo\n", "wörld\n"]


def test_exclusive_mode_refuses_existing(tmp_path):
    path = tmp_path / "x.nz"
    path.write_bytes(b"")
    with pytest.raises(FileExistsError):
        neuralzip.open(path, "xb")


def test_empty_file_reads_empty(tmp_path):
    path = tmp_path / "e.nz"
    path.write_bytes(b"")
    with neuralzip.open(path) as f:
        assert f.read() == b""


def test_truncated_file_raises_eoferror(tmp_path):
    path = tmp_path / "t.nz"
    path.write_bytes(neuralzip.compress(TEXT)[:-5])
    with neuralzip.open(path) as f, pytest.raises(EOFError):
        f.read()


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        NeuralZipFile(tmp_path / "a", "rw")
    with pytest.raises(ValueError, match="level"):
        NeuralZipFile(tmp_path / "a", "r", level=3)
    with pytest.raises(TypeError):
        NeuralZipFile(3.5)
    with pytest.raises(ValueError, match="text mode"):
        neuralzip.open(tmp_path / "a", "rb", encoding="utf-8")


def test_closed_and_wrong_direction(tmp_path):
    f = NeuralZipFile(tmp_path / "a.nz", "wb")
    with pytest.raises(io.UnsupportedOperation):
        f.read()
    with pytest.raises(io.UnsupportedOperation):
        f.peek()
    f.close()
    f.close()
    assert f.closed
    with pytest.raises(ValueError, match="closed"):
        f.write(b"x")
    for call in (f.fileno, f.tell, f.peek):    # as a closed gzip or lzma file says, not its file's number or place
        with pytest.raises(ValueError, match="closed"):
            call()
