"""The loops of neuralzip.model after its two matrix products: the gates, the cell and the frequencies.

The matrix products are neuralzip.intops.Int8Matrix's (whichever exact kernel is fastest here); what follows each
of them is one pass over the batch here instead of a score of tensor passes. Same integers as LSTMModel.step and
LSTMModel.frequencies, bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import njit


class LSTMTables(NamedTuple):
    """What the loops read of one LSTMModel, in one object (numba takes it as a tuple of arrays)."""
    m_hh: np.ndarray             # (4H,) the hidden product's requantization multipliers, and its clamp
    bound_hh: np.ndarray
    gates_in: np.ndarray         # (V, 4H) each input token's gate inputs
    gate_lut: np.ndarray         # sigmoid's table, then tanh's
    gate_off: np.ndarray         # (4H,) each gate's offset into gate_lut, and its first and last place there
    gate_lo: np.ndarray
    gate_hi: np.ndarray
    tanh_lut: np.ndarray
    m_out: np.ndarray            # (V,) the output product's multipliers, clamp and biases
    bound_out: np.ndarray
    b_out: np.ndarray
    exp_lut: np.ndarray
    requant_shift: int
    act_bits: int
    gate_bits: int
    gate_range: int
    cell_range: int
    h_scale: int


@njit
def gates(n, acc, tokens, c_in, c, h):
    """acc (B, 4H) int32, the hidden product, and the cell state c_in (B, H) int32 -> the new cell state c (B, H)
    int32 and hidden state h (B, H) int8, written in place."""
    requant_shift, act_bits, bound_hh, m_hh, gate_lut = n.requant_shift, n.act_bits, n.bound_hh, n.m_hh, n.gate_lut
    tanh_lut, h_scale = n.tanh_lut, n.h_scale
    B, H = c.shape
    half = np.int32(1 << (requant_shift - 1))
    act_half = np.int32(1 << (act_bits - 1))
    cell_max = np.int32(n.cell_range << act_bits)
    tc_shift = act_bits - n.gate_bits
    tc_half = np.int32(1 << (tc_shift - 1))
    tc_off = np.int32(n.gate_range << n.gate_bits)
    tc_top = np.int32(tanh_lut.shape[0] - 1)
    # each loop either computes (and vectorises) or gathers from a table: mixed, neither goes fast
    at = np.empty(4 * H, np.int32)
    g = np.empty(4 * H, np.int32)
    tc = np.empty(H, np.int32)
    for b in range(B):
        row = n.gates_in[tokens[b]]
        for k in range(4 * H):            # every gate's place in its table
            bound = bound_hh[k]
            pre = ((min(max(acc[b, k], -bound), bound) * m_hh[k] + half) >> requant_shift) + row[k] + n.gate_off[k]
            at[k] = min(max(pre, n.gate_lo[k]), n.gate_hi[k])
        for k in range(4 * H):
            g[k] = gate_lut[at[k]]
        for j in range(H):                # i, f, g, o -> the cell state
            cell = min(max((g[H + j] * c_in[b, j] + g[j] * g[2 * H + j] + act_half) >> act_bits, -cell_max), cell_max)
            c[b, j] = cell
            at[j] = min(max(((cell + tc_half) >> tc_shift) + tc_off, 0), tc_top)
        for j in range(H):
            tc[j] = tanh_lut[at[j]]
        for j in range(H):
            h[b, j] = (((g[3 * H + j] * tc[j] + act_half) >> act_bits) * h_scale + act_half) >> act_bits


@njit
def frequencies(n, acc, out):
    """acc (B, V) int32, the output product -> out (B, V) int32: 1 + exp_lut[best logit - logit] (clamped)."""
    bound_out, m_out, b_out, exp_lut, requant_shift = n.bound_out, n.m_out, n.b_out, n.exp_lut, n.requant_shift
    B, V = acc.shape
    half = np.int64(1) << (requant_shift - 1)
    top = exp_lut.shape[0] - 1
    z = np.empty(V, np.int64)
    for b in range(B):
        best = np.int64(-(1 << 62))
        for v in range(V):
            a = min(max(np.int64(acc[b, v]), -np.int64(bound_out[v])), np.int64(bound_out[v]))
            z[v] = ((a * m_out[v] + half) >> requant_shift) + b_out[v]
            best = max(best, z[v])
        for v in range(V):
            out[b, v] = exp_lut[min(best - z[v], top)] + 1
