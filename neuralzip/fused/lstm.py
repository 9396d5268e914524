"""The loops of neuralzip.model after its two matrix products: the gates, the cell and the frequencies.

The matrix products are neuralzip.intops.Int8Matrix's (whichever exact kernel is fastest here); what follows each
of them is one pass over the batch here instead of a score of tensor passes. Same integers as LSTMModel.step and
LSTMModel.frequencies, bit for bit.
"""

from __future__ import annotations

import numpy as np

from . import njit


@njit
def gates(acc, m_hh, bound_hh, gates_in, tokens, gate_lut, gate_off, gate_lo, gate_hi, tanh_lut, c_in, c, h,
          requant_shift, act_bits, gate_bits, gate_range, cell_range, h_scale):
    """acc (B, 4H) int32, the hidden product, and the cell state c_in (B, H) int32 -> the new cell state c (B, H)
    int32 and hidden state h (B, H) int8, written in place."""
    B, H = c.shape
    half = np.int32(1 << (requant_shift - 1))
    act_half = np.int32(1 << (act_bits - 1))
    cell_max = np.int32(cell_range << act_bits)
    tc_shift = act_bits - gate_bits
    tc_half = np.int32(1 << (tc_shift - 1))
    tc_off = np.int32(gate_range << gate_bits)
    tc_top = np.int32(tanh_lut.shape[0] - 1)
    # each loop either computes (and vectorises) or gathers from a table: mixed, neither goes fast
    at = np.empty(4 * H, np.int32)
    g = np.empty(4 * H, np.int32)
    tc = np.empty(H, np.int32)
    for b in range(B):
        row = gates_in[tokens[b]]
        for k in range(4 * H):            # every gate's place in its table
            bound = bound_hh[k]
            pre = ((min(max(acc[b, k], -bound), bound) * m_hh[k] + half) >> requant_shift) + row[k] + gate_off[k]
            at[k] = min(max(pre, gate_lo[k]), gate_hi[k])
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
def frequencies(acc, m_out, bound_out, b_out, exp_lut, requant_shift, out):
    """acc (B, V) int32, the output product -> out (B, V) int32: 1 + exp_lut[best logit - logit] (clamped)."""
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
