"""Shared part of the video heads: backbone features -> one embedding per
view, views fused per video, then a classifier."""
from typing import Optional

import torch
from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList

from ..utils.views import fuse_views

VIEW_FUSIONS = ('embedding', 'score')


class BaseVideoHead(BaseHead):
    """Temporal fusion and multi-view fusion in front of a classifier.

    Works in mmaction2's recognizers with any backbone:

    * ``Recognizer3D``: one feature per view (clip), ``(B, T, D)`` frame
      embeddings of this package's backbones, or feature maps
      ``(B, C, T, H, W)`` (ResNet3d, SlowOnly, X3D, Swin; pooled over space),
      or ``(B, D)``.
    * ``Recognizer2D``: one feature per frame, ``(N * M, C, H, W)`` (TSN,
      TSM backbones; pooled over space) or ``(N * M, D)``, with the
      recognizer's ``num_segs = M`` frames per video. They are regrouped
      into views of ``num_segments`` frames (M = views x T; default: all M
      frames form one view) before temporal fusion.

    B counts views (videos x clips x crops). Then ``temporal`` fuses the
    frames of each view and, at test time, the views of a video are fused as
    ``view_fusion`` says.

    Args:
        num_classes (int): Number of classes K.
        in_channels (int): Feature width D of the backbone.
        temporal (dict): Temporal fusion, ``(B, T, D)`` -> ``(B, D)``, e.g.
            ``dict(type='TemporalAveragePooling')`` (TAP) or
            ``dict(type='TemporalTransformer')`` (T-Trans); built with
            ``embed_dim=in_channels``. Defaults to TAP.
        view_fusion (str): How test views of one video are fused:
            ``'embedding'`` averages the video embeddings, then scores once
            (the original Text4Vis); ``'score'`` scores every view and lets
            ``average_clips`` fuse them (mmaction2's way). Defaults to
            'embedding'.
        num_segments (int, optional): Frames per view T in a
            ``Recognizer2D`` (as mmaction2's ``TSMHead``). Defaults to None:
            the recognizer's ``num_segs`` frames form one view.
        **kwargs: ``loss_cls``, ``average_clips``, ``label_smooth_eps``,
            ``topk``, ``init_cfg`` for :class:`BaseHead`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 temporal: dict = dict(type='TemporalAveragePooling'),
                 view_fusion: str = 'embedding',
                 num_segments: Optional[int] = None,
                 **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        if view_fusion not in VIEW_FUSIONS:
            raise ValueError(f'view_fusion must be one of {VIEW_FUSIONS}, '
                             f'got {view_fusion!r}')
        self.view_fusion = view_fusion
        self.num_segments = num_segments
        self.temporal = MODELS.build(
            temporal, default_args=dict(embed_dim=in_channels))

    def frame_features(self, x: torch.Tensor,
                       num_segs: Optional[int] = None) -> torch.Tensor:
        """Backbone outputs -> frame embeddings of each view ``(B, T, D)``.

        Args:
            x (torch.Tensor): See the class docstring.
            num_segs (int, optional): Frames per video of a
                ``Recognizer2D`` (its ``num_segs``); None for one feature
                per view.
        """
        if x.ndim == 5:  # (B, C, T, H, W)
            return x.mean(dim=(3, 4)).transpose(1, 2)
        if x.ndim == 4:  # (B, C, H, W)
            x = x.mean(dim=(2, 3))
        elif x.ndim == 3:  # (B, T, D)
            return x
        if num_segs is None:  # one vector per view
            return x.unsqueeze(1)
        frames = self.num_segments or num_segs
        if num_segs % frames or x.shape[0] % frames:
            raise ValueError(
                f'{num_segs} frames per video do not split into views of '
                f'num_segments={frames}')
        return x.view(-1, frames, x.shape[-1])  # (N * views, T, D)

    def embed(self, x: torch.Tensor,
              num_segs: Optional[int] = None) -> torch.Tensor:
        """Backbone features -> view embeddings ``(B, D)``."""
        return self.temporal(self.frame_features(x, num_segs))

    def classify(self, emb: torch.Tensor) -> torch.Tensor:
        """Video embeddings ``(B, D)`` -> logits ``(B, K)``."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, num_segs: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        """Backbone features -> fp32 logits ``(B, K)``, one row per view
        (fp32 also under bf16 autocast: mmaction's loss and metrics convert
        them to numpy)."""
        return self.classify(self.embed(x, num_segs)).float()

    def predict(self, feats: torch.Tensor, data_samples: SampleList,
                num_segs: Optional[int] = None, **kwargs) -> SampleList:
        """Score the views of each video, fused per ``view_fusion``."""
        emb = self.embed(feats, num_segs)  # (N * V, D)
        if self.view_fusion == 'embedding':
            emb = fuse_views(emb, len(data_samples))  # (N, D)
        return self.predict_by_feat(
            self.classify(emb).float(), data_samples)
