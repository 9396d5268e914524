"""Turn a float checkpoint into an integer model file: the only form in which a model is ever used."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from .. import modelfile
from ..model import H_SCALE, ModelConfig, make_luts


def _rows_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """w (N, K) float -> (w_q (N, K) int8, scale (N,) float64) with w ~ w_q * scale per row."""
    w = w.double()
    scale = w.abs().amax(dim=1).clamp_min(1e-12) / 127
    return torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8), scale


def _multiplier(m: torch.Tensor) -> torch.Tensor:
    return torch.round(m).clamp(1, (1 << 31) - 1).to(torch.int32)


def integer_tensors(state: dict, config: ModelConfig) -> dict[str, torch.Tensor]:
    S = config.requant_shift
    w_ih, w_hh = state["lstm.weight_ih_l0"].double(), state["lstm.weight_hh_l0"]
    bias = (state["lstm.bias_ih_l0"] + state["lstm.bias_hh_l0"]).double()
    gates_in = state["embed.weight"].double() @ w_ih.T + bias                       # (V, 4H)
    w_hh_q, s_hh = _rows_int8(w_hh)
    w_out_q, s_out = _rows_int8(state["head.weight"])
    tensors = {
        "gates_in": torch.round(gates_in * (1 << config.gate_bits)).to(torch.int32),
        "w_hh": w_hh_q.T.contiguous(),
        "m_hh": _multiplier(s_hh / H_SCALE * 2.0 ** (config.gate_bits + S)),
        "w_out": w_out_q.T.contiguous(),
        "m_out": _multiplier(s_out / H_SCALE * 2.0 ** (config.logit_bits + S)),
        "b_out": torch.round(state["head.bias"].double() * (1 << config.logit_bits)).to(torch.int32),
    }
    tensors.update(make_luts(config))
    return tensors


def export(checkpoint: Path, out: Path, name: str, description: str = "", match_from: ModelConfig | None = None) -> bytes:
    """Write the integer model file; match_from: a config whose match model, context counts, probability maps and
    bit mixer (if any) the new model keeps."""
    ck = torch.load(checkpoint, weights_only=False, map_location="cpu")
    arch = ck.get("arch", {}).get("arch", "lstm")
    if arch != "lstm":
        raise ValueError(f"{checkpoint} is a {arch}: only the one-layer LSTM has an integer runtime to export to")
    # the checkpoint fixes the network's shape; the integer conventions are the current ModelConfig's
    config = ModelConfig(vocab_size=ck["config"]["vocab_size"], hidden=ck["config"]["hidden"])
    if match_from is not None:
        adaptive = {f.name: getattr(match_from, f.name) for f in dataclasses.fields(ModelConfig)
                    if f.name.startswith(("match_", "count_", "apm_", "mixer_"))}
        config = dataclasses.replace(config, **adaptive)
    data = modelfile.dump(name, config, integer_tensors(ck["model"], config), description)
    out.write_bytes(data)
    return data


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--description", default="")
    a = p.parse_args()
    data = export(a.checkpoint, a.out, a.name, a.description)
    import hashlib
    print(f"{a.out}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
