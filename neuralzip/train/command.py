"""``nzip train FILES... -o MODEL``: make a model for one's own kind of data (see neuralzip.train.fit).

The model file is written under a temporary name and renamed into place when complete; an existing file is not
replaced without -f. Streams compressed with it (``nzip --model MODEL``) carry its SHA-256, and decompressing
them needs the same file (``nunzip --model MODEL``); without it the error names the model.
Exit status: 0 success, 1 error (unreadable file, too little data, existing output), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import tempfile

from .. import zoo

PROG = "nzip train"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Train a model on FILES (logs, code, a language...) for nzip --model.",
        epilog="Example: nzip train logs/*.log -o logs.nzm && nzip --model logs.nzm big.log && "
               "nunzip --model logs.nzm big.log.nz")
    p.add_argument("files", nargs="+", metavar="FILE", help="files to learn from")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="model file to write (.nzm)")
    p.add_argument("--name", help="the model's name, recorded in every stream (default: from MODEL)")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--base", default=zoo.DEFAULT_MODEL, metavar="MODEL",
                       help=f"model to start from: embedded name or file (default {zoo.DEFAULT_MODEL})")
    start.add_argument("--scratch", action="store_true", help="start from a fresh network instead")
    p.add_argument("--hidden", type=int, default=384, help="width of a fresh network (with --scratch)")
    p.add_argument("--minutes", type=float, default=10.0, help="training time (default 10)")
    p.add_argument("--steps", type=int, help="train for this many steps instead of a time")
    p.add_argument("-f", "--force", action="store_true", help="overwrite an existing MODEL")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the result")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1 if e.code else 0
    if args.minutes <= 0 or (args.steps is not None and args.steps <= 0) or args.hidden <= 0:
        print(f"{PROG}: --minutes, --steps and --hidden must be positive", file=sys.stderr)
        return 2
    if os.path.lexists(args.output) and not args.force:
        print(f"{PROG}: {args.output} already exists; use -f to overwrite", file=sys.stderr)
        return 1
    try:
        from .fit import fit      # torch's training machinery only when training
    except ImportError as e:
        print(f"{PROG}: training needs torch ({e}): pip install 'neuralzip[torch]'", file=sys.stderr)
        return 1
    directory = os.path.dirname(args.output) or "."
    log = (lambda line: None) if args.quiet else (lambda line: print(f"{PROG}: {line}", file=sys.stderr, flush=True))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(args.output)}.tmp")
        os.close(fd)
        try:
            summary = fit(args.files, tmp, name=args.name or os.path.basename(args.output).removesuffix(".nzm"),
                          base=None if args.scratch else args.base, minutes=args.minutes, steps=args.steps,
                          hidden=args.hidden, log=log)
            os.replace(tmp, args.output)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as e:
        print(f"{PROG}: {getattr(e, 'strerror', None) and f'{e.filename}: {e.strerror}' or e}", file=sys.stderr)
        return 1
    with open(args.output, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    line = (f"{args.output}: model {summary['name']!r}, {os.path.getsize(args.output)} bytes, sha256 "
            f"{digest[:16]}..., {summary['steps']} steps on {summary['train_bytes']} bytes in "
            f"{summary['seconds']:.0f} s")
    if "held_out_bpb" in summary:
        line += (f"; held-out {summary['held_out_bytes']} bytes: {summary['held_out_bpb']:.3f} bits/byte "
                 f"(base model {summary['held_out_bpb_base']:.3f})")
    print(line)
    return 0
