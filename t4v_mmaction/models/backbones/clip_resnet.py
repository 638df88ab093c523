"""CLIP's ModifiedResNet as a per-frame video backbone, optionally with T1D."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.logging import MMLogger

from ..temporal_mixers import TemporalConv1d
from ..utils.clip_source import resolve_clip_source
from ..utils.state_dict import load_state_dict_exactly, strip_prefix
from .clip_vit import modified_resnet_config, new_backbone
from .per_frame_backbone import PerFrameBackbone


@MODELS.register_module()
class CLIPResNet(PerFrameBackbone):
    """CLIP ResNet (open_clip's ModifiedResNet) applied to every frame.

    Input clips ``(B, 3, T, H, W)`` or frames ``(N, 3, H, W)``; output the
    embeddings of CLIP's attention pooling, ``(B, T, D)`` by default (see
    :class:`~.per_frame_backbone.PerFrameBackbone` for ``output_format``).
    With ``t1d_stages`` the residual branch of every bottleneck in those
    stages starts with an identity-initialised channel-wise temporal
    convolution (the paper's T1D, res4-5 = stages (3, 4)), stored as
    ``layer{s}.{i}.temporal``.

    An architecture it does not compute itself (a convolutional timm tower
    such as ConvNeXt or MobileCLIP's FastViT) gives an
    :class:`~.OpenCLIPVisual` with the same arguments.

    Args:
        arch (str | dict): open_clip name (``'RN50'``, ``'RN101'``, ...),
            config file / model folder, or a dict with ``embed_dim,
            image_size, layers (4-tuple), width`` and optionally ``heads``.
            Defaults to 'RN50'.
        pretrained (str, optional): open_clip tag, local weights file or
            model folder, or None. Defaults to None.
        num_frames (int): Frames per clip T. Defaults to 8.
        t1d_stages (Sequence[int]): Stages (1-4) that get T1D. Defaults to
            () (no temporal modelling inside the backbone).
        frozen_stages (int): -1 trains all; 0 freezes the stem; k also
            freezes ``layer1..layerk``. Defaults to -1.
        norm_eval (bool): Keep BatchNorm in eval mode when training.
            Defaults to False.
        output_format (str): ``'frames'``, ``'feature_map'`` or
            ``'pooled'``. Defaults to ``'frames'``.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    default_arch = 'RN50'

    def __new__(cls, *args, **kwargs):
        return new_backbone(cls, args, kwargs)

    def __init__(self,
                 arch: Union[str, dict] = 'RN50',
                 pretrained: Optional[str] = None,
                 num_frames: int = 8,
                 t1d_stages: Sequence[int] = (),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 output_format: str = 'frames',
                 init_cfg: Optional[dict] = None):
        super().__init__(output_format, init_cfg=init_cfg)
        # the ResNet has no GELU: the activation decision is moot here
        self.source = resolve_clip_source(arch, pretrained)
        cfg = self.source.vision_cfg
        if not modified_resnet_config(cfg):
            raise ValueError(f'{arch!r} is not a CLIP ResNet '
                             '(ModifiedResNet); use CLIPViT for a ViT')
        self.arch, self.pretrained = arch, pretrained
        self.num_frames = num_frames
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self.embed_dim = self.source.embed_dim
        width = cfg['width']
        from open_clip.modified_resnet import ModifiedResNet  # heavy import
        self.net = ModifiedResNet(
            layers=cfg['layers'],
            output_dim=self.embed_dim,
            heads=width * 32 // cfg.get('head_width', 64),
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
            state_dict = self.source.visual_state_dict()
            if any(k.startswith('net.') for k in state_dict):
                state_dict = strip_prefix(state_dict, 'net.')  # ours
            load_state_dict_exactly(self.net, state_dict,
                                    self.source.fetch(),
                                    new_modules=('temporal', ),
                                    target=f'{self.arch!r} '
                                    f'({type(self).__name__})')
            MMLogger.get_current_instance().info(
                f'CLIPResNet: loaded {self.source.describe()}')
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
        super().train(mode)  # re-freezes the frozen stages
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    @property
    def has_temporal_modules(self) -> bool:
        return any(hasattr(block, 'temporal') for block in self.net.modules())

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """frames ``(N, 3, H, W)`` -> ``(N, D)``."""
        return self.net(frames)
