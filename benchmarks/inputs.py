"""Which inputs are measured: files under folders (recursively), given files, or the small --quick set."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
SKIP_SUFFIXES = {".md", ".tsv"}     # the corpus's README, REFERENCE and MANIFEST are not inputs

# the English texts of the corpus, as the issues name them
ENGLISH_TEXTS = ["canterbury/alice29.txt", "canterbury/asyoulik.txt", "canterbury/lcet10.txt",
                 "canterbury/plrabn12.txt", "calgary/book1", "calgary/book2", "calgary/news", "calgary/bib"] + \
                [f"calgary/paper{i}" for i in range(1, 7)]
QUICK_BYTES = 2048                  # each --quick input is this long: neuralzip spends ~0.3 ms per byte on one core
QUICK_FILES = 3
# prose, source code and a binary, when the corpus has them
QUICK_PREFERRED = ("canterbury/alice29.txt", "canterbury/fields.c", "canterbury/kennedy.xls")


@dataclass(frozen=True)
class Input:
    name: str               # how it is shown, e.g. "canterbury/alice29.txt" or "alice29.txt[:2048]"
    path: Path
    limit: int | None = None  # only the first `limit` bytes are measured

    def read(self) -> bytes:
        data = self.path.read_bytes()
        return data if self.limit is None else data[:self.limit]

    def sha256(self) -> str:
        return hashlib.sha256(self.read()).hexdigest()


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and p.suffix not in SKIP_SUFFIXES and not p.name.startswith("."))


def collect(paths: list[str | Path]) -> list[Input]:
    """The files named, and the files under the folders named (recursively, sorted), each once."""
    inputs, seen = [], set()
    for given in map(Path, paths):
        if given.is_dir():
            found = [(f, f.relative_to(given).as_posix()) for f in _files_under(given)]
        elif given.is_file():
            found = [(given, given.name)]
        else:
            raise FileNotFoundError(f"no such file or folder: {given}")
        for path, name in found:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                inputs.append(Input(name, path))
    _disambiguate(inputs)
    return inputs


def _disambiguate(inputs: list[Input]) -> None:
    """Two inputs shown under one name would mix their rows: show such ones by their full path instead."""
    names = [i.name for i in inputs]
    for k, item in enumerate(inputs):
        if names.count(item.name) > 1:
            inputs[k] = Input(str(item.path), item.path, item.limit)


def quick(paths: list[str | Path], scratch: Path) -> list[Input]:
    """A handful of QUICK_BYTES-long inputs: slices of the preferred corpus files, else of the first files
    found, else generated text written to scratch (when there is no corpus at all)."""
    candidates = collect(paths) if paths else []
    if not paths and DEFAULT_CORPUS.is_dir():
        candidates = collect([DEFAULT_CORPUS])
    preferred = [i for i in candidates if i.name in QUICK_PREFERRED]
    chosen = (preferred or candidates)[:QUICK_FILES]
    if not chosen:
        chosen = [Input("generated.txt", _generated_text(scratch / "generated.txt"))]
    return [Input(f"{i.name}[:{QUICK_BYTES}]", i.path, QUICK_BYTES) for i in chosen]


def _generated_text(path: Path, size: int = QUICK_BYTES) -> Path:
    """Deterministic English-like text, for when no corpus is present."""
    words = ("the of and to in is that it was for on with as by this be at from or which an are not but all "
             "compression model byte stream coder neural predict probability entropy arithmetic range").split()
    rng = random.Random(0)
    text, line = [], []
    while sum(map(len, text)) < size:
        line.append(rng.choice(words))
        if len(line) > 11 or rng.random() < 0.05:
            text.append(" ".join(line).capitalize() + ".\n")
            line = []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(text).encode()[:size])
    return path
