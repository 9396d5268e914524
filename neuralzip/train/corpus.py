"""Build a training corpus: documents from named folders, minus anything shared with the benchmark corpus.

A document that shares many long lines with a benchmark file is a copy of it and is dropped; a document that
shares a few (licence boilerplate, a famous quotation) loses just those lines. Documents are split into a
training and a development part by a hash of their path below its root, so the split depends neither on the order
of the walk nor on where the roots lie.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

LONG_LINE = 40          # bytes; shorter lines are too common to mean anything
COPY_THRESHOLD = 50     # shared long lines beyond which a document counts as a copy
SKIP_SUFFIXES = {".gz", ".xz", ".zip", ".png", ".jpg", ".pdf", ".pyc", ".so", ".bin"}


def _long_lines(data: bytes) -> set[bytes]:
    return {line.strip() for line in data.split(b"\n") if len(line.strip()) >= LONG_LINE}


def benchmark_lines(corpus_dir: Path) -> set[bytes]:
    lines: set[bytes] = set()
    for path in sorted(corpus_dir.rglob("*")):
        if path.is_file() and path.suffix not in {".md", ".tsv"}:
            lines |= _long_lines(path.read_bytes())
    return lines


def _documents(roots: list[Path]):
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix not in SKIP_SUFFIXES:
                yield root, path


def build(roots: list[Path], out_dir: Path, exclude_dir: Path | None, dev_fraction: float = 0.02,
          max_doc_bytes: int = 4 << 20) -> dict:
    """Write out_dir/train.bin, out_dir/dev.bin and out_dir/sources.json; return the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    banned = benchmark_lines(exclude_dir) if exclude_dir else set()
    seen: set[bytes] = set()
    summary = {"roots": [str(r) for r in roots], "excluded_against": str(exclude_dir),
               "documents": 0, "dropped_copies": [], "dropped_duplicates": 0, "lines_removed": 0,
               "train_bytes": 0, "dev_bytes": 0}
    with open(out_dir / "train.bin", "wb") as train, open(out_dir / "dev.bin", "wb") as dev:
        for root, path in _documents(roots):
            data = path.read_bytes()[:max_doc_bytes]
            digest = hashlib.sha256(data).digest()
            if not data or digest in seen:
                summary["dropped_duplicates"] += 1
                continue
            seen.add(digest)
            if banned:
                lines = data.split(b"\n")
                shared = [i for i, line in enumerate(lines) if len(line.strip()) >= LONG_LINE
                          and line.strip() in banned]
                if len(shared) >= COPY_THRESHOLD:
                    summary["dropped_copies"].append(str(path))
                    continue
                if shared:
                    drop = set(shared)
                    data = b"\n".join(line for i, line in enumerate(lines) if i not in drop)
                    summary["lines_removed"] += len(shared)
            # the path below its root, so that the split is the same wherever the roots lie
            name = path.relative_to(root).as_posix()
            bucket = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
            is_dev = bucket < dev_fraction * 2**32
            (dev if is_dev else train).write(data + b"\n\n")
            summary["dev_bytes" if is_dev else "train_bytes"] += len(data) + 2
            summary["documents"] += 1
    (out_dir / "sources.json").write_text(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("roots", nargs="+", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--exclude", type=Path, default=None, help="benchmark corpus whose text must not be trained on")
    a = p.parse_args()
    s = build(a.roots, a.out, a.exclude)
    print(json.dumps({k: (len(v) if isinstance(v, list) else v) for k, v in s.items()}))
