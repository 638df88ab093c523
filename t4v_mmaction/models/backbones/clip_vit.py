"""CLIP ViT as a per-frame video backbone (Text4Vis)."""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.logging import MMLogger
from torch.utils.checkpoint import checkpoint

from ..layers import ResidualAttentionBlock
from ..utils.clip_source import resolve_clip_source
from ..utils.state_dict import load_state_dict_exactly
from .open_clip_visual import OpenCLIPVisual
from .per_frame_backbone import PerFrameBackbone

# open_clip VisionTransformer options this implementation computes; a
# config that sets any other one is built by open_clip itself (OpenCLIPVisual)
_NATIVE_OPTIONS = {'layers', 'width', 'head_width', 'mlp_ratio',
                   'patch_size', 'image_size'}


def resize_pos_embed(pos_embed: torch.Tensor, num_tokens: int,
                     num_prefix: int = 1) -> torch.Tensor:
    """Bicubic resize of a ``(1 + g*g, D)`` position table to
    ``num_tokens`` rows (a new input resolution)."""
    if pos_embed.shape[0] == num_tokens:
        return pos_embed
    prefix, grid = pos_embed[:num_prefix], pos_embed[num_prefix:]
    old, new = int(grid.shape[0]**0.5), int((num_tokens - num_prefix)**0.5)
    grid = grid.reshape(1, old, old, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(
        grid.float(), size=(new, new), mode='bicubic', align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(new * new, -1)
    return torch.cat([prefix, grid.to(pos_embed.dtype)])


def modified_resnet_config(vision_cfg: dict) -> bool:
    """Whether a visual config is a CLIP ResNet (``CLIPResNet``)."""
    return isinstance(vision_cfg.get('layers'), (list, tuple)) and \
        not vision_cfg.get('timm_model_name')


def open_clip_only(vision_cfg: dict) -> bool:
    """Whether only open_clip builds this tower (:class:`OpenCLIPVisual`):
    neither an OpenAI-style ViT nor a CLIP ResNet."""
    return not (native_vit_config(vision_cfg)
                or modified_resnet_config(vision_cfg))


def native_vit_config(vision_cfg: dict) -> bool:
    """Whether a visual config is an OpenAI-style ViT that :class:`CLIPViT`
    computes itself (not a timm tower, no options beyond OpenAI's)."""
    if vision_cfg.get('timm_model_name') or isinstance(
            vision_cfg.get('layers'), (list, tuple)):
        return False
    defaults = dict(ls_init_value=None, patch_dropout=0.,
                    attentional_pool=False, no_ln_pre=False,
                    pos_embed_type='learnable', final_ln_after_pool=False,
                    pool_type='tok', output_tokens=False, act_kwargs=None,
                    norm_kwargs=None, block_type=None, qk_norm=False)
    extra = {k: v for k, v in vision_cfg.items()
             if k not in _NATIVE_OPTIONS and defaults.get(k, object()) != v
             and not k.startswith('timm_')}
    return not extra and vision_cfg.get('patch_size') is not None


def new_backbone(cls, args: tuple, kwargs: dict):
    """``cls`` itself for the towers ``CLIPViT`` and ``CLIPResNet`` compute,
    else an :class:`OpenCLIPVisual` (built here) of the same arguments."""
    arch = kwargs.get('arch', args[0] if args else cls.default_arch)
    pretrained = kwargs.get('pretrained', args[1] if len(args) > 1 else None)
    source = resolve_clip_source(arch, pretrained)
    if not open_clip_only(source.vision_cfg):
        return super(PerFrameBackbone, cls).__new__(cls)
    MMLogger.get_current_instance().info(
        f'{cls.__name__}: {arch!r} is not a tower it computes itself; '
        'building open_clip\'s own (OpenCLIPVisual)')
    options = dict(kwargs)
    for key in ('t1d_stages', 'norm_eval'):  # CLIPResNet's own options
        if options.pop(key, None):
            raise ValueError(f'{key} is for CLIP ResNets, not {arch!r}')
    return OpenCLIPVisual(*args, **options)


@MODELS.register_module()
class CLIPViT(PerFrameBackbone):
    """CLIP vision transformer applied to every frame of a clip.

    `Revisiting Classifier: Transferring Vision-Language Models for Video
    Recognition <https://arxiv.org/abs/2207.01297>`_

    Input clips ``(B, 3, T, H, W)`` or frames ``(N, 3, H, W)``; output the
    embeddings in CLIP's projected space (``[class]`` -> ``ln_post`` ->
    ``proj``), ``(B, T, D)`` by default (see
    :class:`~.per_frame_backbone.PerFrameBackbone` for ``output_format``).
    Parameter names are OpenAI's, so CLIP / open_clip weights load as they
    are; new temporal modules live under
    ``transformer.resblocks.{i}.temporal``.

    This is the fast path of OpenAI-style ViTs (``ViT-B-16``, ``ViT-L-14``,
    ...); an architecture it does not compute itself (SigLIP, PE-Core,
    EVA-02, ... any open_clip tower) gives an :class:`~.OpenCLIPVisual`
    with the same arguments.

    Args:
        arch (str | dict): An open_clip model name (``'ViT-B-16'``,
            ``'ViT-L-14-336'``, ``'ViT-B/32'``, ``'PE-Core-B-16'``, ...),
            config file / model folder, or a dict (see
            :func:`~t4v_mmaction.models.utils.resolve_clip_source`).
            Defaults to 'ViT-B-16'.
        pretrained (str, optional): open_clip tag, local weights file or
            model folder, or None for random initialisation. Loaded in
            ``init_weights``. Defaults to None.
        num_frames (int): Frames per clip T. Defaults to 8.
        temporal (dict, optional): In-backbone temporal module for the
            [class] token, e.g. ``dict(type='TokenT1D')`` or
            ``dict(type='TokenShift')``, inserted in every block (or in
            ``temporal_layers``). Defaults to None.
        temporal_layers (list[int], optional): Blocks that get the temporal
            module. Defaults to all.
        quick_gelu (bool, optional): Force QuickGELU / GELU; by default what
            the weights were trained with, decided as for the text
            classifier built from the same weights.
        drop_path_rate (float): Stochastic depth, linear over depth.
            Defaults to 0.
        frozen_stages (int): -1 trains everything; 0 freezes the patch and
            position embeddings; k >= 1 also freezes blocks ``< k``; ``k ==
            layers`` freezes the whole CLIP tower (temporal modules stay
            trainable). Defaults to -1.
        grad_checkpointing (bool): Recompute each block in backward to save
            memory. Defaults to False.
        output_format (str): ``'frames'``, ``'feature_map'`` or
            ``'pooled'``. Defaults to ``'frames'``.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    default_arch = 'ViT-B-16'

    def __new__(cls, *args, **kwargs):
        return new_backbone(cls, args, kwargs)

    def __init__(self,
                 arch: Union[str, dict] = 'ViT-B-16',
                 pretrained: Optional[str] = None,
                 num_frames: int = 8,
                 temporal: Optional[dict] = None,
                 temporal_layers: Optional[list] = None,
                 quick_gelu: Optional[bool] = None,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 grad_checkpointing: bool = False,
                 output_format: str = 'frames',
                 init_cfg: Optional[dict] = None):
        super().__init__(output_format, init_cfg=init_cfg)
        self.source = resolve_clip_source(arch, pretrained, quick_gelu)
        cfg = self.source.vision_cfg
        if modified_resnet_config(cfg):
            raise ValueError(f'{arch!r} is a CLIP ResNet; use CLIPResNet')
        self.arch, self.pretrained = arch, pretrained
        self.num_frames = num_frames
        self.frozen_stages = frozen_stages
        self.grad_checkpointing = grad_checkpointing
        width, layers = cfg['width'], cfg['layers']
        patch, image_size = cfg['patch_size'], cfg['image_size']
        heads = width // cfg.get('head_width', 64)
        self.embed_dim = self.source.embed_dim
        self.layers = layers

        scale = width**-0.5
        self.conv1 = nn.Conv2d(3, width, patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(
            scale * torch.randn((image_size // patch)**2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        drop_path = torch.linspace(0, drop_path_rate, layers).tolist()
        temporal_layers = range(layers) if temporal_layers is None else \
            temporal_layers
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.ModuleList([
            ResidualAttentionBlock(
                width,
                heads,
                mlp_ratio=cfg.get('mlp_ratio', 4.0),
                act_layer=self.source.act_layer,
                drop_path=drop_path[i],
                temporal=MODELS.build(
                    temporal,
                    default_args=dict(width=width, num_frames=num_frames))
                if temporal and i in temporal_layers else None)
            for i in range(layers)
        ])
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, self.embed_dim))
        self._init_clip_blocks(width, layers)
        self._freeze_stages()

    @property
    def has_temporal_modules(self) -> bool:
        return any(b.temporal is not None for b in self.transformer.resblocks)

    def _init_clip_blocks(self, width: int, layers: int) -> None:
        """CLIP's initialisation of the blocks (used without pretrained
        weights)."""
        proj_std = width**-0.5 * (2 * layers)**-0.5
        for block in self.transformer.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=width**-0.5)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=(2 * width)**-0.5)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)

    def init_weights(self) -> None:
        """Load ``pretrained`` CLIP weights (if any), then ``init_cfg``."""
        if self.pretrained:
            state_dict = self.source.visual_state_dict()
            if 'positional_embedding' in state_dict:
                state_dict['positional_embedding'] = resize_pos_embed(
                    state_dict['positional_embedding'],
                    self.positional_embedding.shape[0])
            load_state_dict_exactly(self, state_dict, self.source.fetch(),
                                    new_modules=('temporal', ),
                                    target=f'{self.arch!r} '
                                    f'({type(self).__name__})')
            MMLogger.get_current_instance().info(
                f'CLIPViT: loaded {self.source.describe()}')
        super().init_weights()

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.conv1, self.ln_pre]
        frozen += list(self.transformer.resblocks[:self.frozen_stages])
        if self.frozen_stages >= self.layers:
            frozen.append(self.ln_post)
            self.proj.requires_grad_(False)
        self.class_embedding.requires_grad_(False)
        self.positional_embedding.requires_grad_(False)
        for module in frozen:
            for name, param in module.named_parameters():
                if not name.startswith('temporal.'):
                    param.requires_grad_(False)

    def encode_frames(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(N, 3, H, W)`` frames -> ``(N, D)`` frame embeddings."""
        x = self.conv1(x)  # (N, W, g, g)
        x = x.flatten(2).transpose(1, 2)  # (N, g*g, W)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)  # (N, L, W)
        for block in self.transformer.resblocks:
            if self.grad_checkpointing and self.training:
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.ln_post(x[:, 0]) @ self.proj  # (N, D)
