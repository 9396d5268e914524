"""Training end to end at toy size: corpus, float training, quantization in the loop, export, use."""

import random

import pytest

import neuralzip
from neuralzip.model import ModelConfig
from neuralzip.train import corpus, export, trainer


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
    assert neuralzip.describe(blob)[0].model_name == "toy"
