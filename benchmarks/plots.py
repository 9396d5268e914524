"""PNG figures of a run (matplotlib, Agg backend, so that no display is needed).

- bpb_per_file.png: bits per byte of every file, bars grouped by compressor
- pareto.png: total bits per byte against speed, compress and decompress panels, with the Pareto frontier
- three_compressions.png: information (bpb, and bpb with neuralzip's model counted once), time (MB/s and
  CPU-s/MB), energy (J/MB, hatched and labelled where estimated)
"""

from __future__ import annotations

import math
from pathlib import Path

NEURALZIP_COLOUR = "tab:red"
PEER_COLOUR = "tab:blue"
BPB_CLIP = 10.0     # bits per byte above which bars are cut off in bpb_per_file.png


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _colour(total: dict) -> str:
    return NEURALZIP_COLOUR if total.get("family") == "neuralzip" else PEER_COLOUR


def _complete(totals: list[dict]) -> list[dict]:
    """The compressors with figures to draw (none when every file failed, or all were empty)."""
    return [t for t in totals if t["files"] and t["bpb"] is not None]


def bpb_per_file(path: Path, rows: list[dict], codecs: list[str], files: list[str]) -> None:
    plt = _pyplot()
    by = {(r["file"], r["compressor"]): r for r in rows if r["verified"] and r["bpb"] is not None}
    n_files = len(files)
    width = 0.8 / max(n_files, 1)
    cmap = plt.get_cmap("tab20" if n_files <= 20 else "turbo", max(n_files, 1))
    size = (min(max(8, 1.5 + 0.09 * len(codecs) * n_files), 30), 5.5 if n_files < 20 else 7)
    fig, ax = plt.subplots(figsize=size)
    for k, f in enumerate(files):
        xs = [i + (k - (n_files - 1) / 2) * width for i, c in enumerate(codecs) if (f, c) in by]
        ys = [by[(f, c)]["bpb"] for c in codecs if (f, c) in by]
        ax.bar(xs, ys, width=width, color=cmap(k), label=f)
        for x, y in zip(xs, ys):
            if y > BPB_CLIP:
                ax.text(x, BPB_CLIP, f"{y:.0f}", rotation=90, ha="center", va="top", fontsize=6)
    # a tiny file (the 1-byte a.txt) costs tens or hundreds of bits per byte in headers; clip those bars,
    # labelled with their value, so that they do not flatten every other bar
    ax.set_ylim(0, min(BPB_CLIP, 1.05 * max((r["bpb"] for r in by.values()), default=1)))
    ax.set_xticks(range(len(codecs)), codecs, rotation=30, ha="right")
    ax.set_ylabel("bits per byte (lower is better)")
    ax.set_title("Bits per byte per file, grouped by compressor")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(fontsize="small", ncol=max(1, n_files // 12), bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def pareto_frontier(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the (speed, bpb) points that no other point beats on both (faster and smaller), by speed.

    >>> pareto_frontier([(1, 2.0), (10, 3.0), (5, 3.5), (0.1, 1.5)])
    [3, 0, 1]
    """
    order = sorted(range(len(points)), key=lambda i: (-points[i][0], points[i][1]))
    frontier, best = [], float("inf")
    for i in order:             # fastest first: a point is on the frontier if it beats every faster one
        if points[i][1] < best:
            frontier.append(i)
            best = points[i][1]
    return sorted(frontier, key=lambda i: points[i][0])


def _labels(points: list[tuple[float, float]], names: list[str]) -> dict:
    """One label per place: compressors that (nearly) coincide (levels that act alike on small files) share
    one, 'neuralzip-1, neuralzip-6', instead of overprinting each other."""
    groups: list[tuple[tuple[float, float], list[str]]] = []
    for (x, y), name in zip(points, names):
        for (gx, gy), members in groups:
            # near enough to overprint on the log-speed axis: within ~10% of speed and 0.02 bpb
            if abs(math.log10(x / gx)) < 0.04 and abs(y - gy) < 0.02:
                members.append(name)
                break
        else:
            groups.append(((x, y), [name]))
    return {p: ", ".join(members) for p, members in groups}


def pareto(path: Path, totals: list[dict]) -> None:
    plt = _pyplot()
    totals = [t for t in _complete(totals) if t["compress_mb_s"] and t["decompress_mb_s"]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=True)
    for ax, key, what in zip(axes, ("compress_mb_s", "decompress_mb_s"), ("compress", "decompress")):
        points = [(t[key], t["bpb"]) for t in totals]
        ax.scatter([p[0] for p in points], [p[1] for p in points], c=[_colour(t) for t in totals], zorder=3)
        for (x, y), label in _labels(points, [t["compressor"] for t in totals]).items():
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        front = pareto_frontier(points)
        ax.step([points[i][0] for i in front], [points[i][1] for i in front], where="pre",
                color="grey", linestyle="--", label="Pareto frontier", zorder=2)
        ax.set_xscale("log")
        ax.set_xlabel(f"{what} speed, MB/s (log scale; right is faster)")
        ax.set_title(f"Ratio against {what} speed")
        ax.grid(alpha=0.3, which="both")
        ax.set_axisbelow(True)
        ax.legend(loc="best", fontsize="small")
    axes[0].set_ylabel("bits per byte over all files (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _paired_bars(ax, totals, keys, labels, hatch_where=lambda t: False):
    """Two bars per compressor (compress, decompress), log scale, hatched where hatch_where(total)."""
    names = [t["compressor"] for t in totals]
    for k, (key, label, alpha) in enumerate(zip(keys, labels, (1.0, 0.5))):
        xs = [i + (k - 0.5) * 0.4 for i in range(len(totals))]
        bars = ax.bar(xs, [t[key] or 0 for t in totals], width=0.4, alpha=alpha, label=label,
                      color=[_colour(t) for t in totals])
        for bar, t in zip(bars, totals):
            if hatch_where(t):
                bar.set_hatch("//")
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.set_axisbelow(True)
    ax.legend(fontsize="small")


def three_compressions(path: Path, totals: list[dict], watts_per_core: float) -> None:
    plt = _pyplot()
    totals = _complete(totals)
    names = [t["compressor"] for t in totals]
    fig, axes = plt.subplots(1, 4, figsize=(20, 5.5))

    # information: bpb, and for neuralzip a hatched bar with the model file counted once over the run's input
    ax = axes[0]
    ax.bar(range(len(totals)), [t["bpb"] for t in totals], color=[_colour(t) for t in totals], label="bpb")
    with_model = [(i, t["bpb_with_model"]) for i, t in enumerate(totals) if t.get("model_bytes")]
    if with_model:
        ax.bar([i + 0.25 for i, _ in with_model], [v for _, v in with_model], width=0.4, fill=False,
               hatch="//", edgecolor=NEURALZIP_COLOUR, label="bpb incl. model file, counted once")
        if max(v for _, v in with_model) > 4 * max(t["bpb"] for t in totals):
            ax.set_yscale("log")    # on a small input the model dwarfs the streams
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("bits per byte (lower is better)")
    ax.set_title("Information: bits per byte")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.set_axisbelow(True)
    ax.legend(fontsize="small")

    _paired_bars(axes[1], totals, ("compress_mb_s", "decompress_mb_s"), ("compress", "decompress"))
    axes[1].set_ylabel("MB/s, wall clock (higher is better)")
    axes[1].set_title("Time: speed")

    _paired_bars(axes[2], totals, ("compress_cpu_s_per_mb", "decompress_cpu_s_per_mb"), ("compress", "decompress"))
    axes[2].set_ylabel("CPU-seconds per MB (lower is better)")
    axes[2].set_title("Time: CPU-seconds per MB")

    estimated = any(t["energy_estimated"] for t in totals)
    _paired_bars(axes[3], totals, ("compress_j_per_mb", "decompress_j_per_mb"), ("compress", "decompress"),
                 hatch_where=lambda t: t["energy_estimated"])
    axes[3].set_ylabel("joules per MB (lower is better)" + (" — ESTIMATE" if estimated else ""))
    axes[3].set_title("Energy: J/MB" + (f"\nhatched = ESTIMATE (CPU-s × {watts_per_core:g} W/core)"
                                        if estimated else " (measured)"))

    fig.suptitle("Three compressions: information, time, energy (red: neuralzip, blue: peers)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_all(out: Path, run: dict) -> tuple[list[str], list[str]]:
    """Write every figure into out; the paths written, and notes (why a figure is missing)."""
    try:
        _pyplot()
    except ImportError:
        return [], ["no plots: matplotlib is not installed (pip install -e .[bench])"]
    codecs = list(run["codecs"])
    files = [i["name"] for i in run["inputs"]]
    written = []
    for name, draw in (("bpb_per_file.png", lambda p: bpb_per_file(p, run["rows"], codecs, files)),
                       ("pareto.png", lambda p: pareto(p, run["totals"])),
                       ("three_compressions.png",
                        lambda p: three_compressions(p, run["totals"], run["settings"]["watts_per_core"]))):
        draw(out / name)
        written.append(str(out / name))
    return written, []
