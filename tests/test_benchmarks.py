"""The benchmark harness (benchmarks/, ``python -m benchmarks``), run in --quick mode in-process.

It needs the bench extra (pip install -e .[bench]); without it these tests are skipped, so the main suite
never depends on matplotlib, brotli or pyppmd.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("brotli")
pytest.importorskip("pyppmd")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))       # benchmarks/ sits in the repository; it is not part of the installed package

from benchmarks import cli, peers, plots, runner  # noqa: E402

PLOTS = ("bpb_per_file.png", "pareto.png", "three_compressions.png")


def run_main(argv: list[str]) -> tuple[int, str]:
    """cli.main(argv) with OMP_NUM_THREADS=1 for its workers; its exit status and what it printed."""
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout):
        mp.setenv("OMP_NUM_THREADS", "1")
        code = cli.main(argv)
    return code, stdout.getvalue()


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One --quick run (one neuralzip level, to keep the suite short), shared by the tests below."""
    out = tmp_path_factory.mktemp("bench-quick")
    code, printed = run_main(["--quick", "--levels", "1", "--out", str(out)])
    return code, printed, out, json.loads((out / "results.json").read_text())


def test_quick_run_succeeds_and_writes_every_output(quick):
    code, _, out, _ = quick
    assert code == 0
    for name in ("RESULTS.md", "results.json", "results.csv", *PLOTS):
        assert (out / name).stat().st_size > 0, name
    for name in PLOTS:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in (out / "RESULTS.md").read_text()


def test_quick_run_verifies_every_round_trip(quick):
    _, _, out, run = quick
    codecs = list(run["codecs"])
    assert "gzip-9" in codecs and "zstd-3" in codecs and "brotli-11" in codecs and "ppmd-o6" in codecs
    assert len(run["rows"]) == len(codecs) * len(run["inputs"]) > 0
    assert run["failures"] == 0
    for row in run["rows"]:
        assert row["verified"] and row["roundtrip_ok"], row
        assert row["bpb"] == pytest.approx(8 * row["compressed_bytes"] / row["original_bytes"])
        assert row["compress_mb_s"] > 0 and row["decompress_mb_s"] > 0 and row["peak_rss_mb"] > 0
    with (out / "results.csv").open() as f:
        csv_rows = list(csv.DictReader(f))
    assert len(csv_rows) == len(run["rows"]) and all(r["verified"] == "True" for r in csv_rows)
    assert all(t["all_verified"] for t in run["totals"])


def test_quick_run_prints_one_line_per_pair_then_totals(quick):
    _, printed, _, run = quick
    for row in run["rows"]:
        assert any(line.startswith(row["compressor"]) and row["file"] in line and line.endswith("ok")
                   for line in printed.splitlines())
    assert "totals (all files)" in printed


def test_quick_run_uses_small_inputs_and_only_fast_peers(quick):
    _, _, _, run = quick
    assert all(i["bytes"] <= 4096 for i in run["inputs"])
    assert not {"zpaq-m5", "ppmd-o16", "zstd-22-long"} & set(run["codecs"])


def test_estimated_energy_is_labelled(quick):
    _, _, out, run = quick
    text = (out / "RESULTS.md").read_text()
    if any(r["energy_estimated"] for r in run["rows"]):
        assert "ESTIMATE" in run["energy_note"] and "≈" in text and "estimate" in text


def test_neuralzip_model_counted_once(quick):
    _, _, _, run = quick
    for t in run["totals"]:
        expected = 8 * (t["compressed_bytes"] + t["model_bytes"]) / t["original_bytes"]
        assert t["bpb_with_model"] == pytest.approx(expected)
        assert (t["model_bytes"] > 0) == (t["family"] == "neuralzip")


def test_a_round_trip_mismatch_fails_the_run(tmp_path, monkeypatch):
    real = runner.measure_in_subprocess

    def corrupting(codec, item, settings):
        raw = real(codec, item, settings)
        raw["decompressed_sha256"] = "0" * 64      # as if the output had differed from the input
        return raw

    monkeypatch.setattr(runner, "measure_in_subprocess", corrupting)
    code, printed = run_main(["--quick", "--levels", "none", "--peers", "gzip-9", "--out", str(tmp_path)])
    assert code == 1
    assert "MISMATCH" in printed
    run = json.loads((tmp_path / "results.json").read_text())
    assert run["failures"] == len(run["rows"]) > 0
    assert "FAILED" in (tmp_path / "RESULTS.md").read_text()


def test_a_missing_peer_is_skipped_with_a_note(tmp_path, monkeypatch):
    def missing():
        raise peers.Unavailable("brotli: not installed (test)")

    monkeypatch.setitem(peers.PEERS, "brotli-11", (missing, True))
    code, printed = run_main(["--quick", "--levels", "none", "--peers", "gzip-9,brotli-11", "--out", str(tmp_path)])
    assert code == 0
    assert "skipping brotli-11" in printed
    run = json.loads((tmp_path / "results.json").read_text())
    assert list(run["codecs"]) == ["gzip-9"] and "brotli-11" in run["skipped"]


def test_unknown_peer_is_a_usage_error(tmp_path):
    code, _ = run_main(["--quick", "--peers", "nope", "--out", str(tmp_path)])
    assert code == 2


def test_pareto_frontier():
    # (speed, bpb): the slowest point is on the frontier only because it compresses best
    points = [(1.0, 2.0), (10.0, 3.0), (5.0, 3.5), (0.1, 1.5), (0.5, 2.5)]
    assert plots.pareto_frontier(points) == [3, 0, 1]


