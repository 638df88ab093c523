"""Any open_clip image tower as a per-frame video backbone.

SigLIP / SigLIP 2, PE-Core, EVA-02, MobileCLIP 2, ConvNeXt, ... : whatever
``open_clip`` builds as ``model.visual`` (mostly timm trunks) runs on every
frame, exactly as open_clip's ``encode_image``.
"""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.logging import MMLogger

from ..utils.clip_source import CLIPSource, resolve_clip_source
from ..utils.state_dict import load_state_dict_exactly
from .per_frame_backbone import PerFrameBackbone

__all__ = ['OpenCLIPVisual']


def _blocks(tower: nn.Module) -> Optional[List[nn.Module]]:
    """The transformer blocks of a tower, in order (None: not a
    transformer: a convolutional or hybrid tower)."""
    trunk = getattr(tower, 'trunk', None)
    if trunk is not None:  # open_clip TimmModel
        blocks = getattr(trunk, 'blocks', None)
        return list(blocks) if isinstance(
            blocks, (nn.Sequential, nn.ModuleList)) else None
    transformer = getattr(tower, 'transformer', None)
    blocks = getattr(transformer, 'resblocks', None)
    return list(blocks) if blocks is not None else None


def _has_class_token(tower: nn.Module) -> bool:
    trunk = getattr(tower, 'trunk', None)
    if trunk is not None:
        return getattr(trunk, 'cls_token', None) is not None
    return getattr(tower, 'class_embedding', None) is not None


def _mixing_hook(module: nn.Module, args: tuple, kwargs: dict):
    """Forward pre-hook: the block's temporal mixer on its input tokens."""
    return (module.temporal(args[0]), ) + tuple(args[1:]), kwargs


