"""compress, decompress, open, NeuralZipFile and the incremental objects, in the shape of lzma and
compression.zstd."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field

from . import backend, memory, zoo
from .engine import decode_chunks, encode_chunks
from .errors import NeuralZipError
from .format import (MAX_GROUP_BYTES, MAX_GROUP_FRAMES, MAX_STORED_SIZE, MODEL_ID_BYTES, EndFrame, Frame, Method,
                     StreamHeader, crc32, frame_crc32, parse_frame, parse_header)
from .memory import BATCH_CHUNK_BYTES, WIDEST_CHUNKS
from .pipeline import Pipeline, thread_count
from .spans import SPAN_BYTES, Span

# chunks coded together in one lockstep batch: wide batches amortise the per-step cost; on a GPU, as many as its
# free memory holds, up to WIDEST_CHUNKS (batch_width)
BATCH_CHUNKS = {"cpu": 256, "cuda": WIDEST_CHUNKS}


def batch_width(model, chunk_size: int, device) -> int:
    """Chunks per lockstep batch for model's chunks of chunk_size on device: the CPU's fixed width; a GPU's from
    its free memory now (neuralzip.memory.widest_batch). The stream is the same at any width."""
    free = memory.free_bytes(device)
    if free is None:
        return BATCH_CHUNKS.get(device.type, BATCH_CHUNKS["cpu"])
    return memory.widest_batch(model.config, chunk_size, free, BATCH_CHUNKS["cuda"])


def _as_bytes(data) -> memoryview:
    try:
        return memoryview(data).cast("B")
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not {type(data).__name__}") from None


class NeuralZipCompressor:
    """Compresses data incrementally into one stream; flush() ends the stream.

    The output does not depend on how the input is split across compress() calls, nor on threads: with more than
    one, that many batches (of 4 MiB on the CPU) are coded at once, so output lags input by as many batches.
    """

    def __init__(self, level: int | None = None, *, model: str | os.PathLike | None = None,
                 device: str | None = None, threads: int = 1):
        threads = thread_count(threads)
        lv = zoo.level(level)
        self._model = zoo.load(model if model is not None else lv.model)
        self._chunk_size = lv.chunk_size
        self._device = backend.choose(device)
        self._group_bytes = self._model.config.match_group_bytes
        if self._group_bytes and -(-self._group_bytes // self._chunk_size) > MAX_GROUP_FRAMES:
            raise ValueError(f"model {self._model.name!r} groups {self._group_bytes} bytes, more than "
                             f"{MAX_GROUP_FRAMES} chunks of {self._chunk_size}: use a higher level")
        self._batch_bytes = self._batch_size(batch_width(self._model, self._chunk_size, self._device))
        self._offset = 0                        # of the next batch in the content
        self._buffer = bytearray()
        self._stored: list[bytes] = []          # stored chunks waiting to be joined into one frame
        self._stored_size = 0
        self._stored_group = 0                  # the match group they are in: a stored frame stays inside one
        self._span = Span(-1)                   # the coded chunks of the 4 MiB span being written
        # with groups of a whole span, every batch holds whole spans on any device, and its worker applies the span
        # floor; otherwise a span may cross batches, and the floor is applied here once it is whole: either way
        # each span gets it once, so the stream does not depend on the batch
        self._floor_in_batch = self._group_bytes == SPAN_BYTES
        self._started = self._finished = self._last_written = False
        self._frames = self._total = self._crc = 0
        self._batches = Pipeline(threads)

    def compress(self, data) -> bytes:
        if self._finished:
            raise ValueError("compressor has been flushed; make a new one")
        view = _as_bytes(data)
        out = bytearray(self._start())
        if self._buffer:                         # complete the batch begun by earlier calls
            take = min(len(view), self._batch_bytes - len(self._buffer))
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) == self._batch_bytes:
                out += self._encode(bytes(self._buffer))
                self._buffer.clear()
        while len(view) >= self._batch_bytes:   # whole batches straight from the caller's data
            out += self._encode(bytes(view[:self._batch_bytes]))
            view = view[self._batch_bytes:]
        while self._batches.should_take():
            out += self._frames_of(*self._batches.take())
        self._buffer += view
        return bytes(out)

    def flush(self) -> bytes:
        """Compress what is buffered and end the stream."""
        if self._finished:
            raise ValueError("repeated call to flush()")
        out = bytearray(self._start())
        if self._buffer:
            out += self._encode(bytes(self._buffer))
            self._buffer.clear()
        while self._batches:
            out += self._frames_of(*self._batches.take())
        # the last span is written only here (a span is written once the next one begins), and with it the stored
        # chunks still held: so the stream's last frame is always written here, and flagged so, whatever the calls
        out += self._span_frames(final=True) + self._end_stored(last=True)
        self._finished = True
        if not self._last_written:      # an empty stream, with no frame to flag
            out += EndFrame(self._total, self._frames, self._crc).to_bytes()
        return bytes(out)

    def _batch_size(self, width: int) -> int:
        """Bytes in a batch of width chunks. A batch holds whole groups of chunks (those that share a match
        table): the output must not depend on the batch, so groups are fixed by offsets in the content and never
        split."""
        size = width * min(self._chunk_size, BATCH_CHUNK_BYTES)
        return -(-size // self._group_bytes) * self._group_bytes if self._group_bytes else size

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return StreamHeader("", self._model.sha256[:MODEL_ID_BYTES], self._chunk_size).to_bytes()

    def _encode(self, data: bytes) -> bytes:
        """Start coding a batch; the frames of the batches it waits for (when every worker is busy), in order."""
        starts = range(0, len(data), self._chunk_size)
        chunks = [data[i:i + self._chunk_size] for i in starts]
        base, self._offset = self._offset, self._offset + len(data)
        self._batches.submit((chunks, starts, base), encode_chunks, zoo.ModelOnDevice(self._model, self._device),
                             chunks, [base + i for i in starts], self._group_bytes if self._floor_in_batch else None)
        out = bytearray()
        while self._batches.should_take():
            out += self._frames_of(*self._batches.take())
        return bytes(out)

    def _frames_of(self, batch, coded) -> bytes:
        """A coded batch's chunks, kept by span: the frames of each span once it is whole."""
        chunks, starts, base = batch
        out, index = bytearray(), 0
        for entry in coded:
            offset = base + starts[index]
            if offset // SPAN_BYTES != self._span.index:
                out += self._span_frames()
                self._span = Span(offset // SPAN_BYTES)
            held = range(index, index + entry[2])
            self._span.add([chunks[i] for i in held], entry, [base + starts[i] for i in held])
            index += entry[2]
        return bytes(out)

    def _span_frames(self, final: bool = False) -> bytes:
        """The frames of the span being written, with its floor (neuralzip.spans), its stored chunks joined with
        those around it. final: the stream's last span, whose last frame, unless stored (_end_stored writes
        that), is the stream's."""
        out, span, index = bytearray(), self._span, 0
        coded = span.coded if self._floor_in_batch else span.floor(self._group_bytes)
        for number, (method, payload, count) in enumerate(coded, 1):
            start, original = span.offsets[index], b"".join(span.chunks[index:index + count])
            index += count
            if method != Method.STORED:
                out += self._end_stored() + self._frame(method, original, payload, final and number == len(coded))
                continue
            # consecutive stored chunks share one frame (incompressible data then costs a frame header per
            # 4 MiB, not per chunk); the frame may span batches, so the stream is the same whatever the batch
            group = start // self._group_bytes if self._group_bytes else 0
            if self._stored_size + len(original) > MAX_STORED_SIZE or group != self._stored_group:
                out += self._end_stored()
            self._stored_group = group
            self._stored.append(original)
            self._stored_size += len(original)
        self._span = Span(-1)
        return bytes(out)

    def _end_stored(self, last: bool = False) -> bytes:
        if not self._stored:
            return b""
        original = b"".join(self._stored)
        self._stored, self._stored_size = [], 0
        return self._frame(Method.STORED, original, original, last)

    def _frame(self, method: Method, original: bytes, payload: bytes, last: bool = False) -> bytes:
        frame = Frame(method, len(original), len(payload), frame_crc32(original, self._crc, last=last), last)
        self._crc = crc32(original, self._crc)
        self._frames += 1
        self._total += len(original)
        self._last_written = last
        return frame.to_bytes() + payload


class NeuralZipDecompressor:
    """Decompresses one stream incrementally. After its end, eof is True and unused_data holds what follows.

    Frames are decoded in lockstep batches, so output may lag input by up to one batch of chunks (by threads
    batches with threads > 1, which decodes that many at once).

    max_size, when given, bounds the stream's content: a frame that would take it past max_size bytes raises
    NeuralZipError before anything of it is decoded (a guard against decompression bombs).
    """

    def __init__(self, *, model: str | os.PathLike | None = None, device: str | None = None,
                 max_size: int | None = None, threads: int = 1):
        threads = thread_count(threads)
        if max_size is not None and (not isinstance(max_size, int) or isinstance(max_size, bool)):
            raise TypeError(f"max_size must be an int or None, not {type(max_size).__name__}")
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size must not be negative, not {max_size}")
        self._max_size = max_size
        self._model_hint = zoo.load(model) if model is not None else None
        self._device = backend.choose(device)
        self._batch = BATCH_CHUNKS[self._device.type]     # on a GPU, narrowed once the model is known
        self._input = _ByteQueue()
        self._output = _ByteQueue()
        self._header: StreamHeader | None = None
        self._pending: list[tuple[Frame, bytes, int]] = []   # with the offset of each frame's content
        self._span = (-1, 0)        # the MAX_GROUP_BYTES span the last frame started in, and its frames
                                    # so far (a run counts its chunks)
        self._pending_size = 0      # original bytes in the pending frames
        self._batches = Pipeline(threads)    # batches of frames being decoded
        self._decoding_size = 0     # original bytes in them
        self._frames = self._total = self._crc = 0
        self._end: EndFrame | None = None   # the end frame, where one ends the stream
        self._ended = False         # the stream's last frame, or its end frame, has been parsed
        self._done = False          # end of stream reached and checked; output may still be buffered
        self.eof = False            # ... and all output returned
        self.unused_data = b""
        self.needs_input = True

    def decompress(self, data, max_length: int = -1) -> bytes:
        """Decompress data, returning at most max_length bytes (all when negative)."""
        if self.eof:
            raise EOFError("already at end of stream")
        self._input.put(_as_bytes(data))
        # past max_length too while a worker is free: parse on and start the next batch, so the workers stay busy
        while (max_length < 0 or len(self._output) < max_length or self._batches.has_room()) and self._advance():
            pass
        while self._batches.should_take():       # batches that finished meanwhile
            self._take_batch()
        out = self._output.take(len(self._output) if max_length < 0 else max_length)
        while not self._output and self._advance(decode=False):
            pass                                 # parse what is buffered: it may hold the next batch
        self.eof = self._done and not self._output
        self.needs_input = not self._output and not self._done and not self._decodable()
        return out

    def _decodable(self) -> bool:
        return (self._ended and not self._done) or self._ready() > 0

    def _ready(self) -> int:
        """How many pending frames to decode now: none until a batch is full (at batch chunks, or at as many
        bytes: stored frames join several chunks), then all but those of the last MAX_GROUP_BYTES span, which
        may not be complete yet: a match group decodes whole, and no model's groups cross such a span."""
        full = len(self._pending) >= self._batch or (
            self._pending and self._pending_size >= self._batch * min(self._header.chunk_size, BATCH_CHUNK_BYTES))
        if not full:
            return 0
        last = self._pending[-1][2] // MAX_GROUP_BYTES
        return next(i for i, (_, _, offset) in enumerate(self._pending) if offset // MAX_GROUP_BYTES == last)

    def _advance(self, decode: bool = True) -> bool:
        """Do one unit of work (parse a header or frame, or, if decode, decode a batch); False when there is
        nothing to do without more input (or without decoding)."""
        if self._done:
            return False
        if self._decodable():
            if not decode:
                return False
            ready = self._ready()       # at the end too, the full batch first: batches are cut as mid-stream
            self._decode_pending(ready or len(self._pending))
            if self._ended and not self._pending:
                while self._batches:
                    self._take_batch()
                self._finish()
            return True
        if self._ended:
            return False
        buf, start = self._input.buffer, self._input.start
        if self._header is None:
            parsed = parse_header(buf, start)
            if parsed is None:
                return False
            self._header, end = parsed
            self._input.skip_to(end)
            if self._device.type == "cuda":         # as wide as the GPU's free memory holds, for this model
                try:
                    model = zoo.find(self._header.model_id, self._header.model_name, self._model_hint)
                except NeuralZipError:
                    pass                            # said when a frame needs the model
                else:
                    self._batch = batch_width(model, self._header.chunk_size, self._device)
            return True
        parsed = parse_frame(buf, start, self._header)
        if parsed is None:
            return False
        frame, end = parsed
        if isinstance(frame, EndFrame):
            self._end, self._ended = frame, True
            self._input.skip_to(end)
            return True
        offset = self._total + self._decoding_size + self._pending_size
        if self._max_size is not None and offset + frame.size > self._max_size:
            raise NeuralZipError(f"the content exceeds the size limit of {self._max_size} bytes; "
                                 "raise the limit if the data is trusted")
        if len(buf) < end + frame.payload_size:
            return False
        self._count_span(offset, frame)
        self._pending.append((frame, bytes(buf[end:end + frame.payload_size]), offset))
        self._pending_size += frame.size
        self._input.skip_to(end + frame.payload_size)
        self._ended = frame.last
        return True

    def _count_span(self, offset: int, frame: Frame) -> None:
        """Refuse more chunks of neural frames and runs (and more frames) in one span than any writer makes (it
        cuts at least 4 KiB per chunk): a span may have to be held and decoded at once. No run crosses a span."""
        chunks = -(-frame.size // self._header.chunk_size) if frame.method == Method.NEURAL_RUN else 1
        crosses = offset // MAX_GROUP_BYTES != (offset + frame.size - 1) // MAX_GROUP_BYTES
        if crosses and (chunks > 1 or frame.method == Method.LZMA):
            kind = "an LZMA frame" if frame.method == Method.LZMA else "a neural run"
            raise NeuralZipError(f"damaged stream: {kind} crosses a multiple of {MAX_GROUP_BYTES} bytes")
        span, count = self._span
        self._span = (offset // MAX_GROUP_BYTES, count + chunks if offset // MAX_GROUP_BYTES == span else chunks)
        if self._span[1] > MAX_GROUP_FRAMES:
            raise NeuralZipError(f"damaged stream: more than {MAX_GROUP_FRAMES} frames in "
                                 f"{MAX_GROUP_BYTES} bytes of content")

    def _model_for(self, frames) -> zoo.ModelOnDevice | None:
        """The model that frames need: None when none is neural (those decode without the stream's model, which may
        not be at hand)."""
        if all(f.method not in (Method.NEURAL, Method.NEURAL_RUN) for f, _, _ in frames):
            return None
        h = self._header
        return zoo.ModelOnDevice(zoo.find(h.model_id, h.model_name, self._model_hint), self._device)

    def _decode_pending(self, count: int) -> None:
        """Start decoding the first count pending frames; take the batches done before them, or waited for when
        every worker is busy."""
        frames, self._pending = self._pending[:count], self._pending[count:]
        self._pending_size = sum(f.size for f, _, _ in self._pending)
        self._decoding_size += sum(f.size for f, _, _ in frames)
        self._batches.submit(frames, decode_chunks, self._model_for(frames),
                             [(f.method, p, f.size) for f, p, _ in frames],
                             [o for _, _, o in frames], self._header.chunk_size)
        while self._batches.should_take():
            self._take_batch()

    def _take_batch(self) -> None:
        frames, chunks = self._batches.take()
        self._decoding_size -= sum(f.size for f, _, _ in frames)
        for (frame, _, _), chunk in zip(frames, chunks):
            if len(chunk) != frame.size or \
                    frame_crc32(chunk, self._crc, self._header.version, frame.last) != frame.crc32:
                raise NeuralZipError(f"damaged stream: frame {self._frames} does not match its checksum")
            self._output.put(chunk)
            self._crc = crc32(chunk, self._crc)
            self._frames += 1
            self._total += len(chunk)

    def _finish(self) -> None:
        end = self._end             # None after a last frame: the frames' CRCs have checked the content
        if end is not None and (end.total_size, end.frames, end.crc32) != (self._total, self._frames, self._crc):
            raise NeuralZipError("damaged stream: the end-of-stream sizes or checksum do not match the content")
        self._done = True
        self.unused_data = self._input.take(len(self._input))


class _ByteQueue:
    """Bytes appended at the back and consumed from the front in amortised linear time (deleting from the
    front of a bytearray moves everything behind, every time)."""

    def __init__(self):
        self.buffer = bytearray()
        self.start = 0

    def __len__(self) -> int:
        return len(self.buffer) - self.start

    def put(self, data) -> None:
        self.buffer += data

    def skip_to(self, position: int) -> None:
        self.start = position
        if self.start > (1 << 16) and self.start * 2 > len(self.buffer):
            del self.buffer[:self.start]
            self.start = 0

    def take(self, n: int) -> bytes:
        out = bytes(self.buffer[self.start:self.start + n])
        self.skip_to(self.start + len(out))
        return out


def compress(data, level: int | None = None, *, model: str | os.PathLike | None = None,
             device: str | None = None, threads: int = 1) -> bytes:
    """Compress data into one neuralzip stream. threads: how many cores to use (0: one per core), with up to that
    many 4 MiB batches coded at once, sharing them; the stream is the same bytes whatever the count.

    >>> import neuralzip
    >>> blob = neuralzip.compress(b"hello, world\\n" * 100)
    >>> neuralzip.decompress(blob)[:13]
    b'hello, world\\n'
    """
    c = NeuralZipCompressor(level, model=model, device=device, threads=threads)
    return c.compress(data) + c.flush()


def decompress(data, *, model: str | os.PathLike | None = None, device: str | None = None,
               threads: int = 1) -> bytes:
    """Decompress one or more concatenated neuralzip streams into the concatenation of their contents (threads as
    for compress)."""
    return decompress_streams(bytes(_as_bytes(data)),
                              lambda: NeuralZipDecompressor(model=model, device=device, threads=threads))


def decompress_streams(data: bytes, decompressor) -> bytes:
    """The concatenated contents of the streams in data, each decoded by a new decompressor()."""
    results = []
    while True:
        d = decompressor()
        results.append(d.decompress(data))
        if not d.eof:
            raise EOFError("compressed data ended before the end-of-stream marker was reached")
        data = d.unused_data
        if not data:
            return b"".join(results)


@dataclass
class StreamInfo:
    """What one stream holds, read from its framing without decoding anything."""
    model_name: str         # the stream's own (format versions 1, 2), else the model's whose SHA-256 starts with the
                            # id: embedded, or the one describe() was given; else the id in hex
    model_id: str           # the start of the model file's SHA-256, in hex: 4 bytes (format version 2: 8; 1: all 32)
    chunk_size: int
    format_version: int
    compressed_size: int = 0
    original_size: int = 0
    frames: dict = field(default_factory=lambda: {m.name.lower(): 0 for m in Method if m != Method.END})


def describe(data, *, model: str | os.PathLike | None = None) -> list[StreamInfo]:
    """One StreamInfo per concatenated stream in data (what ``nzip -l`` shows).

    data is a bytes-like object or a binary file open for reading; a file is read through once, its payloads
    skipped, so memory stays small whatever its size. model: a model (name or file) that streams may have been
    made with, to name them by (a stream of format version 3 holds the start of its model's SHA-256, not its name).
    """
    reader = _FrameReader(data if hasattr(data, "read") else io.BytesIO(_as_bytes(data)))
    given = zoo.load(model) if model is not None else None
    streams = []
    while reader.more():
        begin = reader.position
        header = reader.parse(parse_header, "a stream header")
        info = StreamInfo(header.model_name or _model_name(header.model_id, given), header.model_id.hex(),
                          header.chunk_size, header.version)
        while not isinstance(frame := reader.parse(lambda b, p: parse_frame(b, p, header), "a frame"), EndFrame):
            reader.skip(frame.payload_size)
            info.frames[frame.method.name.lower()] += 1
            info.original_size += frame.size
            if frame.last:
                break
        else:                           # ended by an end frame, whose totals are checked
            if frame.total_size != info.original_size or frame.frames != sum(info.frames.values()):
                raise NeuralZipError("damaged stream: the end-of-stream sizes do not match the frames")
        info.compressed_size = reader.position - begin
        streams.append(info)
    return streams


def _model_name(model_id: bytes, given) -> str:
    """The name of the model whose SHA-256 starts with model_id (given, else an embedded one), else the id in hex:
    from the embedded models' configs, without loading one."""
    if given is not None and given.sha256.startswith(model_id):
        return given.name
    return next((name for name in zoo.embedded_names() if zoo.embedded_sha256(name).startswith(model_id)),
                model_id.hex())


class _FrameReader:
    """Headers and frame headers parsed from a file; payloads skipped without being kept."""
    PIECE = 1 << 16

    def __init__(self, file):
        self._file, self._buf, self.position = file, b"", 0

    def more(self) -> bool:
        if not self._buf:
            self._buf = self._file.read(self.PIECE)
        return bool(self._buf)

    def parse(self, parser, what: str):
        while (parsed := parser(self._buf, 0)) is None:
            piece = self._file.read(self.PIECE)
            if not piece:
                raise EOFError(f"compressed data ended inside {what}")
            self._buf += piece
        item, end = parsed
        self._buf = self._buf[end:]
        self.position += end
        return item

    def skip(self, n: int) -> None:
        self.position += n
        taken = min(n, len(self._buf))
        self._buf, n = self._buf[taken:], n - taken
        while n > 0:
            piece = self._file.read(min(n, self.PIECE))
            if not piece:
                raise EOFError("compressed data ended inside a frame")
            n -= len(piece)
