"""CLIP's ModifiedResNet as a per-frame video backbone, optionally with T1D."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.model import BaseModule

from ..temporal import TemporalConv1d
from .clip_weights import load_into, load_visual_state_dict, vision_config


@MODELS.register_module()
class CLIPResNet(BaseModule):
    """CLIP ResNet (open_clip's ModifiedResNet) applied to every frame.

    Input ``(B, 3, T, H, W)``; output per-frame embeddings ``(B, T, D)``
    from CLIP's attention pooling. With ``t1d_stages`` the residual branch
    of every bottleneck in those stages starts with an identity-initialised
    channel-wise temporal convolution (the paper's T1D, res4-5 = stages
    (3, 4)), stored as ``layer{s}.{i}.temporal``.

    Args:
        arch (str | dict): open_clip name (``'RN50'``, ``'RN101'``, ...) or
            a dict with ``embed_dim, image_size, layers (4-tuple), width``
            and optionally ``heads``. Defaults to 'RN50'.
        pretrained (str, optional): open_clip tag, local file or None.
            Defaults to None.
        num_frames (int): Frames per clip T. Defaults to 8.
        t1d_stages (Sequence[int]): Stages (1-4) that get T1D. Defaults to
            () (no temporal modelling inside the backbone).
        frozen_stages (int): -1 trains all; 0 freezes the stem; k also
            freezes ``layer1..layerk``. Defaults to -1.
        norm_eval (bool): Keep BatchNorm in eval mode when training.
            Defaults to False.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'RN50',
                 pretrained: Optional[str] = None,
                 num_frames: int = 8,
                 t1d_stages: Sequence[int] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        cfg = vision_config(arch)
        if not isinstance(cfg.get('layers'), (list, tuple)):
            raise ValueError(f'{arch!r} is not a CLIP ResNet; use CLIPViT')
        self.arch, self.pretrained = arch, pretrained
        self.num_frames = num_frames
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self.embed_dim = cfg['embed_dim']
        width = cfg['width']
        from open_clip.modified_resnet import ModifiedResNet  # heavy import
        self.net = ModifiedResNet(
            layers=cfg['layers'],
            output_dim=cfg['embed_dim'],
            heads=cfg.get('heads', width * 32 // 64),
            image_size=cfg['image_size'],
            width=width)
        for stage in t1d_stages:
            for block in getattr(self.net, f'layer{stage}'):
                block.temporal = TemporalConv1d(block.conv1.in_channels,
                                                num_frames)
                # the residual branch starts at conv1; the identity path
                # (the block's input) stays untouched
                block.conv1.register_forward_pre_hook(block.temporal.pre_hook)
        self._freeze_stages()

    def init_weights(self) -> None:
        """Load ``pretrained`` CLIP weights (if any), then ``init_cfg``."""
        if self.pretrained:
            state_dict = load_visual_state_dict(self.arch, self.pretrained)
            load_into(self.net, state_dict)
            MMLogger.get_current_instance().info(
                f'CLIPResNet: loaded {self.pretrained} ({self.arch})')
        super().init_weights()

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [m for n, m in self.net.named_children()
                  if n[:-1] in ('conv', 'bn')]
        frozen += [getattr(self.net, f'layer{i}')
                   for i in range(1, self.frozen_stages + 1)]
        for module in frozen:
            module.eval()
            for name, param in module.named_parameters():
                if '.temporal.' not in f'.{name}':
                    param.requires_grad_(False)

    def train(self, mode: bool = True) -> 'CLIPResNet':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B, 3, T, H, W)`` -> per-frame embeddings ``(B, T, D)``."""
        B, C, T, H, W = x.shape
        if T != self.num_frames:
            raise ValueError(f'got {T} frames, built for num_frames='
                             f'{self.num_frames}')
        frames = x.transpose(1, 2).reshape(B * T, C, H, W)  # (B*T, 3, H, W)
        return self.net(frames).view(B, T, -1)
