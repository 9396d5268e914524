"""Mutation testing of the stream format, the library's API, the file objects and the command line.

    python -m fuzz.mutants [--files format.py api.py file.py cli.py] [--sample N] [--seed S] [--timeout SECONDS]

Each mutant is one small change to one module (a comparison turned round or moved by one, `and` for `or`, a `not`
dropped, `+` for `-`, a number moved by one, True for False, or a `raise`, an `if`, a call or an in-place update
deleted), made in a copy of the tree; the tests that cover the module (TESTS below) run against it, stopping at the
first failure. A mutant that no test notices survives: each is printed with its line, and a table gives the
figures per file. Exit status 0 whatever survives (this is a measure, not a gate).

Cost stays bounded: a mutant's tests run in a process forked from one that has already imported torch and the
modules no mutant touches (and compiled their loops), so a mutant killed by an early test costs a second or two;
--sample N takes N mutants per file (a deterministic choice, by --seed); --timeout ends a mutant's run, which then
counts as killed (a mutant that makes a loop endless is caught), as mutmut counts it.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the tests that cover each module, fastest first (a mutant's run stops at its first failure); those absent from
# the tree (a test file not written yet) are left out
TESTS = {
    "format.py": ["tests/test_format.py", "tests/test_properties.py", "tests/test_multi_batch.py"],
    "api.py": ["tests/test_multi_batch.py", "tests/test_api.py", "tests/test_file.py"],
    "file.py": ["tests/test_file.py", "tests/test_multi_batch.py"],
    "cli.py": ["tests/test_cli_safety.py", "tests/test_cli.py", "tests/test_multi_batch.py"],
}
# left out of every run, to keep a surviving mutant's run (on a shared two-core machine) under a minute: tests of
# the models' arithmetic (golden streams of ten models, the grouped 384-cell model's), Hypothesis round trips,
# tests in other processes (threads, Ctrl-C, pipes) and the slowest multi-batch tests, whose checks faster ones of
# the same file make too
DESELECTED = ("golden_stream or grouped or group or frozen or version_1 or one_frame_per_chunk or thread_count_gives"
              " or zstd_stays or crosses or counts_its_chunks or too_many or test_round_trip or any_pieces"
              " or random_edits or random_mutations or ctrl_c or pipe_round_trip or test_levels or nunzip_keeps"
              " or nunzip_threads or file_reader_reads or exactly_the_content or narrow_decoding or two_threads"
              " or zero_threads")
# modules that import a mutated one, and so are imported afresh by each mutant's run; every other neuralzip
# module (the model, the coders, their compiled loops) is imported once, before the fork
REIMPORTED = ("neuralzip", "neuralzip.api", "neuralzip.format", "neuralzip.file", "neuralzip.cli",
              "neuralzip.engine", "neuralzip.__main__")

_OPPOSITE = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
             ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BOUNDARY = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
_ARITHMETIC = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult,
               ast.LShift: ast.RShift, ast.RShift: ast.LShift, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}


@dataclass(frozen=True)
class Mutant:
    file: str
    index: int          # which node of the module, in ast.walk order
    kind: str           # what is changed, see _mutations
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what}"


def _inside_fstring(tree: ast.AST) -> set[int]:
    """ids of the nodes inside f-strings (their numbers are text, not logic)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.update(id(n) for n in ast.walk(node))
    return out


def _mutations(node: ast.AST) -> list[tuple[str, str]]:
    """(kind, description) of each mutation of one node."""
    out = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            name = type(op).__name__
            if type(op) in _OPPOSITE:
                out.append((f"opposite{i}", f"{name} -> {_OPPOSITE[type(op)].__name__}"))
            if type(op) in _BOUNDARY:
                out.append((f"boundary{i}", f"{name} -> {_BOUNDARY[type(op)].__name__}"))
    elif isinstance(node, ast.BoolOp):
        out.append(("boolop", f"{type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("drop_not", "not dropped"))
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _ARITHMETIC:
        out.append(("arithmetic", f"{type(node.op).__name__} -> {_ARITHMETIC[type(node.op)].__name__}"))
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        out.append(("flip_bool", f"{node.value} -> {not node.value}"))
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        out.append(("plus_one", f"{node.value} -> {node.value + 1}"))
    if isinstance(node, (ast.Raise, ast.If, ast.AugAssign)) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        out.append(("delete", f"{type(node).__name__} statement deleted"))
    return out


def enumerate_mutants(file: str, source: str) -> list[Mutant]:
    tree = ast.parse(source)
    skip = _inside_fstring(tree)
    mutants = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip or not hasattr(node, "lineno"):
            continue
        for kind, what in _mutations(node):
            mutants.append(Mutant(file, index, kind, node.lineno, what))
    return mutants


class _Apply(ast.NodeTransformer):
    def __init__(self, target: ast.AST, kind: str):
        self.target, self.kind = target, kind

    def visit(self, node):
        if node is not self.target:
            return self.generic_visit(node)
        kind = self.kind
        if kind.startswith(("opposite", "boundary")):
            i = int(kind.removeprefix("opposite").removeprefix("boundary"))
            table = _OPPOSITE if kind.startswith("opposite") else _BOUNDARY
            node.ops[i] = table[type(node.ops[i])]()
        elif kind == "boolop":
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif kind == "drop_not":
            return node.operand
        elif kind == "arithmetic":
            node.op = _ARITHMETIC[type(node.op)]()
        elif kind == "flip_bool":
            node.value = not node.value
        elif kind == "plus_one":
            node.value += 1
        elif kind == "delete":
            return ast.copy_location(ast.Pass(), node)
        return node


def mutated_source(source: str, mutant: Mutant) -> str:
    tree = ast.parse(source)
    target = list(ast.walk(tree))[mutant.index]
    tree = ast.fix_missing_locations(_Apply(target, mutant.kind).visit(copy.copy(tree)))
    return ast.unparse(tree) + "\n"


def _copy_tree(dest: Path) -> None:
    """The tracked files (and untracked, not ignored ones) of the tree, the models linked rather than copied."""
    if (ROOT / ".git").exists():
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                               check=True, capture_output=True).stdout.decode().split("\0")
    else:                           # an exported tree (git archive), e.g. of an older commit to compare with
        files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if ".venv" not in p.parts]
    for name in filter(None, files):
        src = ROOT / name
        if not src.is_file() or name.startswith("neuralzip/models/"):
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / name)
    (dest / "neuralzip" / "models").symlink_to(ROOT / "neuralzip" / "models")


