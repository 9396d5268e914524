"""Architectures measured against the embedded one, float only (neuralzip/models/CHOICES.md, "Depth, attention and
subwords").

The integer runtime (neuralzip.model) has one architecture: a one-layer LSTM. These are its rivals in training
runs that compare them at equal data and schedule (neuralzip.train.trainer --arch): a stack of LSTM layers, and
a decoder-only transformer as in nanoGPT's model.py (pre-norm blocks, causal self-attention, learned positions),
whose context is the training segment. Neither exports to a model file: export refuses them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


class FloatStackedLSTM(nn.Module):
    """byte -> embedding -> ``layers`` LSTM layers -> linear -> 256 logits; the state carries between segments."""

    def __init__(self, hidden: int, layers: int, vocab_size: int = 256, embed_dim: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, idx, state=None, quantized=False):
        if quantized:
            raise ValueError("only the one-layer LSTM has quantization-aware training")
        h, state = self.lstm(self.embed(idx), state)        # (B, T, H)
        return self.head(h), state


@dataclass
class TransformerConfig:
    context: int = 256      # positions attended to: the training segment
    layers: int = 4
    heads: int = 4
    width: int = 128
    vocab_size: int = 256


class CausalSelfAttention(nn.Module):
    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.heads = c.heads
        self.qkv = nn.Linear(c.width, 3 * c.width)
        self.proj = nn.Linear(c.width, c.width)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))   # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(c.width), CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c.width)
        self.mlp = nn.Sequential(nn.Linear(c.width, 4 * c.width), nn.GELU(), nn.Linear(4 * c.width, c.width))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class FloatTransformer(nn.Module):
    """nanoGPT's decoder at byte level. It keeps no state between segments: a segment is its whole context, so
    the trainer's evaluation slides a window over the text instead (evaluate_windows)."""

    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.config = c
        self.wte, self.wpe = nn.Embedding(c.vocab_size, c.width), nn.Embedding(c.context, c.width)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.ln_f = nn.LayerNorm(c.width)
        self.head = nn.Linear(c.width, c.vocab_size, bias=False)
        self.apply(self._init)
        for name, p in self.named_parameters():       # GPT-2's scaled init of the residual projections
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * c.layers))

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, state=None, quantized=False):
        if quantized:
            raise ValueError("only the one-layer LSTM has quantization-aware training")
        T = idx.shape[1]                                                    # idx: (B, T), T <= context
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))    # (B, T, C)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x)), None                                # (B, T, V)


def evaluate_windows(model: FloatTransformer, data, length: int) -> float:
    """Bits per byte of bytes 1 ... length of data (a uint8 array; length - context a multiple of half a context),
    each predicted from the bytes before it back to its window's start: at least half a context of them, but
    for the first context (windows of a context, half a context apart, each scoring its second half)."""
    c = model.config.context
    x = torch.from_numpy(data[:length + 1].astype("int64")).to(next(model.parameters()).device)
    half, total, scored = c // 2, 0.0, 0
    starts = list(range(0, length - c + 1, half))
    model.eval()
    with torch.no_grad():
        for i in range(0, len(starts), 64):
            batch = starts[i:i + 64]
            rows = torch.stack([x[s:s + c + 1] for s in batch])                         # (b, c + 1)
            logits, _ = model(rows[:, :-1])
            loss = F.cross_entropy(logits.transpose(1, 2), rows[:, 1:], reduction="none")  # (b, c)
            total += loss[:, half:].sum().item()
            scored += loss[:, half:].numel()
            if i == 0:                  # the first window scores its first half too: no other window holds it
                total += loss[0, :half].sum().item()
                scored += half
    model.train()
    return total / scored / math.log(2)
