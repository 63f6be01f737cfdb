"""Opt-in weight-only int8 for CPU (APP_QUANTIZE=int8).

Every nn.Linear becomes int8 weights with one fp32→bf16 scale per output channel, multiplied by
torch's own CPU kernel `aten._weight_int8pack_mm`. Decoding on CPU is limited by how many bytes
of weights are read per token, so a quarter of the bytes is ~1.7× the speed (bench/decode_options.py).
The price: activations go through bf16 (the kernel is slow with fp32 ones), so answers drift in
wording from the fp32 model's. That is why it is off by default.
"""

from __future__ import annotations

import gc

import torch
from torch import nn


def _int8_per_channel(weight: torch.Tensor, scale_dtype: torch.dtype):
    """Symmetric per-output-channel int8; q is computed with exactly the scale the kernel uses."""
    w = weight.detach().float()
    scales = (w.abs().amax(dim=1).clamp_min(1e-12) / 127.0).to(scale_dtype)
    q = torch.round(w / scales.float().unsqueeze(1)).clamp_(-128, 127).to(torch.int8)
    return q.contiguous(), scales.contiguous()


class Int8WeightOnlyLinear(nn.Module):
    """y = bf16(x) @ (q·s)ᵀ (+ bias), returned in x's dtype."""

    def __init__(self, linear: nn.Linear, act_dtype: torch.dtype = torch.bfloat16):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.act_dtype = act_dtype
        q, s = _int8_per_channel(linear.weight, act_dtype)
        self.register_buffer("weight_int8", q)
        self.register_buffer("scales", s)
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach().float(), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, shape[-1]).to(self.act_dtype).contiguous()
        y = torch.ops.aten._weight_int8pack_mm(x2, self.weight_int8, self.scales).to(x.dtype)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*shape[:-1], self.out_features)


def quantize_int8_weight_only(model: nn.Module) -> nn.Module:
    """Replace every nn.Linear in place (CPU only), freeing fp32 weights layer by layer."""
    if next(model.parameters()).device.type != "cpu":
        raise ValueError("APP_QUANTIZE=int8 is a CPU option; on a GPU use the default bf16")
    names = [name for name, mod in model.named_modules() if isinstance(mod, nn.Linear)]
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, Int8WeightOnlyLinear(getattr(parent, child)))
    gc.collect()
    return model