@MODELS.register_module()
class OpenCLIPVisual(PerFrameBackbone):
    """open_clip's image tower of any CLIP family, applied to every frame.

    Input clips ``(B, 3, T, H, W)`` or frames ``(N, 3, H, W)``; output the
    tower's projected embeddings (open_clip's ``encode_image``), ``(B, T,
    D)`` by default (see :class:`~.per_frame_backbone.PerFrameBackbone`).
    ``CLIPViT`` / ``CLIPResNet`` given an architecture that they do not
    compute themselves build this instead. The tower's own modules live
    under ``tower`` (``tower.trunk.*`` for timm towers).

    In-backbone temporal mixers (``TokenShift``, ``TokenT1D``) mix the
    [class] token of the frames of a video before every block (or every
    block of ``temporal_layers``); they need a transformer tower with a
    class token (EVA-02, PE-Core, open_clip's own ViTs). SigLIP's towers
    pool by attention without a class token, and convolutional towers
    (ConvNeXt, MobileCLIP's FastViT) have no tokens: there, model time in
    the head (TAP, T-Trans).

    Args:
        arch (str | dict): An open_clip model name (``'PE-Core-B-16'``,
            ``'ViT-B-16-SigLIP2'``, ``'EVA02-B-16'``, ``'MobileCLIP2-S2'``,
            ``'convnext_base_w'``, ...), config file, model folder or config
            dict (see :func:`~t4v_mmaction.models.utils.resolve_clip_source`).
        pretrained (str, optional): open_clip tag, local weights file or
            model folder, or None. Loaded in ``init_weights``. Defaults to
            None.
        num_frames (int): Frames per clip T. Defaults to 8.
        temporal (dict, optional): In-backbone temporal mixer, e.g.
            ``dict(type='TokenT1D')``. Defaults to None.
        temporal_layers (list[int], optional): Blocks that get it. Defaults
            to all.
        quick_gelu (bool, optional): For open_clip's own transformer towers
            (timm towers fix their activation). Defaults to None.
        drop_path_rate (float, optional): Stochastic depth of timm towers
            (their ``drop_path_rate``). Defaults to None, the config's.
        frozen_stages (int): -1 trains everything; k >= 0 freezes the stem
            and the first k blocks (timm's parameter groups) except the
            temporal mixers. Defaults to -1.
        grad_checkpointing (bool): The tower's gradient checkpointing.
            Defaults to False.
        output_format (str): See ``PerFrameBackbone``. Defaults to
            ``'frames'``.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 arch: Union[str, dict],
                 pretrained: Optional[str] = None,
                 num_frames: int = 8,
                 temporal: Optional[dict] = None,
                 temporal_layers: Optional[list] = None,
                 quick_gelu: Optional[bool] = None,
                 drop_path_rate: Optional[float] = None,
                 frozen_stages: int = -1,
                 grad_checkpointing: bool = False,
                 output_format: str = 'frames',
                 init_cfg: Optional[dict] = None):
        super().__init__(output_format, init_cfg=init_cfg)
        self.source: CLIPSource = resolve_clip_source(arch, pretrained,
                                                      quick_gelu)
        self.arch, self.pretrained = arch, pretrained
        self.num_frames = num_frames
        self.frozen_stages = frozen_stages
        self.embed_dim = self.source.embed_dim
        self.tower = self._build_tower(drop_path_rate)
        self._temporal_blocks: List[nn.Module] = []
        if temporal:
            self._add_temporal(temporal, temporal_layers)
        if grad_checkpointing:
            self.tower.set_grad_checkpointing(True)
        self._freeze_stages()

    def _build_tower(self, drop_path_rate: Optional[float]) -> nn.Module:
        from open_clip.model import _build_vision_tower
        vision_cfg = self.source.vision_cfg
        if not vision_cfg:
            raise ValueError(f'{self.arch!r} has no visual tower')
        if drop_path_rate is not None:
            if not vision_cfg.get('timm_model_name'):
                raise ValueError('drop_path_rate is for timm towers; '
                                 f'{self.arch!r} is not one')
            vision_cfg['timm_drop_path'] = drop_path_rate
        return _build_vision_tower(self.source.embed_dim, vision_cfg,
                                   self.source.quick_gelu)

    def _add_temporal(self, temporal: dict,
                      temporal_layers: Optional[list]) -> None:
        blocks = _blocks(self.tower)
        if blocks is None:
            raise ValueError(
                f'{self.arch!r} is a convolutional tower: TokenShift and '
                'TokenT1D mix the [class] token of a transformer; model '
                'time in the head instead (TemporalAveragePooling, '
                'TemporalTransformer)')
        if not _has_class_token(self.tower):
            raise ValueError(
                f'{self.arch!r} has no [class] token (it pools its patch '
                'tokens by attention, as SigLIP does): TokenShift and '
                'TokenT1D mix the [class] token; model time in the head '
                'instead (TemporalAveragePooling, TemporalTransformer)')
        trunk = getattr(self.tower, 'trunk', None)
        width = trunk.embed_dim if trunk is not None else \
            self.tower.transformer.width
        layers = range(len(blocks)) if temporal_layers is None else \
            temporal_layers
        for i in layers:
            block = blocks[i]
            block.temporal = MODELS.build(
                temporal, default_args=dict(width=width,
                                            num_frames=self.num_frames))
            block.register_forward_pre_hook(_mixing_hook, with_kwargs=True)
            self._temporal_blocks.append(block)

    @property
    def has_temporal_modules(self) -> bool:
        return bool(self._temporal_blocks)

    def init_weights(self) -> None:
        """Load ``pretrained`` weights (if any), then ``init_cfg``."""
        if self.pretrained:
            load_state_dict_exactly(
                self.tower, self.source.visual_state_dict(),
                self.source.fetch(), new_modules=('temporal', ),
                target=f'{self.arch!r} (open_clip visual tower)')
            MMLogger.get_current_instance().info(
                f'OpenCLIPVisual: loaded {self.source.describe()}')
        super().init_weights()

    def _stem_and_blocks(self) -> List[List[nn.Parameter]]:
        """Parameters by stage: the stem, then one group per block."""
        trunk = getattr(self.tower, 'trunk', None)
        if trunk is not None and hasattr(trunk, 'group_matcher'):
            from timm.models import group_parameters
            groups = group_parameters(trunk, trunk.group_matcher())
            names = dict(trunk.named_parameters())
            return [[names[n] for n in groups[k]] for k in sorted(groups)]
        blocks = _blocks(self.tower)
        if blocks is None:
            raise ValueError(f'frozen_stages is not supported for '
                             f'{self.arch!r}')
        in_blocks = {id(p) for b in blocks for p in b.parameters()}
        stem = [p for n, p in self.tower.named_parameters()
                if id(p) not in in_blocks and not n.startswith(
                    ('ln_post', 'proj', 'attn_pool', 'head'))]
        return [stem] + [list(b.parameters()) for b in blocks]

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        temporal = {id(p) for b in self._temporal_blocks
                    for p in b.temporal.parameters()}
        for group in self._stem_and_blocks()[:self.frozen_stages + 1]:
            for param in group:
                if id(param) not in temporal:
                    param.requires_grad_(False)

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """frames ``(N, 3, H, W)`` -> ``(N, D)``, open_clip's
        ``encode_image`` without normalisation."""
        return self.tower(frames)
