"""A byte-level subword vocabulary with byte fallback, measured against bytes (neuralzip/models/CHOICES.md,
"Depth, attention and subwords").

Byte-pair encoding on bytes, as GPT-2's: the 256 byte values are tokens, so every input has a tokenization (the
byte fallback), and each merge adds one token for the pair of adjacent tokens that is most frequent in a sample
after the merges before it. A text is encoded by applying the merges in order. The network then predicts a
token, which stands for 1.5 to 2 bytes of English: fewer steps per byte, a larger output layer. Float training
only: the integer runtime, the match model, the counts and the maps all read bytes.

    python -m neuralzip.train.subword --train data/corpus/train.bin --dev data/corpus/dev.bin -o sw.pt \\
        --merges 256 --steps 14000      # stopped, as the other rows of the table, after the step-2000 checkpoint
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..model import ModelConfig
from . import trainer

SAMPLE_BYTES = 1 << 21          # merges are learned on this much of the training text
TRAIN_BYTES = 1 << 26           # the training runs read tokens of this much of it


def _merge(tokens: np.ndarray, a: int, b: int, new: int) -> np.ndarray:
    """tokens with each pair (a, b) replaced by new, left to right: in a run of a's, (a, a) takes the 1st and 2nd,
    the 3rd and 4th..."""
    hit = np.flatnonzero((tokens[:-1] == a) & (tokens[1:] == b))
    if a == b and len(hit):                   # overlapping pairs: keep every other one of each run of them
        i = np.arange(len(hit))
        run_start = np.maximum.accumulate(np.where(np.r_[True, np.diff(hit) != 1], i, 0))
        hit = hit[(i - run_start) % 2 == 0]
    out = tokens.copy()
    out[hit] = new
    keep = np.ones(len(tokens), dtype=bool)
    keep[hit + 1] = False
    return out[keep]


def learn_merges(sample: bytes, merges: int) -> list[tuple[int, int]]:
    """The merges, in order: each the most frequent adjacent pair of tokens then (the first on ties)."""
    tokens, pairs = np.frombuffer(sample, dtype=np.uint8).astype(np.int64), []
    for new in range(256, 256 + merges):
        counts = np.bincount(tokens[:-1] * new + tokens[1:], minlength=new * new)
        a, b = divmod(int(counts.argmax()), new)
        pairs.append((a, b))
        tokens = _merge(tokens, a, b, new)
    return pairs


def encode(data: bytes, merges: list[tuple[int, int]]) -> np.ndarray:
    """data -> its tokens, uint16."""
    tokens = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    for new, (a, b) in enumerate(merges, start=256):
        tokens = _merge(tokens, a, b, new)
    return tokens.astype(np.uint16)


def decode(tokens: np.ndarray, merges: list[tuple[int, int]]) -> bytes:
    table = [bytes([i]) for i in range(256)]
    for a, b in merges:
        table.append(table[a] + table[b])
    return b"".join(table[t] for t in tokens.tolist())


def compare(train_path: Path, dev_path: Path, out: Path, merges: int, steps: int, hidden: int = 384,
            seq: int | None = None, dev_bytes: int = 1 << 18, log=print, **train_args) -> dict:
    """Train a one-layer LSTM of ``hidden`` cells on tokens of the training text (its first TRAIN_BYTES), ``seq``
    tokens a segment (by default as many as make 256 bytes); its dev figures, on the first dev_bytes of the dev
    text, in bits per byte. The tokens are written beside out (OUT.train.u16, OUT.dev.u16)."""
    text = np.memmap(train_path, dtype=np.uint8, mode="r")
    pairs = learn_merges(bytes(text[:SAMPLE_BYTES]), merges)
    dev = np.fromfile(dev_path, dtype=np.uint8)
    dev_text = dev[:dev_bytes].tobytes()
    dev_tokens = encode(dev_text, pairs)
    assert decode(dev_tokens, pairs) == dev_text
    train_tokens, dev_path_t = out.with_suffix(".train.u16"), out.with_suffix(".dev.u16")
    encode(bytes(text[:TRAIN_BYTES]), pairs).tofile(train_tokens)
    # one more token, so that the evaluation's targets cover all of the dev tokens
    np.r_[dev_tokens, encode(dev[dev_bytes:dev_bytes + 64].tobytes(), pairs)[:1]].astype(np.uint16).tofile(dev_path_t)
    bytes_per_token = len(dev_text) / len(dev_tokens)
    seq = seq or round(256 / (SAMPLE_BYTES / len(encode(bytes(text[:SAMPLE_BYTES]), pairs))))
    log(f"{merges} merges: {bytes_per_token:.4f} bytes a token in the first {len(dev_text)} bytes of the dev text, "
        f"{seq} tokens a segment (the dev figures below are per token: divide by {bytes_per_token:.4f})")
    result = trainer.train(train_tokens, dev_path_t, out, ModelConfig(vocab_size=256 + merges, hidden=hidden), steps,
                           seq=seq, eval_bytes=len(dev_tokens), dtype=np.uint16, log=log, **train_args)
    for h in result["history"]:
        h["dev_bpb"] = h.pop("dev_bpb") / bytes_per_token      # the trainer's figure is per token
    return {"merges": merges, "bytes_per_token": bytes_per_token, "seq": seq, **result}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=Path, required=True)
    p.add_argument("--dev", type=Path, required=True)
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--merges", type=int, default=256)
    p.add_argument("--steps", type=int, default=14000)
    p.add_argument("--hidden", type=int, default=384)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=0, help="tokens per segment (default: about 256 bytes' worth)")
    p.add_argument("--threads", type=int)
    a = p.parse_args()
    print(compare(a.train, a.dev, a.out, a.merges, a.steps, hidden=a.hidden, batch=a.batch, seq=a.seq or None,
                  threads=a.threads))