def test_energy_from_rapl_package_counters_with_wrap_around(tmp_path):
    from benchmarks.energy import EnergyMeter

    def domain(name, uj, max_uj=1_000_000_000):
        d = tmp_path / name
        d.mkdir()
        (d / "energy_uj").write_text(f"{uj}\n")
        (d / "max_energy_range_uj").write_text(f"{max_uj}\n")
        return d

    pkg0, pkg1 = domain("intel-rapl:0", 999_000_000), domain("intel-rapl:1", 5_000_000)
    domain("intel-rapl:0:0", 1)          # a sub-domain (cores): inside package 0's figure, not added again
    meter = EnergyMeter(10.0, powercap=str(tmp_path))
    before = meter.read()
    (pkg0 / "energy_uj").write_text("2000000\n")       # wrapped: 1 J to the top, then 2 J
    (pkg1 / "energy_uj").write_text("7500000\n")       # 2.5 J
    joules, source = meter.joules_since(before, cpu_seconds=100.0)
    assert source == "rapl" and joules == pytest.approx(5.5)


def test_energy_estimate_without_counters(tmp_path):
    from benchmarks.energy import EnergyMeter, is_estimate
    meter = EnergyMeter(12.5, powercap=str(tmp_path))  # an empty powercap folder: nothing readable
    joules, source = meter.joules_since(meter.read(), cpu_seconds=2.0)
    assert joules == pytest.approx(25.0) and is_estimate(source)


def test_gpu_run_refuses_without_cuda(tmp_path, capsys, monkeypatch):
    from benchmarks import gpu
    monkeypatch.setattr(gpu.torch.cuda, "is_available", lambda: False)
    (tmp_path / "t.txt").write_bytes(b"text")
    with pytest.raises(SystemExit) as e:
        gpu.main([str(tmp_path / "t.txt")])
    assert e.value.code == 2 and "no CUDA device" in capsys.readouterr().err


def test_the_device_check_dry_run_passes_on_the_cpu(tmp_path, capsys, monkeypatch):
    """python -m benchmarks.gpu --check without CUDA: every check, the CPU against itself, smallest inputs."""
    from benchmarks import gpu
    monkeypatch.setattr(gpu.torch.cuda, "is_available", lambda: False)
    assert gpu.main(["--check", "--quick", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("DRY RUN (no CUDA")
    assert [line.split(":")[0] for line in lines[1:-1]] == [
        "PASS 1 kernel", "PASS 2 primitives", "PASS 3 traces", "PASS 4 golden", "PASS 5 round trips", "PASS 6 speed"]
    assert lines[-1].startswith("VERDICT: PASS (6 passed, 0 failed")
    written = list(tmp_path.glob("check-*-dry-run.txt"))
    assert len(written) == 1 and written[0].read_text().splitlines() == lines


def test_a_failing_device_check_says_so(capsys, monkeypatch):
    from benchmarks import gpu
    checks = gpu.Checks()
    checks.run("x", lambda: (False, "differ"))
    checks.run("y", lambda: 1 / 0)
    checks.run("z", lambda: (None, "no GPU"))
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL x: differ") and out[1].startswith("FAIL y: ZeroDivisionError")
    assert out[2].startswith("SKIP z: no GPU") and checks.failed == 2 and checks.passed == 0


def test_ratio_prints_bits_per_byte_and_frames_per_file(tmp_path, capsys):
    from benchmarks import ratio
    text, table = tmp_path / "text.txt", tmp_path / "table.csv"
    text.write_bytes(b"It is a truth universally acknowledged, that a single man in possession of a good fortune.\n")
    table.write_bytes(b"".join(b"%d,row,%d\n" % (i, i % 7) for i in range(3000)))
    ratio.main(["1", str(text), str(table)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["text.txt", "table.csv"]
    assert all(line.split("\t")[2].startswith("xz-9e ") and line.split("\t")[3].startswith("-1 ") for line in lines)
    assert "'lzma': 1" in lines[1]          # a table of records: one LZMA frame for its span


def test_ratio_takes_models_a_head_and_zpaq(tmp_path, capsys):
    from benchmarks import ratio
    table = tmp_path / "table.csv"
    table.write_bytes(b"".join(b"%d,row-%d,%d\n" % (i, i % 13, i % 7) for i in range(3000)))
    ratio.main(["", str(table), "--models", "lstm64-v1", "--head", "2000"] + ["--zpaq"] * bool(shutil.which("zpaq")))
    cells = capsys.readouterr().out.strip().split("\t")
    assert cells[:2] == ["table.csv", "2000"] and cells[3].startswith("lstm64-v1 ")
    assert not shutil.which("zpaq") or cells[4].startswith("zpaq-m5 ")


def test_chunk_sizes_prints_each_size_and_reads_any(tmp_path, capsys):
    from benchmarks import chunk_sizes
    text = tmp_path / "text.txt"
    text.write_bytes(b"Shorter chunks run more streams in lockstep. " * 60)
    chunk_sizes.main(["1024,512", f"{text}:2000", "--level", "1", "--repeat", "1"])
    line = capsys.readouterr().out.strip()
    name, size, *cells = line.split("\t")
    assert name == "text.txt[:2000]" and size == "2000"
    assert [c.split(":")[0] for c in cells] == ["1024", "512"] and all("bpb" in c and "KB/s" in c for c in cells)
