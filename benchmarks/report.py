"""The console table, the totals per compressor, and the files: RESULTS.md, results.json, results.csv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .runner import MB

ESTIMATE_MARK = "≈"      # put before every energy figure that is an estimate, not a measurement


# ---------------------------------------------------------------------------------------------- numbers

def fmt(x: float | None, digits: int = 3) -> str:
    """x to `digits` significant figures, without scientific notation for the usual ranges; '–' for None."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:#.{digits}g}".rstrip(".")


def fmt_energy(x: float | None, estimated: bool) -> str:
    return (ESTIMATE_MARK if estimated and x is not None else "") + fmt(x)


# ---------------------------------------------------------------------------------------------- console

CONSOLE_COLUMNS = [("compressor", 14, "<"), ("file", 30, "<"), ("bytes", 10, ">"), ("compressed", 10, ">"),
                   ("bpb", 6, ">"), ("C MB/s", 8, ">"), ("D MB/s", 8, ">"), ("C CPU-s/MB", 10, ">"),
                   ("peak MB", 8, ">"), ("C J/MB", 8, ">"), ("check", 8, "<")]


def _line(cells: list[str]) -> str:
    return "  ".join(f"{c:{align}{width}}" for c, (_, width, align) in zip(cells, CONSOLE_COLUMNS)).rstrip()


def console_header() -> str:
    header = _line([name for name, _, _ in CONSOLE_COLUMNS])
    return header + "\n" + "-" * len(header)


def console_row(row: dict) -> str:
    """One (compressor, file) line; a failure shows its reason instead of figures."""
    if row["error"] and "original_bytes" not in row:
        return _line([row["compressor"], row["file"]] + [""] * 8 + ["FAILED"]) + "\n    " + \
            row["error"].strip().splitlines()[-1]
    return _line([row["compressor"], row["file"], f"{row['original_bytes']:,}", f"{row['compressed_bytes']:,}",
                  fmt(row["bpb"]), fmt(row["compress_mb_s"]), fmt(row["decompress_mb_s"]),
                  fmt(row["compress_cpu_s_per_mb"]), fmt(row["peak_rss_mb"]),
                  fmt_energy(row["compress_j_per_mb"], row["energy_estimated"]),
                  "ok" if row["verified"] else "MISMATCH"])


def console_totals(totals: list[dict]) -> str:
    lines = ["", "totals (all files)", console_header()]
    for t in totals:
        lines.append(_line([t["compressor"], f"{t['files']} files", f"{t['original_bytes']:,}",
                            f"{t['compressed_bytes']:,}", fmt(t["bpb"]), fmt(t["compress_mb_s"]),
                            fmt(t["decompress_mb_s"]), fmt(t["compress_cpu_s_per_mb"]), fmt(t["peak_rss_mb"]),
                            fmt_energy(t["compress_j_per_mb"], t["energy_estimated"]),
                            "ok" if t["all_verified"] else "FAILED"]))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- totals

def totals(rows: list[dict], codecs: list[str]) -> list[dict]:
    """Per compressor, over its verified rows: sums, and rates as total bytes over total time (not a mean of
    per-file rates, which would weigh a 1-byte file like a 4 MB one). The neuralzip model is counted once."""
    out = []
    for codec in codecs:
        mine = [r for r in rows if r["compressor"] == codec]
        good = [r for r in mine if r["verified"]]
        if not good:
            out.append({"compressor": codec, "files": 0, "original_bytes": 0, "compressed_bytes": 0,
                        "all_verified": False, **{k: None for k in _RATE_KEYS}, "energy_estimated": False})
            continue
        original = sum(r["original_bytes"] for r in good)
        compressed = sum(r["compressed_bytes"] for r in good)
        model_bytes = good[0]["model_bytes"]
        mb = original / MB

        def total(key):
            return sum(r[key] for r in good)

        out.append({
            "compressor": codec, "family": good[0]["family"], "files": len(good),
            "all_verified": len(good) == len(mine),
            "original_bytes": original, "compressed_bytes": compressed, "model_bytes": model_bytes,
            "bpb": 8 * compressed / original if original else None,
            "bpb_with_model": 8 * (compressed + model_bytes) / original if original else None,
            "compress_mb_s": mb / total("compress_s") if total("compress_s") else None,
            "decompress_mb_s": mb / total("decompress_s") if total("decompress_s") else None,
            "compress_cpu_s_per_mb": total("compress_cpu_s") / mb if mb else None,
            "decompress_cpu_s_per_mb": total("decompress_cpu_s") / mb if mb else None,
            "compress_j_per_mb": total("compress_j") / mb if mb else None,
            "decompress_j_per_mb": total("decompress_j") / mb if mb else None,
            "energy_estimated": any(r["energy_estimated"] for r in good),
            "energy_source": "/".join(sorted({r["energy_source"] for r in good})),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in good),
            "peak_rss_growth_mb": max(r["peak_rss_growth_mb"] for r in good),
        })
    return out


