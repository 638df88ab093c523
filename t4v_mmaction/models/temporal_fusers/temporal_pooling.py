"""TAP: temporal average pooling of frame embeddings."""
from typing import Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS


@MODELS.register_module()
class TemporalAveragePooling(nn.Module):
    """Mean over frames: ``(B, T, D)`` -> ``(B, D)``.

    Args:
        embed_dim (int, optional): Unused; accepted so that every temporal
            module is built with the same arguments. Defaults to None.
    """

    def __init__(self, embed_dim: Optional[int] = None):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)
