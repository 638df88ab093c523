"""Shared part of the video heads: frame features -> one video embedding."""
import torch
from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList

VIEW_FUSIONS = ('embedding', 'score')


class BaseVideoHead(BaseHead):
    """Temporal fusion and multi-view fusion in front of a classifier.

    Accepts the per-frame embeddings of the CLIP backbones ``(B, T, D)`` as
    well as feature maps of other mmaction2 backbones, ``(B, C, T, H, W)``
    (e.g. ResNet3d, Swin) or ``(B, C, H, W)``, which are average-pooled over
    space first; ``(B, D)`` is taken as one frame. B counts views
    (videos x clips x crops).

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
        **kwargs: ``loss_cls``, ``average_clips``, ``label_smooth_eps``,
            ``topk``, ``init_cfg`` for :class:`BaseHead`.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 temporal: dict = dict(type='TemporalAveragePooling'),
                 view_fusion: str = 'embedding',
                 **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        if view_fusion not in VIEW_FUSIONS:
            raise ValueError(f'view_fusion must be one of {VIEW_FUSIONS}, '
                             f'got {view_fusion!r}')
        self.view_fusion = view_fusion
        self.temporal = MODELS.build(
            temporal, default_args=dict(embed_dim=in_channels))

    @staticmethod
    def frame_features(x: torch.Tensor) -> torch.Tensor:
        """Bring backbone outputs to ``(B, T, D)``."""
        if x.ndim == 5:  # (B, C, T, H, W)
            return x.mean(dim=(3, 4)).transpose(1, 2)
        if x.ndim == 4:  # (B, C, H, W)
            return x.mean(dim=(2, 3)).unsqueeze(1)
        if x.ndim == 2:  # (B, D)
            return x.unsqueeze(1)
        return x

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features -> video embeddings ``(B, D)``."""
        return self.temporal(self.frame_features(x))

    def classify(self, emb: torch.Tensor) -> torch.Tensor:
        """Video embeddings ``(B, D)`` -> logits ``(B, K)``."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Backbone features -> fp32 logits ``(B, K)`` (also under bf16
        autocast: mmaction's loss and metrics convert them to numpy)."""
        return self.classify(self.embed(x)).float()

    def predict(self, feats: torch.Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        """Score the views of each video, fused per ``view_fusion``."""
        emb = self.embed(feats)  # (N * V, D)
        if self.view_fusion == 'embedding':
            N = len(data_samples)
            emb = emb.view(N, emb.shape[0] // N, -1).mean(dim=1)  # (N, D)
        return self.predict_by_feat(
            self.classify(emb).float(), data_samples)
