"""A recognizer as one tensor function, for export and benchmarking."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from t4v_mmaction.models.heads import BaseVideoHead
from t4v_mmaction.models.utils.views import fuse_views

__all__ = ['FusedRecognizer']


class FusedRecognizer(nn.Module):
    """Normalise -> backbone -> head -> view fusion -> softmax, on tensors.

    The same computation as ``Recognizer3D.test_step`` on a packed batch,
    without data samples, so it can be traced (ONNX) and timed. The frozen
    classifier stays a buffer, i.e. a constant of the exported graph.

    Views are fused as the head's ``view_fusion``: ``'embedding'`` averages
    the video embeddings of the views, then classifies; ``'score'`` fuses the
    per-view logits as ``average_clips`` (``'prob'``: mean of softmaxes,
    otherwise softmax of the mean).

    Args:
        recognizer (nn.Module): A recognizer with ``backbone``, a
            :class:`BaseVideoHead` ``cls_head`` and an
            ``ActionDataPreprocessor`` (``NCTHW``); it should be in eval
            mode.
        num_views (int): Views V per video (clips x crops). Defaults to 1.

    Inputs: ``frames (N, V, 3, T, H, W)`` float RGB in 0..255 (the test
    pipeline's output). Output: probabilities ``(N, K)``.
    """

    def __init__(self, recognizer: nn.Module, num_views: int = 1):
        super().__init__()
        head = recognizer.cls_head
        if not isinstance(head, BaseVideoHead):
            raise TypeError('FusedRecognizer needs a BaseVideoHead head '
                            f'(FrozenClassifierHead, LinearVideoHead), got '
                            f'{type(head).__name__}')
        if num_views < 1:
            raise ValueError(f'num_views must be >= 1, got {num_views}')
        if hasattr(head, 'build_classifier'):
            head.build_classifier()  # a constant of the graph from now on
        pre = recognizer.data_preprocessor
        self.backbone = recognizer.backbone
        self.head = head
        self.num_views = num_views
        self.to_rgb = bool(getattr(pre, 'to_rgb', False))
        mean = getattr(pre, 'mean', None)
        std = getattr(pre, 'std', None)
        shape = (1, 3, 1, 1, 1)
        self.register_buffer(
            'mean', torch.zeros(shape) if mean is None else
            mean.detach().float().reshape(shape))  # (1, 3, 1, 1, 1)
        self.register_buffer(
            'std', torch.ones(shape) if std is None else
            std.detach().float().reshape(shape))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """``(N, V, 3, T, H, W)`` 0..255 -> probabilities ``(N, K)``."""
        x = frames.flatten(0, 1)  # (N * V, 3, T, H, W)
        if self.to_rgb:
            x = x.flip(1)
        x = (x - self.mean) / self.std
        emb = self.head.embed(self.backbone(x))  # (N * V, D)
        N, V = frames.shape[0], self.num_views
        if self.head.view_fusion == 'embedding':
            emb = fuse_views(emb, N)  # (N, D)
            return F.softmax(self.head.classify(emb), dim=-1)
        logits = self.head.classify(emb)
        logits = logits.reshape(N, V, logits.shape[-1])  # (N, V, K)
        if self.head.average_clips == 'prob':
            return F.softmax(logits, dim=-1).mean(dim=1)
        return F.softmax(logits.mean(dim=1), dim=-1)
