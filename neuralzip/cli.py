"""nzip and nunzip: the neuralzip command line, in the shape of gzip, xz and zstd.

    nzip [options] [FILE...]        compress each FILE to FILE.nz
    nzip -d [options] [FILE...]     decompress each FILE.nz to FILE (nunzip is nzip -d)
    nzip train FILE... -o MODEL     make a model for one's own kind of data (neuralzip.train.command)

With no FILE, or FILE "-", standard input goes to standard output.

Behaviour, and where it follows which tool:

* As gzip does, an input file is removed once its output is complete: written, flushed, fsync'ed and
  renamed into place, never before. -k (--keep) keeps it; so does writing to standard output (-c).
* Output goes to a temporary file beside the destination (".NAME.tmpXXXXXX") that is renamed into place
  only on success; on any error or interrupt it is removed and an existing file is left untouched.
  An existing output file is not overwritten without -f, nor is the input overwritten by its own output.
  The output gets the input's permission bits and access/modification times (ownership when allowed).
* Decompressing a file that lacks the .nz suffix is skipped with a warning, unless -c or -o names the
  output; compressing a file that already has it is skipped unless -f, -c or -o is given.
* Compressed data is neither written to nor read from a terminal unless -f is given.
* --max-size bounds what decompression may produce (a guard against decompression bombs): data whose frames
  would take the content past it is refused before they are decoded, and nothing is written in its place.
* Data is streamed in pieces of 1 MiB, so memory stays bounded whatever the size of the input
  (the library itself buffers up to one lockstep batch of chunks, or N of them with -T N).
* As zstd's -T, -T N (--threads) uses N cores (-T0 one per core; the default, 1): up to N batches (4 MiB each)
  at once, sharing the N cores between them, so that one batch alone has them all; the output is the same
  bytes whatever N. An interrupt does not wait for the batches still being coded.
* A progress line is shown on stderr when it is a terminal, -q is not given and the input is over 1 MiB.
* --ray [ADDRESS] codes the batches on a Ray cluster (neuralzip.distributed; pip install 'neuralzip[ray]'),
  one worker per CPU of the cluster (per GPU where it has them); with no ADDRESS, on a local Ray instance
  started for the run. The output is the same bytes as without it.

Exit status: 0 on success; 1 if any file failed (bad or truncated data, missing file, I/O error, existing
output) or an argument is unusable (e.g. --device cuda without CUDA, an unknown --model); 2 if there were
only warnings (e.g. a skipped file), and for command-line usage errors (argparse's convention);
130 when interrupted (Ctrl-C), after removing the partial output and leaving the input intact.
A closed standard output (e.g. "nzip -dc x.nz | head") ends the program quietly with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import neuralzip
from . import intops, zoo
from .pipeline import WORKER_NAME, thread_count

SUFFIX = ".nz"
READ_SIZE = 1 << 20        # input bytes read per step
OUT_SIZE = 1 << 20         # most decompressed bytes asked for per step
PROGRESS_MIN = 1 << 20     # inputs up to this size finish too fast to need a progress line
PROGRESS_INTERVAL = 0.2    # seconds between redraws of the progress line

EXIT_OK, EXIT_ERROR, EXIT_WARNING, EXIT_INTERRUPTED = 0, 1, 2, 130
STDIN_NAME = "stdin"


class Failure(Exception):
    """A file could not be processed: reported as an error, exit status 1. The text is complete."""


class Skip(Exception):
    """A file was left alone on purpose: reported as a warning (unless -q), exit status 2."""


# ----------------------------------------------------------------------------------------------------------
# command line

def _parser(prog: str, default_mode: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compress or decompress FILEs with neuralzip (a neural language model and a range coder).\n"
                    "With no FILE, or when FILE is -, read standard input and write standard output.",
        epilog="As with gzip, each input file is removed once its output has been completely and safely\n"
               "written; -k keeps it, and so does -c.\n"
               "Exit status: 0 success, 1 error, 2 warning (e.g. a skipped file), 130 interrupted.")
    p.set_defaults(mode=default_mode, remove=True)
    mode = p.add_argument_group("operation (the last one given wins)")
    mode.add_argument("-z", "--compress", dest="mode", action="store_const", const="compress",
                      help="compress (the default for nzip)")
    mode.add_argument("-d", "--decompress", "--uncompress", dest="mode", action="store_const",
                      const="decompress", help="decompress (the default for nunzip)")
    mode.add_argument("-t", "--test", dest="mode", action="store_const", const="test",
                      help="test the integrity of compressed files: decompress and discard")
    mode.add_argument("-l", "--list", dest="mode", action="store_const", const="list",
                      help="list the sizes, ratio, model and frames of compressed files")

    out = p.add_argument_group("output")
    where = out.add_mutually_exclusive_group()
    where.add_argument("-c", "--stdout", "--to-stdout", dest="stdout", action="store_true",
                       help="write to standard output and keep the input files")
    where.add_argument("-o", "--output", metavar="FILE",
                       help="write to FILE (a single input only; - is standard output)")
    out.add_argument("-k", "--keep", dest="remove", action="store_false",
                     help="keep input files (they are removed by default once the output is safely written)")
    out.add_argument("--rm", dest="remove", action="store_true",
                     help="remove each input file once its output is safely written (the default)")
    out.add_argument("-f", "--force", action="store_true",
                     help="overwrite existing output files; read or write compressed data on a terminal; "
                          "compress files that already have the .nz suffix")

    comp = p.add_argument_group("compression")
    lo, hi = neuralzip.MIN_LEVEL, neuralzip.MAX_LEVEL
    for n in range(lo, hi + 1):
        helptext = {lo: f"levels -{lo} ... -{hi}: -{lo} is the fastest (a network of 64 cells with context counts, "
                        "about 7 times the default's speed), -2 fast (128 cells and a match model, about 4 times)",
                    hi: f"-7 ... -{hi} are the best (probability maps on every node, larger chunks, at about "
                        f"half the default's speed; -{hi}: the largest chunks); the default is "
                        f"-{neuralzip.DEFAULT_LEVEL} (maps on the nodes that carry the prediction)"
                    }.get(n, argparse.SUPPRESS)
        comp.add_argument(f"-{n}", dest="level", action="store_const", const=n, help=helptext)
    comp.add_argument("--level", type=int, metavar="N",
                      choices=range(neuralzip.MIN_LEVEL, neuralzip.MAX_LEVEL + 1),
                      help=f"compression level N ({neuralzip.MIN_LEVEL}-{neuralzip.MAX_LEVEL})")
    comp.add_argument("--model", metavar="MODEL",
                      help="embedded model name or path to a .nzm model file; when decompressing, a model "
                           "file for streams whose model is not embedded")
    comp.add_argument("--device", choices=("auto", "cpu", "cuda"),
                      help="where the model runs (default: auto, CUDA when available)")
    comp.add_argument("-T", "--threads", type=_thread_count, default=1, metavar="N",
                      help="use N cores (0: one per core; default 1): up to N batches of 4 MiB at once, "
                           "about half a GiB of memory more per batch; the output is the same bytes whatever N")
    comp.add_argument("--ray", nargs="?", const="", type=_ray_address, metavar="ADDRESS",
                      help="code on the Ray cluster at ADDRESS (HOST:PORT, or auto for the one 'ray start' made "
                           "here), one worker per CPU (per GPU where there are GPUs); with no ADDRESS (put "
                           "--ray after the files), on a local Ray instance; the output is the same bytes")
    comp.add_argument("--max-size", type=_byte_count, metavar="SIZE",
                      help="when decompressing or testing, fail (before decoding it) on data whose content "
                           "would exceed SIZE bytes; suffixes K, M, G, T for KiB, MiB, GiB, TiB")

    info = p.add_argument_group("messages")
    info.add_argument("-v", "--verbose", action="count", default=0,
                      help="report sizes, bits per byte and speed for each file")
    info.add_argument("-q", "--quiet", action="store_true", help="suppress warnings and progress")
    info.add_argument("-V", "--version", action="version", version=f"%(prog)s {neuralzip.__version__}")
    p.add_argument("files", nargs="*", metavar="FILE", help="files to process (- is standard input)")
    return p


def _byte_count(text: str) -> int:
    """"123", "64K", "1.5G", "100MiB" -> bytes (binary multiples)."""
    match = re.fullmatch(r"(\d+(?:\.\d*)?)([KMGT]?)(?:I?B)?", text.strip().upper())
    if not match:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: use a number of bytes, e.g. 1000000, "
                                         "512K, 100M or 2G")
    value = int(float(match[1]) * (1 << 10 * " KMGT".index(match[2] or " ")))
    if value >= 1 << 63:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: out of range")
    return value


def _ray_address(text: str) -> str:
    """"HOST:PORT", "ray://HOST:PORT", "auto" (or "", none given) as it is: anything else is more likely a file
    given after --ray."""
    if not re.fullmatch(r"|auto|(ray://)?[^\s:/]+:\d+", text):
        raise argparse.ArgumentTypeError(f"invalid Ray address {text!r}: use HOST:PORT or auto; for a local Ray "
                                         "instance give --ray with no address after the files")
    return text


def _thread_count(text: str) -> int:
    """"4" -> 4; "0" -> one per core this process may use."""
    try:
        return thread_count(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid thread count {text!r}: use 0 (one per core) or more") from None


def main(argv: list[str] | None = None) -> int:
    """nzip: the console-script entry point (the script calls sys.exit(main())). Returns the exit status.

    "nzip train ..." makes a model (neuralzip.train.command); a file named train is "nzip ./train".
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"]:
        from .train.command import main as train
        return train(argv[1:])
    return _main(argv, "nzip", "compress")


