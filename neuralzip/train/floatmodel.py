"""The float twin of the integer model, for training.

Same shapes as neuralzip.model.LSTMModel: byte -> embedding -> one LSTM layer -> linear -> 256 logits.
With ``quantized=True`` it runs the step loop by hand and rounds what the integer model rounds (weights to int8
per output channel, the hidden state to int8), with straight-through gradients, so that fine-tuning learns
weights that survive export.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..model import ModelConfig, H_SCALE
from ..modelfile import ModelFile


def fake_quant_rows(w: torch.Tensor) -> torch.Tensor:
    """Round each row to int8 at its own scale; gradients pass straight through."""
    scale = w.detach().abs().amax(dim=1, keepdim=True).clamp_min(1e-8) / 127
    return w + ((w / scale).round().clamp(-127, 127) * scale - w).detach()


def fake_quant_hidden(h: torch.Tensor) -> torch.Tensor:
    return h + ((h * H_SCALE).round() / H_SCALE - h).detach()


class FloatLSTMModel(nn.Module):
    def __init__(self, config: ModelConfig, embed_dim: int = 64):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, config.hidden, batch_first=True)
        self.head = nn.Linear(config.hidden, config.vocab_size)

    def forward(self, idx, state=None, quantized=False):
        # idx: (B, T) int64 -> logits (B, T, V), new state
        x = self.embed(idx)                                   # (B, T, E)
        if not quantized:
            h, state = self.lstm(x, state)
            return self.head(h), state
        # the LUT nonlinearities and cell rounding of the integer model are fine enough to leave to floats
        w_hh = fake_quant_rows(self.lstm.weight_hh_l0)        # (4H, H)
        gates_in = F.linear(x, self.lstm.weight_ih_l0, self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0)  # (B, T, 4H)
        B, T, _ = gates_in.shape
        H = self.config.hidden
        if state is None:
            h = gates_in.new_zeros(B, H)
            c = gates_in.new_zeros(B, H)
        else:
            h, c = state[0][0], state[1][0]
        outs = []
        for t in range(T):
            g = gates_in[:, t] + h @ w_hh.t()
            i, f, gg, o = g.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
            h = fake_quant_hidden(torch.sigmoid(o) * torch.tanh(c))
            outs.append(h)
        hs = torch.stack(outs, dim=1)                          # (B, T, H)
        logits = F.linear(hs, fake_quant_rows(self.head.weight), self.head.bias)
        return logits, (h.unsqueeze(0), c.unsqueeze(0))


def float_state(model: ModelFile) -> dict[str, torch.Tensor]:
    """A FloatLSTMModel state dict (identity embedding, embed_dim = vocabulary) equal to an integer model up to
    the rounding of its requantization multipliers; export() of it gives back the same integer weights."""
    c, t = model.config, {name: torch.from_numpy(array.copy()) for name, array in model.tensors.items()}
    s_hh = t["m_hh"].double() * H_SCALE / 2.0 ** (c.gate_bits + c.requant_shift)          # (4H,)
    s_out = t["m_out"].double() * H_SCALE / 2.0 ** (c.logit_bits + c.requant_shift)       # (V,)
    four_h = 4 * c.hidden
    state = {
        "embed.weight": torch.eye(c.vocab_size, dtype=torch.float64),                   # (V, V)
        "lstm.weight_ih_l0": t["gates_in"].double().T / (1 << c.gate_bits),              # (4H, V)
        "lstm.weight_hh_l0": t["w_hh"].double().T * s_hh[:, None],                       # (4H, H)
        "lstm.bias_ih_l0": torch.zeros(four_h, dtype=torch.float64),
        "lstm.bias_hh_l0": torch.zeros(four_h, dtype=torch.float64),
        "head.weight": t["w_out"].double().T * s_out[:, None],                           # (V, H)
        "head.bias": t["b_out"].double() / (1 << c.logit_bits),
    }
    return {k: v.float().contiguous() for k, v in state.items()}
