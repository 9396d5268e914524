"""Archive a directory as a .tar.nz: tarfile writes the tar stream straight into a NeuralZipFile, and reads it back.

    python examples/compress_directory.py [DIRECTORY] [--level N]

With no DIRECTORY it makes a small one of text files. Writes DIRECTORY.tar.nz beside it (or into a temporary
folder), then lists the archive and checks every file against the original.
"""

import argparse
import os
import sys
import tarfile
import tempfile
from pathlib import Path

import neuralzip


def sample_directory() -> Path:
    root = Path(tempfile.mkdtemp()) / "notes"
    (root / "2026").mkdir(parents=True)
    for month in range(1, 13):
        (root / "2026" / f"{month:02d}.txt").write_text(
            "".join(f"2026-{month:02d}-{day:02d}: read {day * 7 % 31} pages, walked {day % 9} km\n"
                    for day in range(1, 29)))
    (root / "README.txt").write_text("A year of notes, one file a month.\n")
    return root


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("directory", nargs="?", type=Path)
    p.add_argument("--level", type=int, default=neuralzip.DEFAULT_LEVEL,
                   help=f"{neuralzip.MIN_LEVEL} (fastest) to {neuralzip.MAX_LEVEL} (smallest)")
    args = p.parse_args(argv)
    source = args.directory or sample_directory()
    target = source.with_name(source.name + ".tar.nz")
    # "w|": tarfile writes one stream front to back, which is all a compressed file offers
    with neuralzip.open(target, "wb", level=args.level) as out, tarfile.open(fileobj=out, mode="w|") as tar:
        tar.add(source, arcname=source.name)
    files = [f for f in source.rglob("*") if f.is_file()]
    original = sum(f.stat().st_size for f in files)
    print(f"{target}: {len(files)} files, {original} -> {os.path.getsize(target)} bytes")
    # read back: "r|" reads the stream in order, as it was written
    with neuralzip.open(target, "rb") as f, tarfile.open(fileobj=f, mode="r|") as tar:
        for member in tar:
            if member.isfile():
                data = tar.extractfile(member).read()
                assert data == (source.parent / member.name).read_bytes(), f"{member.name} differs"
    print("every file reads back the same")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