_RATE_KEYS = ["bpb", "bpb_with_model", "compress_mb_s", "decompress_mb_s", "compress_cpu_s_per_mb",
              "decompress_cpu_s_per_mb", "compress_j_per_mb", "decompress_j_per_mb", "peak_rss_mb",
              "peak_rss_growth_mb"]


# ------------------------------------------------------------------------------------------ JSON and CSV

def write_json(path: Path, run: dict) -> None:
    path.write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n")


def write_csv(path: Path, rows: list[dict]) -> None:
    """Every row with every key any row has (a failed row has few), in first-seen order."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


# -------------------------------------------------------------------------------------------- RESULTS.md

def _table(header: list[str], body: list[list[str]], right_from: int = 1) -> list[str]:
    """A Markdown table; columns from right_from on are right-aligned (numbers)."""
    header, body = _escape(header), [_escape(cells) for cells in body]
    align = [":---" if i < right_from else "---:" for i in range(len(header))]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"] + \
        ["| " + " | ".join(cells) + " |" for cells in body]


def _escape(cells: list[str]) -> list[str]:
    return [str(c).replace("|", "\\|") for c in cells]     # a bare | would end the cell


def _run_section(run: dict) -> list[str]:
    m, s = run["machine"], run["settings"]
    gpu = f" ({m['gpu']})" if m.get("gpu") else ""
    lines = ["## Run", "",
             f"- command: `{run['command']}`",
             f"- date: {m['date']}",
             f"- machine: {m['cpu']} ({', '.join(m.get('cpu_features') or ['flags unknown'])}), {m['cores']} cores "
             f"({m['cores_usable']} usable), "
             f"{m['memory_gib']} GiB memory; {m['os']}",
             f"- load average at start / end: {m['load_average_at_start']} / {run.get('load_average_at_end')} "
             "(other work on the machine slows every figure and shares RAPL's)",
             f"- neuralzip device: {m['device']}{gpu}; OMP_NUM_THREADS={m['omp_num_threads']}, "
             f"torch threads {m.get('torch_threads', '–')} (neuralzip's threads: its settings below)",
             f"- int8 products: {'; '.join(m.get('int8_kernels') or ['not recorded'])}",
             f"- versions: Python {m['python']}, torch {m['torch']}, neuralzip {run['neuralzip_version']} "
             f"(git {m['git']})",
             f"- timing: each call repeated until {s['min_time']} s had passed (at most {s['max_reps']} times); "
             "figures are the mean per call",
             f"- energy: {run['energy_note']}",
             f"- inputs: {len(run['inputs'])} files, {sum(i['bytes'] for i in run['inputs']):,} bytes"
             + (" (--quick: the first bytes of a few files)" if s["quick"] else ""), ""]
    lines += ["Compressors:", ""]
    lines += _table(["compressor", "version", "settings"],
                    [[name, c["version"], c["params"]] for name, c in run["codecs"].items()], right_from=3)
    if run["skipped"]:
        lines += ["", "Skipped (not available here):", ""]
        lines += [f"- {name}: {note}" for name, note in run["skipped"].items()]
    return lines + [""]


def _totals_section(run: dict) -> list[str]:
    est = any(t["energy_estimated"] for t in run["totals"])
    j = f"J/MB{' (' + ESTIMATE_MARK + ' estimate)' if est else ''}"
    header = ["compressor", "files", "bytes", "compressed", "bpb", "bpb incl. model", "compress MB/s",
              "decompress MB/s", "compress CPU-s/MB", "decompress CPU-s/MB", f"compress {j}", f"decompress {j}",
              "peak RSS MB (growth)", "round trips"]
    body = []
    for t in run["totals"]:
        if not t["files"]:
            body.append([t["compressor"], "0"] + ["–"] * 11 + ["FAILED"])
            continue
        body.append([t["compressor"], str(t["files"]), f"{t['original_bytes']:,}", f"{t['compressed_bytes']:,}",
                     fmt(t["bpb"], 4), fmt(t["bpb_with_model"], 4), fmt(t["compress_mb_s"]),
                     fmt(t["decompress_mb_s"]), fmt(t["compress_cpu_s_per_mb"]), fmt(t["decompress_cpu_s_per_mb"]),
                     fmt_energy(t["compress_j_per_mb"], t["energy_estimated"]),
                     fmt_energy(t["decompress_j_per_mb"], t["energy_estimated"]),
                     f"{fmt(t['peak_rss_mb'])} ({fmt(t['peak_rss_growth_mb'])})",
                     "all verified" if t["all_verified"] else "FAILED"])
    return ["## Totals per compressor", "",
            "Over all files: bits per byte = 8 × total compressed / total original; rates = total bytes / total "
            "time. *bpb incl. model* adds the neuralzip model file's size once to the compressed total "
            "(peers: the same as bpb; their code and tables are not counted).", ""] + _table(header, body) + [""]


def _per_file_sections(run: dict) -> list[str]:
    codecs = list(run["codecs"])
    by = {(r["file"], r["compressor"]): r for r in run["rows"]}
    files = [i["name"] for i in run["inputs"]]

    def cell(f, c, render):
        r = by.get((f, c))
        if r is None:
            return ""
        return render(r) if r["verified"] else "FAILED"

    bpb = [[f, f"{next(i['bytes'] for i in run['inputs'] if i['name'] == f):,}"] +
           [cell(f, c, lambda r: fmt(r["bpb"], 4)) for c in codecs] for f in files]
    speed = [[f] + [cell(f, c, lambda r: f"{fmt(r['compress_mb_s'])} / {fmt(r['decompress_mb_s'])}")
                    for c in codecs] for f in files]
    return (["## Bits per byte, per file", ""] + _table(["file", "bytes"] + codecs, bpb) + [""] +
            ["## Speed per file: compress / decompress MB/s (wall clock)", ""] +
            _table(["file"] + codecs, speed) + [""])


def _plots_section(plots: list[str], notes: list[str]) -> list[str]:
    lines = ["## Plots", ""]
    lines += [f"![{Path(p).stem}]({Path(p).name})" for p in plots]
    lines += [f"- {n}" for n in notes]
    return lines + [""]


METHOD = """## How the figures are measured

