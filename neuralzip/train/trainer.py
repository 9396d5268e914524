"""Float training with truncated back-propagation through long streams, then quantization-aware fine-tuning.

Each batch row reads one contiguous stream of ``chunk`` bytes from a random place, segment after segment,
carrying the LSTM state between segments and starting from a zero state, exactly as the engine codes a chunk.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..model import ModelConfig
from .alternatives import FloatStackedLSTM, FloatTransformer, TransformerConfig, evaluate_windows
from .floatmodel import FloatLSTMModel, float_state

ARCHITECTURES = ("lstm", "stacked-lstm", "transformer")   # only the first exports (the others: measured rivals)


class StreamBatches:
    def __init__(self, data: np.ndarray, batch: int, seq: int, chunk: int, seed: int):
        self.data, self.batch, self.seq, self.chunk = data, batch, seq, chunk
        self.rng = np.random.default_rng(seed)
        self.pos = np.zeros(batch, dtype=np.int64)
        self.left = np.zeros(batch, dtype=np.int64)   # segments left before a row restarts

    def next(self):
        """(x, y, reset): inputs and targets (B, seq), and which rows start a new stream."""
        reset = self.left <= 0
        n = int(reset.sum())
        if n:
            self.pos[reset] = self.rng.integers(0, len(self.data) - self.chunk - 2, n)
            self.left[reset] = self.chunk // self.seq
        idx = self.pos[:, None] + np.arange(self.seq + 1)[None, :]
        window = torch.from_numpy(self.data[idx].astype(np.int64))
        self.pos += self.seq
        self.left -= 1
        return window[:, :-1], window[:, 1:], torch.from_numpy(reset)


def evaluate(model: FloatLSTMModel, data: np.ndarray, length: int = 1 << 18, streams: int = 16,
             seq: int = 256, quantized: bool = False) -> float:
    """Bits per byte on the first ``length`` bytes of ``data``, as ``streams`` chunks from a zero state."""
    length = min(length, len(data) - 1)
    streams = max(1, min(streams, length // seq))
    seq = min(seq, length // streams)
    if seq < 1:
        raise ValueError("too little data to evaluate on")
    per = length // streams // seq * seq
    x = torch.from_numpy(data[: per * streams + 1].astype(np.int64)).to(next(model.parameters()).device)
    rows = torch.stack([x[i * per: i * per + per + 1] for i in range(streams)])
    total, state = 0.0, None
    model.eval()
    with torch.no_grad():
        for s in range(0, per, seq):
            logits, state = model(rows[:, s:s + seq], state, quantized=quantized)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, s + 1:s + seq + 1].reshape(-1),
                                     reduction="sum").item()
    model.train()
    return total / (per * streams) / math.log(2)


def build(arch: str, config: ModelConfig, embed_dim: int = 64, layers: int = 1, heads: int = 4, width: int = 128,
          context: int = 256):
    """The float model of an architecture: the exported one-layer LSTM, or a rival (neuralzip.train.alternatives):
    a stack of ``layers`` LSTM layers of config.hidden cells, or a transformer of ``layers`` blocks of ``width``
    with ``heads`` heads over ``context`` bytes."""
    if arch == "lstm":
        return FloatLSTMModel(config, embed_dim)
    if arch == "stacked-lstm":
        return FloatStackedLSTM(config.hidden, layers, config.vocab_size, embed_dim)
    if arch == "transformer":
        return FloatTransformer(TransformerConfig(context, layers, heads, width, config.vocab_size))
    raise ValueError(f"arch must be one of {ARCHITECTURES}, not {arch!r}")


def train(train_path: Path, dev_path: Path, out: Path, config: ModelConfig, steps: int, *, batch: int = 32,
          seq: int = 256, chunk: int = 16384, lr: float = 2e-3, seed: int = 0, quantized: bool = False,
          init: Path | dict | None = None, log_every: int = 100, eval_every: int = 1000, eval_bytes: int = 1 << 18,
          threads: int | None = None, time_limit: float | None = None, log=print, arch: str = "lstm",
          layers: int = 1, heads: int = 4, width: int = 128, dtype=np.uint8, device: str = "cpu") -> dict:
    """Train and save a float checkpoint to ``out`` (resumes from it when it exists).

    init: a checkpoint path or a state dict to start from. time_limit (seconds): stop then, with the learning-rate
    schedule running on whichever of steps and time is further along. arch, layers, heads, width: see build();
    a transformer's context is the segment, seq bytes. dtype: of the symbols in the files (bytes, or the tokens
    of neuralzip.train.subword). device: where to train ("cuda" on a GPU; the checkpoint is saved for the CPU).
    """
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    data = np.memmap(train_path, dtype=dtype, mode="r")
    dev = np.fromfile(dev_path, dtype=dtype)
    resume = torch.load(out, weights_only=False, map_location="cpu") if out.exists() else None
    if resume:
        start_state = resume["model"]
    elif isinstance(init, (str, Path)):
        start_state = torch.load(init, weights_only=False, map_location="cpu")["model"]
    else:
        start_state = init
    embed_dim = start_state["embed.weight"].shape[1] if start_state is not None and arch != "transformer" else 64
    model = build(arch, config, embed_dim, layers, heads, width, seq).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.0)
    step = 0
    if start_state is not None:
        model.load_state_dict(start_state)
    if resume:
        opt.load_state_dict(resume["opt"]); step = resume["step"]
    batches = StreamBatches(data, batch, seq, chunk, seed + step)
    state, t0, history = None, time.time(), []
    started = time.monotonic()
    progress = 0.0
    while progress < 1:
        x, y, reset = (t.to(device) for t in batches.next())
        if state is not None:
            keep = (~reset).float()[None, :, None]
            state = tuple(s.detach() * keep for s in state)
        warm = min(100, steps // 10)
        lr_now = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))) if step >= warm \
            else lr * (step + 1) / (warm + 1)
        for g in opt.param_groups:
            g["lr"] = lr_now
        logits, state = model(x, state, quantized=quantized)
        loss = F.cross_entropy(logits.reshape(-1, config.vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        progress = step / steps
        if time_limit is not None:
            progress = max(progress, (time.monotonic() - started) / time_limit)
        if step % log_every == 0:
            rate = log_every * batch * seq / (time.time() - t0)
            log(f"step {step} loss {loss.item() / math.log(2):.3f} bpb lr {lr_now:.2e} {rate:.0f} tok/s")
            t0 = time.time()
        if step % eval_every == 0 or progress >= 1:
            dev_bpb = (evaluate_windows(model, dev, eval_bytes) if arch == "transformer" else
                       evaluate(model, dev, length=eval_bytes, seq=min(seq, 256), quantized=quantized))
            history.append({"step": step, "dev_bpb": dev_bpb})
            log(f"step {step} dev {dev_bpb:.4f} bpb")
            tmp = out.with_suffix(".tmp")
            torch.save({"model": {k: v.cpu() for k, v in model.state_dict().items()}, "opt": opt.state_dict(),
                        "step": step,
                        "config": asdict(config), "history": history,
                        "arch": {"arch": arch, "layers": layers, "heads": heads, "width": width, "context": seq}}, tmp)
            tmp.replace(out)
    return {"steps": step, "history": history}


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--train", type=Path, required=True)
    p.add_argument("--dev", type=Path, required=True)
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--hidden", type=int, default=384)
    p.add_argument("--steps", type=int, default=9000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--quantized", action="store_true")
    p.add_argument("--init", type=Path, help="a float checkpoint to start from")
    p.add_argument("--init-model", help="a model file or embedded name to start from (its integer weights as floats)")
    p.add_argument("--minutes", type=float, help="stop after this long, the schedule following the clock")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int)
    p.add_argument("--device", default="cpu", help="cpu, or cuda to train on a GPU")
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--arch", choices=ARCHITECTURES, default="lstm",
                   help="the exported one-layer LSTM, or a rival measured against it (CHOICES.md)")
    p.add_argument("--layers", type=int, default=1, help="stacked-lstm: LSTM layers; transformer: blocks")
    p.add_argument("--heads", type=int, default=4, help="transformer: attention heads")
    p.add_argument("--width", type=int, default=128, help="transformer: model width")
    a = p.parse_args()
    init = a.init
    if a.init_model:
        from .. import zoo
        base = zoo.load(a.init_model)
        init, a.hidden = float_state(base), base.config.hidden
    r = train(a.train, a.dev, a.out, ModelConfig(hidden=a.hidden), a.steps, batch=a.batch, seq=a.seq, lr=a.lr,
              quantized=a.quantized, init=init, threads=a.threads, eval_every=a.eval_every, seed=a.seed,
              time_limit=a.minutes and a.minutes * 60, arch=a.arch, layers=a.layers, heads=a.heads, width=a.width,
              device=a.device)
    print(json.dumps(r))
