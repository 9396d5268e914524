"""Train a model for one's own logs, then compress with it (what `nzip train` does, from Python).

    python examples/train_own_model.py [LOG...] [--minutes M | --steps N] [--scratch --hidden H]

With no LOG it makes up a few service logs. By default training starts from the embedded default model and runs
10 minutes; --scratch trains a new network of --hidden cells instead (small and fast, but it knows only these
files). The model file is written beside the first log (or into a temporary folder) as logs.nzm: a stream made
with it names it, and decompressing needs the same file.
"""

import argparse
import random
import sys
import tempfile
from pathlib import Path

import neuralzip
from neuralzip.train.fit import fit


def sample_logs(folder: Path, files: int = 3, lines: int = 800) -> list[Path]:
    rng = random.Random(7)
    paths = []
    for i in range(files):
        path = folder / f"service{i}.log"
        path.write_text("".join(
            f"2026-12-0{1 + i} {h // 3600:02d}:{h // 60 % 60:02d}:{h % 60:02d} worker={rng.randrange(8)} "
            f"GET /api/orders/{rng.randrange(10 ** 5)} status={rng.choice([200, 200, 200, 404, 500])} "
            f"ms={rng.randrange(900)}\n" for h in range(lines)))
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("logs", nargs="*", type=Path)
    p.add_argument("--minutes", type=float, default=10.0, help="training time (default 10)")
    p.add_argument("--steps", type=int, help="a number of training steps instead of a time")
    p.add_argument("--scratch", action="store_true", help="a new network instead of the default model's")
    p.add_argument("--hidden", type=int, default=64, help="cells of a new network (with --scratch)")
    args = p.parse_args(argv)
    logs = args.logs or sample_logs(Path(tempfile.mkdtemp()))
    model = logs[0].with_name("logs.nzm")
    start = {"base": None, "hidden": args.hidden} if args.scratch else {}     # else the default model's network
    summary = fit(logs, model, steps=args.steps, minutes=args.minutes, log=lambda line: None, **start)
    print(f"{model}: {summary['steps']} steps on {summary['train_bytes']} bytes; on the held-out twentieth, "
          f"{summary['held_out_bpb']:.3f} bits/byte against {summary['held_out_bpb_base']:.3f} with the default model")
    data = logs[0].read_bytes()
    blob = neuralzip.compress(data, model=model)
    assert neuralzip.describe(blob, model=model)[0].model_name == "logs"    # the stream's model is this one
    assert neuralzip.decompress(blob, model=model) == data
    print(f"{logs[0].name}: {len(data)} -> {len(blob)} bytes with logs.nzm")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