- **Bits per byte** (bpb) = 8 × compressed bytes / original bytes; MB = 10^6 bytes. zpaq's size is its whole
  archive (so it includes zpaq's archive overhead, which is large on small files); PPMd's stream ends with an
  end mark (a few bytes) so that it decodes without being told the length; gzip's is a gzip member (18 bytes
  of header and trailer).
- **Round trips**: every stream is decompressed and compared with the input byte for byte in the worker, and
  the SHA-256 of the output is checked again against the input as read by the parent. A mismatch fails the
  run (exit status 1).
- **Speed**: wall clock (time.perf_counter) of the compress call and of the decompress call, separately. A
  call shorter than the minimum time is repeated and the mean is taken. neuralzip's one-time setup (reading
  the model file and a warm-up call, which also pays CUDA's first-launch costs) is timed separately as
  `setup_s` in the raw data and is not in the rates. neuralzip falls back to zstd (or stores) a chunk that the
  network would make larger; the raw data counts each row's frames by method (`frames_neural`, `frames_zstd`,
  `frames_stored`), and a row without neural frames decompresses at zstd's speed.
- **CPU time**: getrusage user + system time of the worker process and of its children (zpaq runs as a
  child), per MB of original data. A multi-threaded compressor can use more CPU-seconds than wall seconds.
- **Peak memory**: each (compressor, file) pair is measured in a fresh worker process, and its ru_maxrss (the
  kernel's resident-set high-water mark, which cannot be reset within a process) is read at the end. For the
  in-process compressors this includes the Python interpreter and the imported modules (for neuralzip, torch);
  the *growth* in parentheses is the peak minus the high-water mark just before the compressor was set up,
  so it is the compressor's own memory (for neuralzip: the model and the network's working memory). For zpaq,
  which runs as a program, both are the peak of the zpaq process itself. The figure is the peak over compress
  and decompress together. tracemalloc is not used: it cannot see memory that C extensions allocate.
- **Energy**: see the run section above for the source. RAPL counters are whole-package energy over the
  interval, so work by other processes is included; NVML counts the whole GPU, idle power included. Where no
  counter is readable the figure is an estimate, CPU-seconds × a stated watts-per-core figure, and is marked
  with "≈" wherever it appears.
"""


def write_markdown(path: Path, run: dict, plots: list[str], plot_notes: list[str]) -> None:
    m = run["machine"]
    intro = [f"# Benchmark results{' (--quick)' if run['settings']['quick'] else ''}", "",
             f"neuralzip against classical compressors on the same files in one run, {m['date'][:10]}, "
             f"on {m['cpu']} × {m['cores']}. Raw figures: `results.json`, `results.csv`.", ""]
    if run["failures"]:
        intro += [f"**{run['failures']} (compressor, file) measurement(s) FAILED:**", ""]
        intro += [f"- {r['compressor']} on {r['file']}: {r['error'].strip().splitlines()[0]}"
                  for r in run["rows"] if r.get("error")] + [""]
    lines = (intro + _run_section(run) + _totals_section(run) + _per_file_sections(run) +
             _plots_section(plots, plot_notes) + [METHOD])
    path.write_text("\n".join(lines))