def main_unzip(argv: list[str] | None = None) -> int:
    """nunzip: nzip -d."""
    return _main(argv, "nunzip", "decompress")


def _main(argv: list[str] | None, prog: str, default_mode: str) -> int:
    parser = _parser(prog, default_mode)
    try:
        args = parser.parse_args(argv)
        if args.output is not None and len(args.files) > 1:
            parser.error("-o/--output takes a single input file")
    except SystemExit as e:       # --help, --version and usage errors: keep argparse's status, but return it
        return e.code if isinstance(e.code, int) else EXIT_ERROR if e.code else EXIT_OK
    files = args.files or ["-"]
    if args.output == "-":
        args.stdout, args.output = True, None
    ui = _UI(prog, args.quiet, args.verbose)
    try:
        problem = _check_setup(args, files)
        if problem:
            ui.error(problem)
            return EXIT_ERROR
        for name in files:
            _run_one(name, args, ui)
        if len(ui.listed) > 1:
            _list_totals(ui.listed)
        if ui.verbose and intops.kernel_report():      # which exact int8 product ran, and why not torch._int_mm
            ui.info("int8 products: " + "; ".join(intops.kernel_report()))
        return ui.status
    except KeyboardInterrupt:
        ui.error("interrupted")
        _leave_unfinished_batches(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (e.g. "| head"): nothing more to say, and nothing more to write
        _silence_stdout()
        return EXIT_ERROR
    finally:
        if getattr(args, "workers", None) is not None:
            args.workers.close()


def _leave_unfinished_batches(status: int) -> None:
    """Exit now if batches are still being coded on worker threads (-T): the interpreter would wait for them,
    minutes perhaps, for output that has already been removed."""
    if any(t.name == WORKER_NAME for t in threading.enumerate()):
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os._exit(status)


def _check_setup(args, files) -> str | None:
    """Why the whole run cannot start (a message), or None."""
    if args.mode == "compress" and not args.force and _writes_stdout(args, files) and _isatty(sys.stdout):
        return "stdout is a console, aborting; use -f to force"
    if args.mode != "compress" and not args.force and "-" in files and _isatty(sys.stdin):
        return "stdin is a console, aborting; use -f to force"
    # make a (de)compressor now so that a bad --model, --device or level fails once, before any file
    try:
        if args.mode == "compress":
            _compressor(args)
        elif args.mode in ("decompress", "test"):
            _decompressor(args)
        elif args.model is not None:
            zoo.load(args.model)
    except (ValueError, TypeError, neuralzip.NeuralZipError, OSError, ImportError) as e:
        return str(e)
    return None


def _writes_stdout(args, files) -> bool:
    return args.stdout or (args.output is None and "-" in files)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):     # no stream, or a closed one
        return False


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's final flush of stdout does not fail again."""
    with contextlib.suppress(Exception):     # best effort: a replaced stdout may have no descriptor
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def _compressor(args) -> neuralzip.NeuralZipCompressor:
    if args.ray is not None:
        from . import distributed
        return distributed.RayCompressor(args.level, model=args.model, workers=_workers(args))
    return neuralzip.NeuralZipCompressor(args.level, model=args.model, device=args.device, threads=args.threads)


