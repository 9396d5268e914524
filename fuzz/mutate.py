"""Random mutation fuzzing of valid streams, for as long as asked; needs nothing beyond neuralzip.

    python -m fuzz.mutate --seconds 600 [--seed N] [--crashes DIR]

Each case mutates one of a few seed streams (fuzz.mutations.mutate) and checks the rule of fuzz.mutations.check.
A case that breaks it is written to DIR (default fuzz/crashes) as NAME.nz with NAME.txt saying what happened;
keep such files as regression cases in tests/test_properties.py. Exit status 1 if any case broke the rule.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import random
import resource
import sys
import time

import neuralzip

from neuralzip.format import StreamHeader, reframe

from .mutations import RuleBroken, check, mutate

PROSE = (b"It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
         b"foolishness, it was the epoch of belief, it was the epoch of incredulity.\n")


def seeds() -> list[tuple[str, bytes | set[bytes], bytes]]:
    """(name, original content or the set of allowed contents, stream): small enough that a case decodes in
    milliseconds, varied in structure."""
    rng = random.Random(1)
    mixed = b"\x00" * 4096 + rng.randbytes(4096) + b"\x00" * 4096 + PROSE     # zstd, stored, zstd, neural frames
    cases = [("prose", PROSE), ("mixed", mixed), ("empty", b""), ("byte", b"x")]
    out = [(name, data, neuralzip.compress(data, 1)) for name, data in cases]
    # the same, framed as format version 2 (which readers still read): a header CRC, an end frame
    model = neuralzip.zoo.load(neuralzip.zoo.level(1).model)
    version_2 = StreamHeader(model.name, model.sha256[:8], 4096, version=2)
    out.append(("mixed-v2", mixed, reframe(out[1][2], version_2)))
    # cut at the boundary, the first stream alone is valid; an appended cut copy may end with a whole stream
    out.append(("two-streams", {PROSE, PROSE * 2, PROSE * 3},
                neuralzip.compress(PROSE, 1) + neuralzip.compress(PROSE, 6)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz.mutate", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="how long to run (default 60)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock; printed)")
    p.add_argument("--bound", type=float, default=30.0, help="seconds one case may take (default 30)")
    p.add_argument("--crashes", default=os.path.join(os.path.dirname(__file__), "crashes"))
    args = p.parse_args(argv)
    seed = args.seed if args.seed is not None else time.time_ns() % (1 << 32)
    rng = random.Random(seed)
    corpus = seeds()
    outcomes: collections.Counter = collections.Counter()
    failures = 0
    start = time.monotonic()
    print(f"seed {seed}; {len(corpus)} seed streams; {args.seconds:.0f} s", flush=True)
    while time.monotonic() - start < args.seconds:
        name, original, stream = rng.choice(corpus)
        blob = mutate(stream, rng)
        try:
            outcomes[check(original, blob, args.bound)] += 1
        except RuleBroken as e:
            failures += 1
            os.makedirs(args.crashes, exist_ok=True)
            base = os.path.join(args.crashes, hashlib.sha256(blob).hexdigest()[:16])
            with open(base + ".nz", "wb") as f:
                f.write(blob)
            with open(base + ".txt", "w") as f:
                f.write(f"seed stream {name}: {e}\n")
            print(f"FAILURE ({name}): {e} -> {base}.nz", flush=True)
    cases = sum(outcomes.values()) + failures
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{cases} cases in {time.monotonic() - start:.0f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) + f", rule broken {failures}; "
          f"peak RSS {peak:.0f} MiB")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
