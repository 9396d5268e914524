"""The compressors: neuralzip at each level, and the classical peers, each as a compress/decompress pair.

Every compressor is made by a factory that imports what it needs only then, so that a missing optional
module (brotli, pyppmd) or program (zpaq) makes that one peer unavailable (Unavailable, with a note) rather
than breaking the run. Names are stable: they key the results and the plots.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

MB256 = 256 << 20


class Unavailable(Exception):
    """This compressor cannot run here; the message says why (and how to get it)."""


@dataclass
class Codec:
    name: str                                   # e.g. "zstd-19", "neuralzip-6"
    family: str                                 # "neuralzip" or the peer's family, e.g. "zstd"
    params: str                                 # the exact settings, for the report
    version: str                                # of the library or program doing the work
    compress: Callable[[bytes], bytes]
    decompress: Callable[[bytes], bytes]
    setup: Callable[[], None] = field(default=lambda: None)  # one-time work not charged to the calls
    external: bool = False                      # the work happens in a child process (memory: RUSAGE_CHILDREN)
    model_bytes: int = 0                        # size of a model file the decoder needs as well as the stream
    model: str = ""                             # that model's name
    details: Callable[[bytes], dict] = field(default=lambda blob: {})  # extra figures about a stream


# ---------------------------------------------------------------------------------------------- neuralzip

def neuralzip_codec(level: int, device: str, threads: int = 1) -> Codec:
    """neuralzip at one level, through its public API (threads: its threads=, 0 for one per core)."""
    try:
        import neuralzip
        from neuralzip import zoo
    except ImportError as e:
        raise Unavailable(f"neuralzip cannot be imported: {e}") from None
    lv = zoo.level(level)
    if lv.model not in zoo.embedded_names():
        raise Unavailable(f"neuralzip's model {lv.model!r} is missing from {zoo.MODELS_DIR}")

    def setup():
        # load the model and run the network once, so the timed calls do not pay for loading the model file
        # or for CUDA's first-launch costs; the load is a one-time cost per process, not per byte
        blob = neuralzip.compress(b"warm-up " * 8, level, device=device, threads=threads)
        neuralzip.decompress(blob, device=device, threads=threads)

    return Codec(name=f"neuralzip-{level}", family="neuralzip",
                 params=f"level {level}: model {lv.model}, {lv.chunk_size}-byte chunks, device {device}, "
                        f"threads {threads or 'one per core'}",
                 version=neuralzip.__version__,
                 compress=lambda data: neuralzip.compress(data, level, device=device, threads=threads),
                 decompress=lambda blob: neuralzip.decompress(blob, device=device, threads=threads),
                 setup=setup, model_bytes=len(zoo.embedded_bytes(lv.model)), model=lv.model, details=_frame_counts)


def _frame_counts(blob: bytes) -> dict:
    """How many chunks went through the network, and how many fell back to zstd or were stored: a stream
    whose frames are not neural decompresses at zstd's speed, which explains such a row's rates."""
    import neuralzip
    counts: dict = {}
    for info in neuralzip.describe(blob):
        for method, n in info.frames.items():
            counts[f"frames_{method}"] = counts.get(f"frames_{method}", 0) + n
    return counts


# -------------------------------------------------------------------------------------- standard library

def gzip_codec() -> Codec:
    import gzip
    import zlib
    return Codec("gzip-9", "gzip", "gzip module, compresslevel 9, mtime 0 (gzip container)",
                 f"zlib {zlib.ZLIB_RUNTIME_VERSION}",
                 lambda data: gzip.compress(data, compresslevel=9, mtime=0), gzip.decompress)


def bzip2_codec() -> Codec:
    import bz2
    import platform
    return Codec("bzip2-9", "bzip2", "bz2 module, compresslevel 9", f"Python {platform.python_version()} bz2",
                 lambda data: bz2.compress(data, 9), bz2.decompress)


def xz_codec() -> Codec:
    import lzma
    import platform
    return Codec("xz-9e", "xz", "lzma module, xz container, preset 9 | PRESET_EXTREME",
                 f"Python {platform.python_version()} lzma",
                 lambda data: lzma.compress(data, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME),
                 lzma.decompress)


# --------------------------------------------------------------------------------------------- zstandard

def _zstandard():
    try:
        import zstandard
    except ImportError:
        raise Unavailable("zstd: the python module 'zstandard' is not installed (pip install zstandard)") from None
    return zstandard


def zstd_codec(level: int) -> Codec:
    zstd = _zstandard()
    version = f"zstandard {zstd.__version__} (libzstd {'.'.join(map(str, zstd.ZSTD_VERSION))})"
    return Codec(f"zstd-{level}", "zstd", f"zstandard, level {level}", version,
                 lambda data: zstd.ZstdCompressor(level=level).compress(data),
                 lambda blob: zstd.ZstdDecompressor().decompress(blob))


def zstd_long_codec() -> Codec:
    """zstd --ultra -22 --long: level 22 with long-distance matching and a 2^27 window (the CLI's --long)."""
    zstd = _zstandard()
    version = f"zstandard {zstd.__version__} (libzstd {'.'.join(map(str, zstd.ZSTD_VERSION))})"

    def compress(data):
        params = zstd.ZstdCompressionParameters.from_level(22, enable_ldm=True, window_log=27)
        return zstd.ZstdCompressor(compression_params=params).compress(data)

    # 2^27 is the decoder's default window limit, so the stream decodes without raising max_window_size
    return Codec("zstd-22-long", "zstd", "zstandard, level 22, enable_ldm, window_log 27", version,
                 compress, lambda blob: zstd.ZstdDecompressor().decompress(blob))


# ----------------------------------------------------------------------------------------------- brotli

def brotli_codec() -> Codec:
    try:
        import brotli
    except ImportError:
        raise Unavailable("brotli: the python module 'brotli' is not installed (pip install -e .[bench])") from None
    return Codec("brotli-11", "brotli", "brotli module, quality 11, lgwin 22 (the module's default)",
                 f"brotli {getattr(brotli, '__version__', '?')}",
                 lambda data: brotli.compress(data, quality=11), brotli.decompress)


# ------------------------------------------------------------------------------------------------- PPMd

def ppmd_codec(order: int) -> Codec:
    """PPMd variant H (7-Zip's Ppmd7) with 256 MB of model memory; the stream ends with an end mark."""
    try:
        import pyppmd
    except ImportError:
        raise Unavailable("ppmd: the python module 'pyppmd' is not installed (pip install -e .[bench])") from None

    def compress(data):
        enc = pyppmd.Ppmd7Encoder(order, MB256)
        # the end mark makes the stream self-delimiting (-1 below: decode to it), so no length is
        # passed beside the stream; it costs a few bytes
        return enc.encode(data) + enc.flush(endmark=True)

    def decompress(blob):
        return pyppmd.Ppmd7Decoder(order, MB256).decode(blob, -1)

    return Codec(f"ppmd-o{order}", "ppmd", f"pyppmd Ppmd7 (variant H), order {order}, 256 MB, end mark",
                 f"pyppmd {pyppmd.__version__}", compress, decompress)


# ------------------------------------------------------------------------------------------------- zpaq

def zpaq_version(exe: str) -> str:
    """The first line zpaq prints with no arguments, e.g. 'zpaq v7.15 journaling archiver, ...'."""
    out = subprocess.run([exe], capture_output=True, text=True).stdout
    first = out.strip().splitlines()[0] if out.strip() else "zpaq"
    return first.split(" journaling")[0]


def zpaq_codec() -> Codec:
    """zpaq -m5 as a program: the compressed size is the archive's size, so it includes zpaq's archive overhead.

    Each call works in a fresh temporary directory: zpaq appends to an existing archive (and would then store
    only the difference), so the archive must not exist beforehand. Writing the input and reading the archive
    back are inside the timed call; they are small next to zpaq -m5's own work.
    """
    exe = shutil.which("zpaq")
    if exe is None:
        raise Unavailable("zpaq: the program is not installed (Debian: apt-get install -y zpaq)")

    def run(args, cwd):
        subprocess.run([exe, *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def compress(data):
        with tempfile.TemporaryDirectory(prefix="bench-zpaq-") as tmp:
            Path(tmp, "f").write_bytes(data)
            run(["a", "a.zpaq", "f", "-m5"], tmp)
            return Path(tmp, "a.zpaq").read_bytes()

    def decompress(blob):
        with tempfile.TemporaryDirectory(prefix="bench-zpaq-") as tmp:
            Path(tmp, "a.zpaq").write_bytes(blob)
            os.mkdir(os.path.join(tmp, "out"))
            run(["x", "../a.zpaq"], os.path.join(tmp, "out"))
            return Path(tmp, "out", "f").read_bytes()

    return Codec("zpaq-m5", "zpaq", "zpaq a ARCHIVE FILE -m5; zpaq x ARCHIVE (size: the whole archive)",
                 zpaq_version(exe), compress, decompress, external=True)


# -------------------------------------------------------------------------------------------- registry

# name -> (factory, fast): fast peers are the ones --quick runs
PEERS: dict[str, tuple[Callable[[], Codec], bool]] = {
    "gzip-9": (gzip_codec, True),
    "bzip2-9": (bzip2_codec, True),
    "xz-9e": (xz_codec, True),
    "zstd-3": (lambda: zstd_codec(3), True),
    "zstd-19": (lambda: zstd_codec(19), True),
    "zstd-22-long": (zstd_long_codec, False),
    "brotli-11": (brotli_codec, True),
    "ppmd-o6": (lambda: ppmd_codec(6), True),
    "ppmd-o16": (lambda: ppmd_codec(16), False),
    "zpaq-m5": (zpaq_codec, False),
}

NEURALZIP_PREFIX = "neuralzip-"


def peer_names(quick: bool = False) -> list[str]:
    """All peers, or the fast ones for --quick."""
    return [name for name, (_, fast) in PEERS.items() if fast or not quick]


def make(name: str, device: str = "cpu", threads: int = 1) -> Codec:
    """The compressor called name ('neuralzip-N' or a key of PEERS); raises Unavailable or KeyError. device and
    threads are neuralzip's."""
    if name.startswith(NEURALZIP_PREFIX):
        return neuralzip_codec(int(name.removeprefix(NEURALZIP_PREFIX)), device, threads)
    factory, _ = PEERS[name]
    return factory()
