"""Training end to end at toy size: corpus, float training, quantization in the loop, export, use; nzip train."""

import random

import numpy as np
import pytest

import neuralzip
from neuralzip import cli, zoo
from neuralzip.model import ModelConfig
from neuralzip.train import corpus, export, fit, floatmodel, trainer


@pytest.fixture(scope="module")
def toy_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    rng = random.Random(0)
    words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex jovial boxers".split()
    for i in range(40):
        (root / f"doc{i}.txt").write_text(" ".join(rng.choice(words) for _ in range(1500)) + "\n")
    bench = tmp_path_factory.mktemp("bench")
    (bench / "held.txt").write_text("a line that must never be trained on, however long it is\n")
    (root / "leak.txt").write_text("a line that must never be trained on, however long it is\nother text\n")
    out = tmp_path_factory.mktemp("corpus")
    summary = corpus.build([root], out, bench, dev_fraction=0.3)
    return out, summary


def test_corpus_strips_benchmark_lines(toy_corpus):
    out, summary = toy_corpus
    assert summary["lines_removed"] == 1
    text = (out / "train.bin").read_bytes() + (out / "dev.bin").read_bytes()
    assert b"must never be trained on" not in text and b"other text" in text
    assert summary["train_bytes"] > 0 and summary["dev_bytes"] > 0


def test_corpus_split_does_not_depend_on_where_the_files_lie(tmp_path):
    for place in ("a", "b/deeper"):
        root = tmp_path / place / "docs"
        root.mkdir(parents=True)
        for i in range(30):
            (root / f"doc{i}.txt").write_text(f"document {i}\n" * 50)
        corpus.build([root], tmp_path / place / "out", None, dev_fraction=0.3)
    for split in ("train.bin", "dev.bin"):
        assert (tmp_path / "a/out" / split).read_bytes() == (tmp_path / "b/deeper/out" / split).read_bytes()
    assert (tmp_path / "a/out/dev.bin").stat().st_size > 0


def test_train_export_and_compress_with_the_model(toy_corpus, tmp_path):
    out, _ = toy_corpus
    ckpt = tmp_path / "toy.pt"
    config = ModelConfig(hidden=16)
    result = trainer.train(out / "train.bin", out / "dev.bin", ckpt, config, steps=4, batch=2, seq=16, chunk=64,
                           eval_every=4, eval_bytes=4096)
    assert result["steps"] == 4 and result["history"][-1]["dev_bpb"] < 9
    tuned = trainer.train(out / "train.bin", out / "dev.bin", tmp_path / "qat.pt", config, steps=2, batch=2,
                          seq=8, chunk=32, quantized=True, init=ckpt, eval_every=2, eval_bytes=1024)
    assert tuned["steps"] == 2
    model = tmp_path / "toy.nzm"
    export.export(tmp_path / "qat.pt", model, "toy")
    data = b"the lazy dog jumps over the quick brown fox " * 20
    blob = neuralzip.compress(data, model=model)
    assert neuralzip.decompress(blob, model=model) == data
    assert neuralzip.describe(blob, model=model)[0].model_name == "toy"


@pytest.mark.parametrize("arch", ["stacked-lstm", "transformer"])
def test_rival_architectures_train_but_do_not_export(toy_corpus, tmp_path, arch):
    out, _ = toy_corpus
    ckpt = tmp_path / f"{arch}.pt"
    result = trainer.train(out / "train.bin", out / "dev.bin", ckpt, ModelConfig(hidden=16), steps=4, batch=2,
                           seq=16, chunk=64, eval_every=4, eval_bytes=4096, arch=arch, layers=2, heads=2, width=16)
    assert result["steps"] == 4 and 0 < result["history"][-1]["dev_bpb"] < 9
    with pytest.raises(ValueError, match=f"{arch}: only the one-layer LSTM"):
        export.export(ckpt, tmp_path / "x.nzm", "x")