def _decompressor(args, produced: int = 0) -> neuralzip.NeuralZipDecompressor:
    """A decompressor for the next stream, after produced bytes of earlier streams (--max-size counts all)."""
    limit = None if args.max_size is None else max(args.max_size - produced, 0)
    if args.ray is not None:
        from . import distributed
        return distributed.RayDecompressor(model=args.model, workers=_workers(args), max_size=limit)
    return neuralzip.NeuralZipDecompressor(model=args.model, device=args.device, max_size=limit,
                                           threads=args.threads)


def _workers(args):
    """The Ray workers of --ray, started with the first file and shared by all (closed by _main)."""
    if getattr(args, "workers", None) is None:
        from . import distributed
        args.workers = distributed.Workers(address=args.ray or None)
    return args.workers


# ----------------------------------------------------------------------------------------------------------
# messages

@dataclass
class _UI:
    prog: str
    quiet: bool
    verbose: int
    status: int = EXIT_OK
    progress: list = field(default_factory=list)   # the progress line being shown, if any
    listed: list = field(default_factory=list)     # rows printed by --list, for the totals

    def error(self, text: str) -> None:
        self.status = EXIT_ERROR
        self._say(text)

    def warning(self, text: str) -> None:
        if self.status == EXIT_OK:            # an error outranks a warning
            self.status = EXIT_WARNING
        if not self.quiet:
            self._say(text)

    def info(self, text: str) -> None:
        if not self.quiet:
            self._say(text)

    def _say(self, text: str) -> None:
        for p in self.progress:
            p.clear()
        with contextlib.suppress(ValueError, OSError):   # a closed stdout must not hide the message
            sys.stdout.flush()                # keep stdout and stderr in order on a shared terminal
        print(f"{self.prog}: {text}", file=sys.stderr, flush=True)


