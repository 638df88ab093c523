"""T-Trans: the temporal transformer over frame embeddings (Text4Vis)."""
from typing import Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from ..layers import ResidualAttentionBlock


@MODELS.register_module()
class TemporalTransformer(nn.Module):
    """Frame-level transformer, then residual to the frame features and mean.

    As the original: learned absolute frame position embeddings, pre-LN
    blocks (QuickGELU, LayerNorm eps 1e-12), Linear/Embedding weights
    ~ N(0, 0.02) with zero biases, and the output
    ``mean_t(transformer(x + pos)_t + x_t)``. Parameter names match the
    original's ``fusion_model`` so its checkpoints convert by prefix.

    Args:
        embed_dim (int): Frame embedding width D.
        num_layers (int): Blocks. Defaults to 6.
        num_heads (int, optional): Heads; defaults to ``embed_dim // 64``
            (8 for ViT-B, 12 for ViT-L, as the original). The original
            uses CLIP's *text* width // 64, which differs only for RN50
            (1024-d video embeddings, 512-d text): pass 8 there.
        max_frames (int): Size of the position table. Defaults to 77.
    """

    def __init__(self,
                 embed_dim: int,
                 num_layers: int = 6,
                 num_heads: Optional[int] = None,
                 max_frames: int = 77):
        super().__init__()
        num_heads = num_heads or max(embed_dim // 64, 1)
        self.frame_position_embeddings = nn.Embedding(max_frames, embed_dim)
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.Sequential(*[
            ResidualAttentionBlock(embed_dim, num_heads, ln_eps=1e-12)
            for _ in range(num_layers)
        ])
        self.apply(self._init_module)

    @staticmethod
    def _init_module(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, 'bias', None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B, T, D)`` frame embeddings -> ``(B, D)``."""
        T = x.shape[1]
        pos = self.frame_position_embeddings.weight[:T]  # (T, D)
        y = self.transformer.resblocks(x + pos)  # (B, T, D)
        return (y + x).mean(dim=1)