def _warm_up(tree: Path) -> None:
    """Import, before any fork, what no mutant changes, and compile the loops once (each run inherits them)."""
    sys.path.insert(0, str(tree))
    import pytest  # noqa: F401
    import hypothesis  # noqa: F401
    import neuralzip
    for level in (1, 2, 6):
        blob = neuralzip.compress(b"warm up the compiled loops " * 40, level)
        assert neuralzip.decompress(blob) == b"warm up the compiled loops " * 40
    for name in list(sys.modules):
        if name in REIMPORTED or name.startswith("neuralzip.train"):
            del sys.modules[name]


def _run_tests(tree: Path, tests: list[str], timeout: float, log: str = os.devnull) -> str:
    """'killed', 'survived' or 'timeout': the tests against the tree as it is now, in a forked process (its
    output to log)."""
    pid = os.fork()
    if pid == 0:                                        # the child: run pytest quietly, exit with its status
        try:
            os.chdir(tree)
            devnull = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest
            code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-k", f"not ({DESELECTED})",
                                *tests])
        except BaseException:
            code = 3
        os._exit(int(code))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "timeout"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz.mutants", description=__doc__.split("\n\n")[0])
    p.add_argument("--files", nargs="+", default=list(TESTS), choices=list(TESTS),
                   help="modules of neuralzip to mutate (default: all four)")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="mutants per file, a deterministic choice by --seed (default: all)")
    p.add_argument("--seed", type=int, default=22, help="seed of the sample (default 22)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds a mutant's tests may run, at least twice what they take unmutated; past it the "
                        "mutant counts as killed (default 60)")
    p.add_argument("--list", action="store_true", help="list the mutants (of the sample) and run nothing")
    args = p.parse_args(argv)
    chosen = {}
    for file in args.files:
        mutants = enumerate_mutants(file, (ROOT / "neuralzip" / file).read_text())
        if args.sample is not None and args.sample < len(mutants):
            mutants = sorted(random.Random(f"{args.seed}:{file}").sample(mutants, args.sample),
                             key=lambda m: m.index)
        chosen[file] = (mutants, len(enumerate_mutants(file, (ROOT / "neuralzip" / file).read_text())))
    if args.list:
        for mutants, _ in chosen.values():
            print("\n".join(map(str, mutants)))
        return 0
    results = {}
    with tempfile.TemporaryDirectory(prefix="neuralzip-mutants-") as scratch:
        tree = Path(scratch)
        _copy_tree(tree)
        _warm_up(tree)
        started = time.monotonic()
        for file, (mutants, total) in chosen.items():
            tests = [t for t in TESTS[file] if (tree / t).is_file()]
            path = tree / "neuralzip" / file
            original = path.read_text()
            counts = {"killed": 0, "timeout": 0, "survived": 0}
            clean = time.monotonic()
            log = tree / "unmutated.log"
            outcome = _run_tests(tree, tests, 10 * args.timeout, str(log))
            if outcome != "survived":
                print(f"{file}: the tests {'fail' if outcome == 'killed' else 'time out'} without a mutant; fix "
                      f"them first:\n{log.read_text()[-3000:]}", file=sys.stderr)
                return 1
            clean = time.monotonic() - clean
            timeout = max(args.timeout, 2 * clean + 10)     # a surviving mutant's run must not be cut short
            print(f"  the tests pass unmutated in {clean:.0f} s; a mutant's run is stopped after {timeout:.0f} s",
                  flush=True)
            print(f"{file}: {len(mutants)} of {total} mutants; tests {' '.join(tests)}", flush=True)
            try:
                for mutant in mutants:
                    path.write_text(mutated_source(original, mutant))
                    outcome = _run_tests(tree, tests, timeout)
                    counts[outcome] += 1
                    if outcome == "survived":
                        print(f"  survived  {mutant}", flush=True)
            finally:
                path.write_text(original)
            results[file] = (counts, len(mutants), total)
        elapsed = time.monotonic() - started
    print(f"\n{'file':<10} {'mutants':>8} {'of':>6} {'killed':>7} {'timeout':>8} {'survived':>9}")
    for file, (counts, run, total) in results.items():
        print(f"{file:<10} {run:>8} {total:>6} {counts['killed']:>7} {counts['timeout']:>8} "
              f"{counts['survived']:>9}")
    print(f"({elapsed:.0f} s; seed {args.seed}, sample {args.sample or 'all'}, timeout {args.timeout:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