class _Progress:
    """A status line on stderr redrawn in place with \\r, for large inputs when stderr is a terminal."""

    def __init__(self, ui: _UI, name: str, total: int | None, enabled: bool):
        self.name, self.total = name, total
        self.enabled = enabled and (total is None or total > PROGRESS_MIN)
        self.start = self.last = time.monotonic()
        self.width = 0
        ui.progress[:] = [self]

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or done <= PROGRESS_MIN or now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        text = f"{self.name}: {_size(done)}"
        if self.total:
            text += f" / {_size(self.total)} ({100 * done // self.total}%)"
        text += f", {_speed(done, now - self.start)}"
        sys.stderr.write("\r" + text.ljust(self.width))
        sys.stderr.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError


def _speed(n: int, seconds: float) -> str:
    return f"{_size(n / max(seconds, 1e-6))}/s"


def _bits_per_byte(compressed: int, original: int) -> str:
    return f"{8 * compressed / original:.3f}" if original else "-"


# ----------------------------------------------------------------------------------------------------------
# one file

def _run_one(name: str, args, ui: _UI) -> None:
    """Process one input; errors and warnings are reported and recorded in ui.status, and the run goes on."""
    label = STDIN_NAME if name == "-" else name
    try:
        if args.mode == "list":
            _list_one(name, label, args, ui)
        elif args.mode == "test":
            _test_one(name, label, args, ui)
        else:
            _convert_one(name, label, args, ui)
    except Skip as e:
        ui.warning(str(e))
    except Failure as e:
        ui.error(str(e))
    except BrokenPipeError:
        raise
    except EOFError:
        ui.error(f"{label}: compressed data is truncated")
    except OSError as e:
        ui.error(f"{label}: {e.strerror or e}")
    except (neuralzip.NeuralZipError, ValueError) as e:
        ui.error(f"{label}: {e}")
    finally:
        for p in ui.progress:
            p.clear()
        ui.progress.clear()


def _convert_one(name: str, label: str, args, ui: _UI) -> None:
    """Compress or decompress one input to its output file or to stdout."""
    compressing = args.mode == "compress"
    to_stdout = _writes_stdout(args, [name])
    with _open_input(name, label, to_stdout or args.output is not None) as (src, st):
        target = None if to_stdout else args.output or _output_name(name, label, compressing, args.force)
        if target is not None:
            _check_target(target, st, args.force)
        elif st is not None:
            _check_stdout_is_not(st, label)
        progress = _Progress(ui, label, st.st_size if st and stat.S_ISREG(st.st_mode) else None,
                             _isatty(sys.stderr) and not ui.quiet and not (to_stdout and _isatty(sys.stdout)))
        started = time.monotonic()
        with _output(target, st, args.force) as dst:
            transform = _compress if compressing else _decompress
            n_in, n_out = transform(src.read, dst.write, args, progress)
        elapsed = time.monotonic() - started
    progress.clear()
    if ui.verbose:
        original, compressed = (n_in, n_out) if compressing else (n_out, n_in)
        ui.info(f"{label}: {n_in} -> {n_out} bytes ({_bits_per_byte(compressed, original)} bits/byte), "
                f"{_speed(original, elapsed)}")
    if args.remove and name != "-" and target is not None:
        try:
            os.unlink(name)
        except OSError as e:
            raise Failure(f"{label}: output written, but the input could not be removed: {e.strerror}") from None