def test_a_transformers_windows_score_each_byte_once_from_at_least_half_a_context():
    import math

    import numpy as np
    import torch
    import torch.nn.functional as F
    from neuralzip.train.alternatives import FloatTransformer, TransformerConfig, evaluate_windows
    torch.manual_seed(0)
    c, length = 16, 64
    model = FloatTransformer(TransformerConfig(context=c, layers=2, heads=2, width=16))
    data = np.random.default_rng(0).integers(0, 256, length + 1).astype(np.uint8)
    x = torch.from_numpy(data.astype(np.int64))
    bits = 0.0
    with torch.no_grad():
        for p in range(1, length + 1):          # byte p from the bytes before it, back to its window's start
            start = 0 if p <= c else -(-(p - c) // (c // 2)) * (c // 2)
            bits += F.cross_entropy(model(x[None, start:p])[0][0, -1], x[p]).item() / math.log(2)
    assert evaluate_windows(model, data, length) == pytest.approx(bits / length, rel=1e-5)


def test_subword_tokens_merge_left_to_right_and_decode_to_every_byte():
    import numpy as np
    from neuralzip.train import subword
    assert subword._merge(np.array([7, 1, 1, 1, 1, 1, 2]), 1, 1, 9).tolist() == [7, 9, 9, 1, 2]
    text = b"the cat sat on the mat; the hat, the bat. " * 40
    merges = subword.learn_merges(text, 24)
    assert merges[0] == (ord("a"), ord("t"))                   # cat, sat, mat, hat, bat: the most frequent pair
    tokens = subword.encode(text, merges)
    assert len(tokens) < len(text) / 3 and subword.decode(tokens, merges) == text
    anything = bytes(range(256)) * 2                          # byte fallback: tokens for bytes never seen
    assert subword.decode(subword.encode(anything, merges), merges) == anything


def test_subword_comparison_trains_on_tokens(toy_corpus, tmp_path):
    from neuralzip.train import subword
    out, _ = toy_corpus
    r = subword.compare(out / "train.bin", out / "dev.bin", tmp_path / "sw.pt", merges=16, steps=2, hidden=16,
                        dev_bytes=2048, batch=2, chunk=64, eval_every=2)
    assert r["bytes_per_token"] > 1.2 and r["seq"] > 1 and 0 < r["history"][-1]["dev_bpb"] < 9


# nzip train: a model for one's own data ---------------------------------------------------------------------


def test_float_state_gives_back_the_same_integer_model():
    base = zoo.load(zoo.DEFAULT_MODEL)
    again = export.integer_tensors(floatmodel.float_state(base), base.config)
    assert all(torch_equal(again[k], v) for k, v in base.tensors.items())


def torch_equal(a, b) -> bool:
    """Equal arrays (numpy, or torch tensors: a model file holds the former, training makes the latter)."""
    a, b = (x if isinstance(x, np.ndarray) else x.numpy() for x in (a, b))
    return a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all())


@pytest.fixture(scope="module")
def log_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    rng = random.Random(1)
    verbs = ["GET", "GET", "GET", "POST", "PUT"]
    paths = ["/api/v2/orders", "/api/v2/users", "/static/app.js", "/health", "/login"]
    for i in range(3):
        lines = [f"2026-11-{1 + i:02d}T{h % 24:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z "
                 f"10.1.{rng.randrange(4)}.{rng.randrange(256)} {rng.choice(verbs)} {rng.choice(paths)} "
                 f"status={rng.choice([200, 200, 200, 304, 404, 500])} ms={rng.randrange(900)}"
                 for h in range(900)]
        (root / f"app{i}.log").write_text("\n".join(lines) + "\n")
    return sorted(root.glob("*.log"))


def test_nzip_train_makes_a_model_that_streams_name(log_files, tmp_path, capsys, monkeypatch):
    """Six steps from the fastest level's model are enough for its network to code the logs smaller than zstd (the
    base loses to zstd there): the stream holds a neural frame, which only the trained model decodes."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    model = tmp_path / "mine.nzm"
    base = zoo.level(1).model
    assert cli.main(["train", *map(str, log_files), "-o", str(model), "--base", base, "--steps", "6", "-q"]) == 0
    assert "model 'mine'" in capsys.readouterr().out
    data = log_files[0].read_bytes()[:3000]
    assert neuralzip.describe(neuralzip.compress(data, model=base))[0].frames["zstd"] == 1
    # without the span floor, which sends these 3,000 bytes as one LZMA frame: this test is of the network
    monkeypatch.setattr(neuralzip.engine, "floor", lambda chunks, coded, offsets, group_bytes: coded)
    blob = neuralzip.compress(data, model=model)
    info = neuralzip.describe(blob, model=model)[0]
    assert info.model_name == "mine" and info.frames["neural"] == 1
    assert neuralzip.describe(blob)[0].model_name == info.model_id                  # no embedded model has its id
    assert neuralzip.decompress(blob, model=model) == data
    with pytest.raises(neuralzip.NeuralZipError, match=f"needs model {info.model_id}.*--model PATH"):
        neuralzip.decompress(blob)
    # an existing model is kept; too little data and bad arguments are refused
    assert cli.main(["train", str(log_files[0]), "-o", str(model), "--steps", "1", "-q"]) == 1
    tiny = tmp_path / "tiny.log"
    tiny.write_bytes(b"too short\n")
    assert cli.main(["train", str(tiny), "-o", str(tmp_path / "t.nzm"), "-q"]) == 1
    assert "at least" in capsys.readouterr().err
    assert cli.main(["train", str(tiny), "-o", str(tmp_path / "t.nzm"), "--minutes", "0"]) == 2
    assert cli.main(["train", "-o", str(tmp_path / "t.nzm")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.nzm", "tiny.log"]


def test_fine_tuning_the_default_model_helps_on_its_kind_of_data(log_files, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    summary = fit.fit(log_files, tmp_path / "logs.nzm", steps=40, batch=8, seq=64, log=lambda line: None)
    assert summary["held_out_bpb"] < summary["held_out_bpb_base"]
    base, tuned = zoo.load(zoo.DEFAULT_MODEL).config, zoo.load(tmp_path / "logs.nzm").config
    assert tuned.match_context == base.match_context and list(tuned.match_prior) == list(base.match_prior)
    assert tuned.match_group_bytes == base.match_group_bytes > 0                 # the whole match model comes along
    assert tuned.match_table_bits == base.match_table_bits
    mixer = ("mixer_table_bits", "mixer_rate", "mixer_limit", "mixer_map_order", "mixer_key")    # and the mixer
    assert [getattr(tuned, f) for f in mixer] == [getattr(base, f) for f in mixer] and base.mixer_table_bits
