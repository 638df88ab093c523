"""The vision-only baseline: a learnable linear classifier."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .base_video_head import BaseVideoHead


@MODELS.register_module()
class LinearVideoHead(BaseVideoHead):
    """Temporal fusion, dropout and a randomly initialised linear layer.

    The paper's "vision-only" paradigm (Table 6): same backbone and
    temporal fusion as :class:`FrozenClassifierHead`, but a classifier that
    is learned from scratch.

    Args:
        num_classes (int): Number of classes K.
        in_channels (int): Video embedding width D.
        dropout_ratio (float): Dropout before the classifier. Defaults to 0.
        init_std (float): Std of the classifier's normal init.
            Defaults to 0.02.
        **kwargs: ``temporal``, ``view_fusion`` and :class:`BaseHead`
            arguments.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 dropout_ratio: float = 0.,
                 init_std: float = 0.02,
                 **kwargs):
        kwargs.setdefault('average_clips', 'prob')
        super().__init__(num_classes, in_channels, **kwargs)
        self.dropout = nn.Dropout(dropout_ratio)
        self.fc_cls = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc_cls.weight, std=init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def classify(self, emb: torch.Tensor) -> torch.Tensor:
        """Video embeddings ``(B, D)`` -> logits ``(B, K)``."""
        return self.fc_cls(self.dropout(emb))