def _test_one(name: str, label: str, args, ui: _UI) -> None:
    with _open_input(name, label, True) as (src, st):
        progress = _Progress(ui, label, st.st_size if st and stat.S_ISREG(st.st_mode) else None,
                             _isatty(sys.stderr) and not ui.quiet)
        started = time.monotonic()
        n_in, n_out = _decompress(src.read, lambda piece: None, args, progress)
        elapsed = time.monotonic() - started
    progress.clear()
    if ui.verbose:
        ui.info(f"{label}: OK, {n_in} -> {n_out} bytes ({_bits_per_byte(n_in, n_out)} bits/byte), "
                f"{_speed(n_out, elapsed)}")
    else:
        ui.info(f"{label}: OK")


@contextlib.contextmanager
def _open_input(name: str, label: str, any_file_type: bool):
    """(binary reader, stat or None for stdin). Directories are skipped; other non-regular files (FIFOs,
    devices) are read only when the output is not a file named after them."""
    if name == "-":
        yield getattr(sys.stdin, "buffer", sys.stdin), None
        return
    st = os.stat(name)
    if stat.S_ISDIR(st.st_mode):
        raise Skip(f"{label}: is a directory -- ignored")
    if not stat.S_ISREG(st.st_mode) and not any_file_type:
        raise Skip(f"{label}: is not a regular file -- ignored")
    with open(name, "rb") as f:
        yield f, os.fstat(f.fileno())


def _output_name(name: str, label: str, compressing: bool, force: bool) -> str:
    if compressing:
        if name.endswith(SUFFIX) and not force:
            raise Skip(f"{label}: already has {SUFFIX} suffix -- unchanged")
        return name + SUFFIX
    if not name.endswith(SUFFIX) or os.path.basename(name) == SUFFIX:
        raise Skip(f"{label}: unknown suffix -- ignored")
    return name[:-len(SUFFIX)]


def _check_target(target: str, st: os.stat_result | None, force: bool) -> None:
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as e:
        raise Failure(f"{target}: {e.strerror}") from None
    if existing is not None and st is not None and (existing.st_dev, existing.st_ino) == (st.st_dev, st.st_ino):
        raise Failure(f"{target}: input and output are the same file")
    if (existing is not None or os.path.islink(target)) and not force:
        raise Failure(f"{target} already exists; use -f to overwrite")


def _check_stdout_is_not(st: os.stat_result, label: str) -> None:
    """Refuse "nzip -c f >> f", which would read its own output forever."""
    try:
        out = os.fstat(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):   # a replaced or closed stdout has no descriptor to compare
        return
    if stat.S_ISREG(out.st_mode) and (out.st_dev, out.st_ino) == (st.st_dev, st.st_ino):
        raise Failure(f"{label}: input and output are the same file")


