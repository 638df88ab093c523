"""Transformer primitives shared by the CLIP ViT and the temporal transformer.

Parameter names follow OpenAI CLIP (and ``nn.MultiheadAttention``) so that
CLIP, open_clip and original Text4Vis checkpoints load without renaming.
Tensors are batch-first: ``(N, L, D)`` = (sequences, tokens, width).

Speed notes (the maths is unchanged; results are bit-identical to the
plain formulas in fp32): without autograd (``torch.no_grad``), QuickGELU
and the residual adds reuse their operands' memory instead of allocating
fresh activations; under autograd, QuickGELU keeps only its input for the
backward pass (not its sigmoid too).
"""
from collections import OrderedDict
from typing import Callable, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from torch.autograd.function import once_differentiable


def _quick_gelu(x: torch.Tensor) -> torch.Tensor:
    """``sigmoid(1.702 x) * x`` in one new tensor (3 passes, 1 allocation;
    the plain expression allocates 3)."""
    return torch.mul(x, 1.702).sigmoid_().mul_(x)


class _QuickGELUFunction(torch.autograd.Function):
    """QuickGELU saving only its input; the sigmoid is recomputed in
    backward (one activation-sized tensor less per MLP)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return _quick_gelu(x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        x, = ctx.saved_tensors
        s = torch.mul(x, 1.702).sigmoid_()
        # d/dx [x s(1.702 x)] = s + 1.702 x s (1 - s)
        d = torch.rsub(s, 1).mul_(s).mul_(x).mul_(1.702).add_(s)
        return d.mul_(grad)


class QuickGELU(nn.Module):
    """``x * sigmoid(1.702 x)``, the activation of OpenAI's CLIP models."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            return _QuickGELUFunction.apply(x)
        return _quick_gelu(x)


def residual_add(x: torch.Tensor, branch: torch.Tensor) -> torch.Tensor:
    """``x + branch``; without autograd, written into ``branch`` (a fresh
    activation owned by the caller) when that keeps the result dtype."""
    if torch.is_grad_enabled() or branch.shape != x.shape or \
            torch.result_type(x, branch) != branch.dtype:
        return x + branch
    return branch.add_(x)


_ACTIVATIONS = {'quick_gelu': QuickGELU, 'gelu': nn.GELU}


def get_act_layer(act_layer: Union[str, Callable]) -> Callable:
    """Resolve ``'quick_gelu'`` / ``'gelu'`` (or a class) to a module class."""
    if isinstance(act_layer, str):
        if act_layer not in _ACTIVATIONS:
            raise ValueError(f'act_layer must be one of {list(_ACTIVATIONS)}, '
                             f'got {act_layer!r}')
        return _ACTIVATIONS[act_layer]
    return act_layer


class Attention(nn.Module):
    """Multi-head self-attention on ``F.scaled_dot_product_attention``.

    Key names match ``nn.MultiheadAttention`` (``in_proj_weight``,
    ``in_proj_bias``, ``out_proj``) for checkpoint compatibility, and the
    initialisation is the same.

    Args:
        dim (int): Width D.
        num_heads (int): Number of heads; must divide ``dim``.
    """

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'width {dim} is not divisible by {num_heads} '
                             'heads')
        self.num_heads = num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(N, L, D)`` -> ``(N, L, D)``."""
        N, L, D = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        qkv = qkv.view(N, L, 3, self.num_heads, D // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (N, H, L, D/H)
        x = F.scaled_dot_product_attention(q, k, v)
        x = x.transpose(1, 2).reshape(N, L, D)
        return self.out_proj(x)


class ResidualAttentionBlock(nn.Module):
    """Pre-LN transformer block of CLIP, with an optional temporal hook.

    As in the original Text4Vis code, ``temporal`` (e.g. TokenT1D) runs
    before the attention branch and again before the MLP branch.

    Args:
        dim (int): Width D.
        num_heads (int): Attention heads.
        mlp_ratio (float): MLP hidden width / D. Defaults to 4.0.
        act_layer (str | type): MLP activation. Defaults to 'quick_gelu'.
        drop_path (float): Stochastic depth rate. Defaults to 0.
        ln_eps (float): LayerNorm epsilon. Defaults to 1e-5.
        temporal (nn.Module, optional): Token mixer across frames, called as
            ``temporal(x)`` on ``(B*T, L, D)``. Defaults to None.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_ratio: float = 4.0,
                 act_layer: Union[str, Callable] = 'quick_gelu',
                 drop_path: float = 0.,
                 ln_eps: float = 1e-5,
                 temporal: Optional[nn.Module] = None):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.ln_1 = nn.LayerNorm(dim, eps=ln_eps)
        self.attn = Attention(dim, num_heads)
        self.ln_2 = nn.LayerNorm(dim, eps=ln_eps)
        self.mlp = nn.Sequential(
            OrderedDict([('c_fc', nn.Linear(dim, hidden)),
                         ('gelu', get_act_layer(act_layer)()),
                         ('c_proj', nn.Linear(hidden, dim))]))
        self.drop_path = DropPath(drop_path) if drop_path > 0 else \
            nn.Identity()
        self.temporal = temporal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(N, L, D)`` -> ``(N, L, D)``."""
        if self.temporal is not None:
            x = self.temporal(x)
        x = residual_add(x, self.drop_path(self.attn(self.ln_1(x))))
        if self.temporal is not None:
            x = self.temporal(x)
        return residual_add(x, self.drop_path(self.mlp(self.ln_2(x))))
