"""The network as integer-exact inference: a byte-level LSTM whose every step gives the same bits anywhere.

Fixed-point conventions (one place, used by export and runtime alike):
- gate pre-activations: integers at scale 2**gate_bits, looked up in sigmoid/tanh tables over [-range, range);
- gate outputs and the cell state: integers at scale 2**act_bits;
- the hidden state: int8, h_q = round(h * H_SCALE), fed to exact int8 matrix products;
- logits: integers at scale 2**logit_bits, turned into frequencies through an exp table, every symbol >= 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import backend
from .fused import lstm as fused_lstm
from .intops import Int8Matrix, lookup, rshift_round
from .tensorlib import torch

H_SCALE = 127


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 256
    hidden: int = 384
    start_token: int = 10        # every chunk is read as if it followed a newline
    gate_bits: int = 10
    gate_range: int = 8          # sigmoid/tanh tables cover [-8, 8)
    act_bits: int = 12
    cell_range: int = 16         # the cell state is clamped to [-16, 16]
    logit_bits: int = 8
    logit_range: int = 16        # symbols more than 16 nats below the best share the floor frequency
    requant_shift: int = 16      # int32 products acc * m are shifted right by this
    match_context: int = 0       # 4: a match model over 4-byte contexts (neuralzip.predictor); 0: none
    match_table_bits: int = 14   # its table: 2**bits slots per stream
    match_prior: tuple = ()      # its pseudo-counts of hits, then misses, per cell (neuralzip.predictor.N_CELLS)
    match_group_bytes: int = 0   # > 0: the chunks starting in the same span of this many bytes (but near-random
                                 # ones) share one match table (neuralzip.predictor); 0: each matches only itself
    match_local_bits: int = 0    # > 0 (with groups): each chunk also has a table of 2**bits slots of its own,
                                 # looked up first, so that its own recent text wins over the group's
    count_orders: tuple = ()     # context counts (neuralzip.counts) for contexts of these many bytes, ascending;
                                 # () for none. Shared by each match group: they need match_group_bytes > 0
    count_betas: tuple = ()      # per order (a, b): what the lower orders predicted weighs a per distinct byte
                                 # seen after the context, plus b, in half observations
    count_table_bits: int = 0    # 2**bits rows (256 byte counts each) per group, all orders together
    count_word: int = 0          # 1: a word context too (the word so far and the one before), blended first, with
                                 # its own betas ahead of the orders'
    apm_orders: tuple = ()       # adaptive probability maps (neuralzip.apm) on the last k bytes for these k
                                 # (1 to 3, ascending), after the counts; () for none. Shared by match groups
    apm_table_bits: int = 0      # rows per map of order 2 or 3 and the word's (hashed): 2**bits
    apm_limit: int = 0           # a map's point learns at 1 / (hits + 1.5), its hits counted up to this
    apm_share: int = 0           # sixteenths of each node's probability that come from the maps
    apm_word: int = 0            # 1: a map on the word being read too (hashed into 2**apm_table_bits rows)
    apm_mass: int = 0            # > 0: only nodes holding at least 2**-apm_mass of the frequencies are mapped (the
                                 # others, whose bytes the prediction finds unlikely, keep it); 0: every node
    mixer_table_bits: int = 0    # > 0: a bit mixer (neuralzip.mixer) after the maps, its context models' tables of
                                 # 2**bits blocks each, per group (needs match groups); 0: bytes coded whole
    mixer_rate: int = 0          # the mixer's weights' learning rate
    mixer_limit: int = 0         # a context model's probability learns at 2 / (2 n + 3), n counted up to this
    mixer_map_order: int = 0     # > 0: one more input, the network's decision through an adaptive map on the last
                                 # this many bytes and the node (neuralzip.mixer); 0: none
    mixer_key: int = 0           # 1: a 13th context model, the key (JSON's, an XML attribute's or tag's name) with the
                                 # token being read; 0: none


TENSOR_SPECS = {  # name -> (dtype, shape as a function of the config)
    "gates_in": (np.int32, lambda c: (c.vocab_size, 4 * c.hidden)),   # input + biases, at 2**gate_bits
    "w_hh": (np.int8, lambda c: (c.hidden, 4 * c.hidden)),            # (K, N) for Int8Matrix
    "m_hh": (np.int32, lambda c: (4 * c.hidden,)),                    # per-gate requantization multipliers
    "w_out": (np.int8, lambda c: (c.hidden, c.vocab_size)),
    "m_out": (np.int32, lambda c: (c.vocab_size,)),
    "b_out": (np.int32, lambda c: (c.vocab_size,)),                    # at 2**logit_bits
    "sigmoid_lut": (np.int32, lambda c: (2 * c.gate_range << c.gate_bits,)),
    "tanh_lut": (np.int32, lambda c: (2 * c.gate_range << c.gate_bits,)),
    "exp_lut": (np.int32, lambda c: (c.logit_range << c.logit_bits,)),
}


def as_array(x) -> np.ndarray:
    """A model tensor as a numpy array (model files hold arrays; training hands over torch tensors)."""
    return x if isinstance(x, np.ndarray) else x.detach().cpu().numpy()


@dataclass
class LSTMState:
    h: np.ndarray     # (B, H) int8 (a tensor, in the tensor form)
    c: np.ndarray     # (B, H) int32


class LSTMModel:
    """Integer LSTM over bytes. Holds its arrays in its backend's form (neuralzip.backend); knows nothing of files
    or streams.

    All elementwise work is int32 (vectorised everywhere, no overflow by construction); in the tensor form table
    lookups go through index_select. In the loops' form the work after each matrix product runs as the loops of
    neuralzip.fused.lstm, the same integers in one pass.
    """

    def __init__(self, config: ModelConfig, tensors: dict, device=None):
        """tensors: name -> array (or torch tensor) as TENSOR_SPECS gives; device: a device or a Backend
        (neuralzip.backend.choose; default the CPU)."""
        arrays = {}
        for name, (dtype, shape) in TENSOR_SPECS.items():
            t = tensors.get(name)
            t = None if t is None else as_array(t)
            if t is None or t.dtype != dtype or tuple(t.shape) != shape(config):
                raise ValueError(f"model tensor {name!r} must be {np.dtype(dtype).name} of shape {shape(config)}")
            arrays[name] = t
        if int(arrays["m_hh"].min()) < 1 or int(arrays["m_out"].min()) < 1:
            raise ValueError("model requantization multipliers must be positive")
        self.config = config
        self.backend = backend.choose("cpu" if device is None else device)
        self.fused = self.backend.loops
        t = arrays
        H, n = config.hidden, t["sigmoid_lut"].shape[0]
        # One table for all four gates: sigmoid for i, f, o, tanh for g, chosen by a per-column offset.
        gate_lut = np.concatenate([t["sigmoid_lut"], t["tanh_lut"]])
        column = np.zeros(4 * H, dtype=np.int32)
        column[2 * H:3 * H] = n
        gate_off = column + np.int32(config.gate_range << config.gate_bits)
        # acc * m must stay below 2**31: clamp acc where the product would not (far beyond saturation)
        limit = (1 << 31) - 1 - (1 << (config.requant_shift - 1))
        a_hh = (limit // t["m_hh"].astype(np.int64)).astype(np.int32)
        a_out = (limit // t["m_out"].astype(np.int64)).astype(np.int32)
        self.t = dict(t, gate_lut=gate_lut, gate_off=gate_off, gate_lo=column, gate_hi=column + np.int32(n - 1),
                      a_hh=a_hh, a_out=a_out)
        if self.fused:
            t = self.t
            self._tables = fused_lstm.LSTMTables(
                m_hh=t["m_hh"], bound_hh=a_hh, gates_in=t["gates_in"], gate_lut=gate_lut, gate_off=gate_off,
                gate_lo=column, gate_hi=t["gate_hi"], tanh_lut=t["tanh_lut"], m_out=t["m_out"], bound_out=a_out,
                b_out=t["b_out"], exp_lut=t["exp_lut"], requant_shift=config.requant_shift, act_bits=config.act_bits,
                gate_bits=config.gate_bits, gate_range=config.gate_range, cell_range=config.cell_range,
                h_scale=H_SCALE)
        else:
            self.t = {name: self.backend.array(x) for name, x in self.t.items()}
        self._hh, self._out = Int8Matrix(self.t["w_hh"]), Int8Matrix(self.t["w_out"])

    def initial_state(self, batch: int) -> LSTMState:
        H = self.config.hidden
        return LSTMState(h=self.backend.array(np.zeros((batch, H), np.int8)),
                         c=self.backend.array(np.zeros((batch, H), np.int32)))

    def start_tokens(self, batch: int):
        return self.backend.array(np.full(batch, self.config.start_token, np.int64))

    def _requant(self, acc, m, bound):
        acc = torch.clamp(acc, min=-bound, max=bound).mul_(m)
        return acc.add_(1 << (self.config.requant_shift - 1)).bitwise_right_shift_(self.config.requant_shift)

    def step(self, state: LSTMState, tokens) -> LSTMState:
        """Consume one token per stream: tokens (B,) int64 -> the next state."""
        if self.fused:
            return self._fused_step(state, tokens)
        cfg, t = self.config, self.t
        H, B = cfg.hidden, tokens.shape[0]
        pre = self._requant(self._hh(state.h), t["m_hh"], t["a_hh"])     # (B, 4H) at 2**gate_bits
        pre += t["gates_in"].index_select(0, tokens)
        idx = torch.clamp(pre.add_(t["gate_off"]), min=t["gate_lo"], max=t["gate_hi"])
        gates = t["gate_lut"].index_select(0, idx.view(-1)).view(B, 4 * H)            # (B, 4H) at 2**act_bits
        i, f, g, o = gates.split(H, dim=1)
        cell_max = cfg.cell_range << cfg.act_bits
        c = rshift_round(f * state.c + i * g, cfg.act_bits).clamp_(-cell_max, cell_max)
        tc = lookup(t["tanh_lut"], rshift_round(c, cfg.act_bits - cfg.gate_bits), cfg.gate_range << cfg.gate_bits)
        h = rshift_round(rshift_round(o * tc, cfg.act_bits) * H_SCALE, cfg.act_bits)
        return LSTMState(h=h.to(torch.int8), c=c)

    def _fused_step(self, state: LSTMState, tokens: np.ndarray) -> LSTMState:
        c = np.empty(state.c.shape, np.int32)
        h = np.empty(state.h.shape, np.int8)
        fused_lstm.gates(self._tables, self._hh(state.h), np.ascontiguousarray(tokens, np.int64),
                         np.ascontiguousarray(state.c), c, h)
        return LSTMState(h=h, c=c)

    def logits(self, state: LSTMState):
        """(B, V) int32 logits at scale 2**logit_bits (the tensor form)."""
        z = self._requant(self._out(state.h), self.t["m_out"], self.t["a_out"])
        return z.add_(self.t["b_out"])

    def frequencies(self, state: LSTMState):
        """(B, V) int32 frequencies for the next symbol: 1 + 2**16 * exp(logit - best logit), from a table.

        Every symbol gets at least 1; the coder normalises by the sum (below 2**25)."""
        if self.fused:
            out = np.empty((state.h.shape[0], self.config.vocab_size), np.int32)
            fused_lstm.frequencies(self._tables, self._out(state.h), out)
            return out
        z = self.logits(state)
        below = z.amax(dim=1, keepdim=True) - z                              # >= 0; an integer max is exact
        return lookup(self.t["exp_lut"], below, 0).add_(1)


def make_luts(config: ModelConfig) -> dict:
    """The nonlinearity tables. Computed once at export in float64 and frozen into the model file, so that no
    machine ever evaluates a transcendental function at inference."""
    n = 2 * config.gate_range << config.gate_bits
    x = (torch.arange(n, dtype=torch.float64) - (config.gate_range << config.gate_bits)) / (1 << config.gate_bits)
    one = 1 << config.act_bits
    d = torch.arange(config.logit_range << config.logit_bits, dtype=torch.float64) / (1 << config.logit_bits)
    return {"sigmoid_lut": torch.round(torch.sigmoid(x) * one).to(torch.int32),
            "tanh_lut": torch.round(torch.tanh(x) * one).to(torch.int32),
            "exp_lut": torch.round(torch.exp(-d) * (1 << 16)).to(torch.int32)}
