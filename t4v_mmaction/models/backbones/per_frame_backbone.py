"""What every per-frame video backbone of this package shares: how clips
and frames come in, and how embeddings go out to a head."""
from typing import Optional

import torch
from mmengine.model import BaseModule

__all__ = ['PerFrameBackbone', 'OUTPUT_FORMATS']

#: ``output_format`` values and the heads they suit.
OUTPUT_FORMATS = ('frames', 'feature_map', 'pooled')


class PerFrameBackbone(BaseModule):
    """An image encoder applied to every frame of a clip.

    Input: clips ``(B, 3, T, H, W)`` (mmaction2's ``Recognizer3D``,
    ``NCTHW``) or frames ``(N, 3, H, W)`` (``Recognizer2D``, ``NCHW``: the
    frames of a video, T at a time, one video after another). With
    in-backbone temporal modules, T is ``num_frames`` and N must be a
    multiple of it.

    Output, by ``output_format``:

    * ``'frames'`` (default): per-frame embeddings ``(B, T, D)`` for clips,
      ``(N, D)`` for frames; for this package's heads, which fuse the frames
      (TAP, T-Trans) and accept all three formats;
    * ``'feature_map'``: ``(B, D, T, 1, 1)`` / ``(N, D, 1, 1)``, for
      mmaction2's heads that pool feature maps (``I3DHead``, ``SlowFastHead``,
      ``X3DHead`` on clips; ``TSNHead``, ``TSMHead`` on frames);
    * ``'pooled'``: the mean over frames ``(B, D)`` / per frame ``(N, D)``,
      for heads on vectors (``TimeSformerHead``, ``UniFormerHead``,
      ``TSNHead(spatial_type=None)``).

    Subclasses implement :meth:`encode_frames` and set ``embed_dim``,
    ``num_frames`` and ``has_temporal_modules``.

    Args:
        output_format (str): See above. Defaults to ``'frames'``.
        init_cfg (dict, optional): mmengine init config.
    """
    embed_dim: int
    num_frames: int

    def __init__(self, output_format: str = 'frames',
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if output_format not in OUTPUT_FORMATS:
            raise ValueError(f'output_format must be one of {OUTPUT_FORMATS},'
                             f' got {output_format!r}')
        self.output_format = output_format

    @property
    def has_temporal_modules(self) -> bool:
        """Whether frames of a video interact inside the backbone."""
        return False

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """frames ``(N, 3, H, W)`` (N = videos x T) -> ``(N, D)``."""
        raise NotImplementedError

    def _freeze_stages(self) -> None:
        """Stop the gradients of the frozen stages (``frozen_stages``);
        run again by every :meth:`train`."""

    def train(self, mode: bool = True) -> 'PerFrameBackbone':
        super().train(mode)
        self._freeze_stages()
        return self

    def _check_frames(self, fits: bool, what: str) -> None:
        if self.has_temporal_modules and not fits:
            raise ValueError(
                f'got {what}, but the temporal modules were built for '
                f'num_frames={self.num_frames}')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips ``(B, 3, T, H, W)`` or frames ``(N, 3, H, W)`` -> see the
        class docstring."""
        if x.ndim == 5:
            B, C, T, H, W = x.shape
            self._check_frames(T == self.num_frames, f'{T} frames')
            frames = x.transpose(1, 2).reshape(B * T, C, H, W)
            emb = self.encode_frames(frames).view(B, T, -1)  # (B, T, D)
            if self.output_format == 'feature_map':
                return emb.transpose(1, 2)[..., None, None]  # (B, D, T, 1, 1)
            if self.output_format == 'pooled':
                return emb.mean(dim=1)  # (B, D)
            return emb
        if x.ndim != 4:
            raise ValueError(f'expected clips (B, 3, T, H, W) or frames '
                             f'(N, 3, H, W), got shape {list(x.shape)}')
        self._check_frames(x.shape[0] % self.num_frames == 0,
                           f'{x.shape[0]} frames in the batch')
        emb = self.encode_frames(x)  # (N, D)
        if self.output_format == 'feature_map':
            return emb[..., None, None]  # (N, D, 1, 1)
        return emb