@contextlib.contextmanager
def _output(target: str | None, st: os.stat_result | None, force: bool):
    """A binary writer: stdout when target is None, else a temporary file beside target, renamed onto it
    when the block succeeds and removed when it does not."""
    if target is None:
        out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else sys.stdout
        sys.stdout.flush()      # anything written as text goes first
        yield out
        out.flush()
        return
    directory = os.path.dirname(target) or "."
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target)}.tmp")
    except OSError as e:
        raise Failure(f"{target}: cannot create: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())        # the data is on disk before the name points at it
        _copy_metadata(tmp, st)
        # checked before the work began; checked again in case the file appeared meanwhile
        if not force and os.path.lexists(target):
            raise Failure(f"{target} already exists; use -f to overwrite")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # make the rename durable too, before any --rm of the input
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _copy_metadata(path: str, st: os.stat_result | None) -> None:
    """Give the output the input's ownership (when allowed), permission bits and times, as gzip does; output
    from stdin gets the mode a new file would (mkstemp makes it 0600)."""
    if st is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(path, 0o666 & ~umask)
        return
    with contextlib.suppress(OSError, AttributeError):   # only root may give a file away; not on Windows
        os.chown(path, st.st_uid, st.st_gid)
    os.chmod(path, stat.S_IMODE(st.st_mode))   # after chown, which may clear set-id bits
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


# ----------------------------------------------------------------------------------------------------------
# the streaming loops

def _compress(read, write, args, progress: _Progress) -> tuple[int, int]:
    """Compress everything read() gives into one stream; returns (bytes in, bytes out)."""
    comp = _compressor(args)
    n_in = n_out = 0
    while piece := read(READ_SIZE):
        n_in += len(piece)
        out = comp.compress(piece)
        write(out)
        n_out += len(out)
        progress.update(n_in)
    out = comp.flush()
    write(out)
    return n_in, n_out + len(out)


def _decompress(read, write, args, progress: _Progress) -> tuple[int, int]:
    """Decompress the concatenated streams read() gives; returns (bytes in, bytes out)."""
    counts = [0, 0]

    def counted_read(n: int) -> bytes:
        data = read(n)
        counts[0] += len(data)
        progress.update(counts[0])
        return data

    for piece in _decompressed_pieces(counted_read, args):
        write(piece)
        counts[1] += len(piece)
    return counts[0], counts[1]


def _decompressed_pieces(read, args):
    """Yield the content of the concatenated streams that read() returns, at most OUT_SIZE bytes at a time.

    One decompressor per stream: its eof comes once all its output has been returned (as with lzma), and the
    next one starts with its unused_data. The input ending inside a stream raises EOFError; data after a
    stream that is not a stream raises NeuralZipError.
    """
    data = read(READ_SIZE)
    if not data:
        raise neuralzip.NeuralZipError("the input is empty, not neuralzip data")
    streams = produced = 0
    while data:
        dec = _decompressor(args, produced)
        try:
            while not dec.eof:
                if not data and dec.needs_input:
                    data = read(READ_SIZE)
                    if not data:
                        raise EOFError("compressed data is truncated")
                piece = dec.decompress(data, OUT_SIZE)
                data = b""
                produced += len(piece)
                if piece:
                    yield piece
        except neuralzip.NeuralZipError as e:
            if streams:
                plural = "s" if streams > 1 else ""
                raise neuralzip.NeuralZipError(f"after {streams} good stream{plural}: {e}") from None
            raise
        streams += 1
        data = dec.unused_data or read(READ_SIZE)


# ----------------------------------------------------------------------------------------------------------
# --list

def _list_one(name: str, label: str, args, ui: _UI) -> None:
    with _open_input(name, label, True) as (src, _):
        # reads the framing only, skipping payloads; a --model names the streams made with it
        streams = neuralzip.describe(src, model=args.model)
    if not streams:
        raise neuralzip.NeuralZipError("the input is empty, not neuralzip data")
    frames = {m: sum(s.frames.get(m, 0) for s in streams) for m in _FRAME_KINDS}
    row = _ListRow(label, len(streams), sum(s.compressed_size for s in streams),
                   sum(s.original_size for s in streams), _joined(s.model_name for s in streams),
                   _joined(str(s.chunk_size) for s in streams), frames)
    if not ui.listed:
        print(_LIST_HEADER)
    ui.listed.append(row)
    print(row.format())
    sys.stdout.flush()


@dataclass
class _ListRow:
    name: str
    streams: int
    compressed: int
    original: int
    model: str
    chunk: str
    frames: dict

    def format(self) -> str:
        ratio = f"{self.original / self.compressed:.3f}" if self.compressed else "-"
        frames = "/".join(str(self.frames[m]) for m in _FRAME_KINDS)
        return (f"{self.compressed:>12} {self.original:>12} {ratio:>7} "
                f"{_bits_per_byte(self.compressed, self.original):>9} {self.streams:>7} "
                f"{self.model:<16} {self.chunk:>6} {frames:>27}  {self.name}")


_FRAME_KINDS = ("stored", "zstd", "neural", "neural_run", "lzma")
_LIST_HEADER = (f"{'compressed':>12} {'original':>12} {'ratio':>7} {'bits/byte':>9} {'streams':>7} "
                f"{'model':<16} {'chunk':>6} {'stored/zstd/neural/run/lzma':>27}  name")


def _list_totals(rows: list[_ListRow]) -> None:
    frames = {m: sum(r.frames[m] for r in rows) for m in _FRAME_KINDS}
    total = _ListRow(f"(totals: {len(rows)} files)", sum(r.streams for r in rows),
                     sum(r.compressed for r in rows), sum(r.original for r in rows),
                     _joined(m for r in rows for m in r.model.split(",")),
                     _joined(c for r in rows for c in r.chunk.split(",")), frames)
    print(total.format())


def _joined(values) -> str:
    return ",".join(dict.fromkeys(values))   # distinct values, in order
