"""NeuralZipFile and open(): neuralzip streams as file objects, in the shape of lzma.LZMAFile and lzma.open."""

from __future__ import annotations

import builtins
import io
import os

from .api import NeuralZipCompressor, NeuralZipDecompressor

READ_SIZE = 1 << 20   # compressed bytes per read: enough frames for a wide lockstep batch


class _DecompressReader(io.RawIOBase):
    """Raw reader over concatenated streams; io.BufferedReader adds the rest of the file interface."""

    def __init__(self, fp, **options):
        self._fp, self._options = fp, options
        self._decomp = NeuralZipDecompressor(**options)
        self._stream_started = False
        self._eof = False
        self._pos = 0

    def readable(self):
        return True

    def readinto(self, b):
        with memoryview(b) as view, view.cast("B") as byte_view:
            data = self.read(len(byte_view))
            byte_view[:len(data)] = data
        return len(data)

    def read(self, size=-1):
        if size < 0:
            return self.readall()
        if not size or self._eof:
            return b""
        data = None
        while True:
            if self._decomp.eof:
                rawblock = self._decomp.unused_data or self._fp.read(READ_SIZE)
                if not rawblock:
                    break
                self._decomp = NeuralZipDecompressor(**self._options)
                self._stream_started = True
                data = self._decomp.decompress(rawblock, size)
            elif self._decomp.needs_input:
                rawblock = self._fp.read(READ_SIZE)
                if not rawblock:
                    if self._decomp.eof or not (self._stream_started or self._pos):
                        break      # an empty file holds no streams
                    raise EOFError("compressed file ended before the end-of-stream marker was reached")
                self._stream_started = True
                data = self._decomp.decompress(rawblock, size)
            else:
                data = self._decomp.decompress(b"", size)
            if data:
                break
        if not data:
            self._eof = True
            return b""
        self._pos += len(data)
        return data

    def tell(self):
        return self._pos


class NeuralZipFile(io.BufferedIOBase):
    """A file object that reads or writes one or more neuralzip streams.

    filename is a path or an existing binary file object; mode is "r", "w", "x" or "a" (with optional "b").
    Appending adds a new stream, which decompresses as the concatenation. threads: how many 4 MiB batches to code
    at once (0: one per core); the stream is the same bytes whatever the count.
    """

    def __init__(self, filename, mode: str = "r", *, level: int | None = None, model=None, device=None,
                 threads: int = 1):
        self._fp, self._closefp, self._mode = None, False, None
        if mode in ("r", "rb"):
            if level is not None:
                raise ValueError("level is for writing; a reader takes it from the stream")
            mode_code = "r"
        elif mode in ("w", "wb", "a", "ab", "x", "xb"):
            mode_code = "w"
            self._compressor = NeuralZipCompressor(level, model=model, device=device, threads=threads)
        else:
            raise ValueError(f"invalid mode: {mode!r}")
        if isinstance(filename, (str, bytes, os.PathLike)):
            self._fp = builtins.open(filename, mode.replace("b", "") + "b")
            self._closefp = True
        elif hasattr(filename, "read") or hasattr(filename, "write"):
            self._fp = filename
        else:
            raise TypeError("filename must be a str, bytes, os.PathLike or file object")
        self._mode = mode_code
        if mode_code == "r":
            self._buffer = io.BufferedReader(_DecompressReader(self._fp, model=model, device=device,
                                                               threads=threads))
        else:
            self._pos = 0

    def close(self):
        if self._mode is None:
            return
        try:
            if self._mode == "r":
                self._buffer.close()
            else:
                self._fp.write(self._compressor.flush())
        finally:
            try:
                if self._closefp:
                    self._fp.close()
            finally:
                self._fp, self._closefp, self._mode = None, False, None

    @property
    def closed(self):
        return self._mode is None

    def _check(self, mode):
        if self._mode is None:
            raise ValueError("I/O operation on closed file")
        if self._mode != mode:
            raise io.UnsupportedOperation(f"file not open for {'reading' if mode == 'r' else 'writing'}")

    def fileno(self):
        if self._mode is None:
            raise ValueError("I/O operation on closed file")
        return self._fp.fileno()

    def readable(self):
        return self._mode == "r"

    def writable(self):
        return self._mode == "w"

    def seekable(self):
        return False

    def read(self, size=-1):
        self._check("r")
        return self._buffer.read(size)

    def read1(self, size=-1):
        self._check("r")
        return self._buffer.read1(size)

    def readinto(self, b):
        self._check("r")
        return self._buffer.readinto(b)

    def readline(self, size=-1):
        self._check("r")
        return self._buffer.readline(size)

    def peek(self, size=-1):
        self._check("r")
        return self._buffer.peek(size)

    def write(self, data):
        self._check("w")
        length = memoryview(data).nbytes
        self._fp.write(self._compressor.compress(data))
        self._pos += length
        return length

    def tell(self):
        if self._mode is None:
            raise ValueError("I/O operation on closed file")
        return self._buffer.tell() if self._mode == "r" else self._pos


def open(filename, mode: str = "rb", *, level: int | None = None, model=None, device=None, threads: int = 1,
         encoding=None, errors=None, newline=None):
    """Open a neuralzip file in binary ("rb", "wb", "xb", "ab") or text ("rt", "wt", ...) mode, like lzma.open."""
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"invalid mode: {mode!r}")
    else:
        if encoding is not None or errors is not None or newline is not None:
            raise ValueError("encoding, errors and newline are for text mode")
    binary = NeuralZipFile(filename, mode.replace("t", ""), level=level, model=model, device=device,
                           threads=threads)
    if "t" in mode:
        return io.TextIOWrapper(binary, encoding=io.text_encoding(encoding), errors=errors, newline=newline)
    return binary
