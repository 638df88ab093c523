"""CLIP ViT as a per-frame video backbone (Text4Vis)."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch.utils.checkpoint import checkpoint

from ..layers import ResidualAttentionBlock
from .clip_weights import (default_act_layer, load_into,
                           load_visual_state_dict, resize_pos_embed,
                           vision_config)


@MODELS.register_module()
class CLIPViT(BaseModule):
    """CLIP vision transformer applied to every frame of a clip.

    `Revisiting Classifier: Transferring Vision-Language Models for Video
    Recognition <https://arxiv.org/abs/2207.01297>`_

    Input ``(B, 3, T, H, W)`` (mmaction's ``NCTHW``); output the per-frame
    embeddings in CLIP's projected space, ``(B, T, D)``
    (``[class]`` -> ``ln_post`` -> ``proj``). Parameter names are OpenAI's,
    so CLIP / open_clip weights load as they are; new temporal modules live
    under ``transformer.resblocks.{i}.temporal``.

    Args:
        arch (str | dict): open_clip model name (``'ViT-B-16'``,
            ``'ViT-L-14-336'``, ``'ViT-B/32'``, ...) or a dict with
            ``embed_dim, image_size, layers, width, patch_size`` and
            optionally ``head_width`` (64) and ``mlp_ratio`` (4.0).
            Defaults to 'ViT-B-16'.
        pretrained (str, optional): open_clip tag, local weights file, or
            None for random initialisation. Loaded in ``init_weights``.
            Defaults to None.
        num_frames (int): Frames per clip T. Defaults to 8.
        temporal (dict, optional): In-backbone temporal module for the
            [class] token, e.g. ``dict(type='TokenT1D')`` or
            ``dict(type='TokenShift')``, inserted in every block (or in
            ``temporal_layers``). Defaults to None.
        temporal_layers (list[int], optional): Blocks that get the temporal
            module. Defaults to all.
        act_layer (str, optional): 'quick_gelu' or 'gelu'; by default
            what the weights were trained with (QuickGELU for OpenAI).
        drop_path_rate (float): Stochastic depth, linear over depth.
            Defaults to 0.
        frozen_stages (int): -1 trains everything; 0 freezes the patch and
            position embeddings; k >= 1 also freezes blocks ``< k``; ``k ==
            layers`` freezes the whole CLIP tower (temporal modules stay
            trainable). Defaults to -1.
        grad_checkpointing (bool): Recompute each block in backward to save
            memory. Defaults to False.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'ViT-B-16',
                 pretrained: Optional[str] = None,
                 num_frames: int = 8,
                 temporal: Optional[dict] = None,
                 temporal_layers: Optional[list] = None,
                 act_layer: Optional[str] = None,
                 drop_path_rate: float = 0.,
                 frozen_stages: int = -1,
                 grad_checkpointing: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        cfg = vision_config(arch)
        if isinstance(cfg.get('layers'), (list, tuple)) or \
                cfg.get('patch_size') is None:
            raise ValueError(f'{arch!r} is not a ViT; use CLIPResNet')
        self.arch, self.pretrained = arch, pretrained
        self.num_frames = num_frames
        self.frozen_stages = frozen_stages
        self.grad_checkpointing = grad_checkpointing
        width, layers = cfg['width'], cfg['layers']
        patch, image_size = cfg['patch_size'], cfg['image_size']
        heads = width // cfg.get('head_width', 64)
        self.embed_dim = cfg['embed_dim']
        self.layers = layers

        scale = width**-0.5
        self.conv1 = nn.Conv2d(3, width, patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(
            scale * torch.randn((image_size // patch)**2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        act_layer = act_layer or default_act_layer(arch, pretrained)
        drop_path = torch.linspace(0, drop_path_rate, layers).tolist()
        temporal_layers = range(layers) if temporal_layers is None else \
            temporal_layers
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.ModuleList([
            ResidualAttentionBlock(
                width,
                heads,
                mlp_ratio=cfg.get('mlp_ratio', 4.0),
                act_layer=act_layer,
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
            state_dict = load_visual_state_dict(self.arch, self.pretrained)
            if 'positional_embedding' in state_dict:
                state_dict['positional_embedding'] = resize_pos_embed(
                    state_dict['positional_embedding'],
                    self.positional_embedding.shape[0])
            load_into(self, state_dict)
            MMLogger.get_current_instance().info(
                f'CLIPViT: loaded {self.pretrained} ({self.arch})')
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

    def train(self, mode: bool = True) -> 'CLIPViT':
        super().train(mode)
        self._freeze_stages()
        return self

    def forward_frames(self, x: torch.Tensor) -> torch.Tensor:
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B, 3, T, H, W)`` -> per-frame embeddings ``(B, T, D)``."""
        B, C, T, H, W = x.shape
        if T != self.num_frames and any(
                b.temporal is not None for b in self.transformer.resblocks):
            raise ValueError(f'got {T} frames, but the temporal modules were '
                             f'built for num_frames={self.num_frames}')
        frames = x.transpose(1, 2).reshape(B * T, C, H, W)  # (B*T, 3, H, W)
        return self.forward_frames(frames).view(B, T, -1)
