"""Architecture lookup and pretrained weights for the CLIP visual towers.

Architectures and weights come from open_clip: an architecture is an open_clip
model name (``'ViT-B-16'``; OpenAI spellings such as ``'ViT-B/16'`` and
``'ViT-L/14-336px'`` are accepted) or an explicit dict of dimensions.
``pretrained`` is an open_clip tag (``'openai'``, ``'laion2b_s34b_b88k'``), a
local file (an OpenAI TorchScript ``.pt`` archive, an open_clip or mmengine
state dict, or an original Text4Vis checkpoint), or None for random weights.
"""
import os.path as osp
import zipfile
from typing import Optional, Union

import torch
import torch.nn.functional as F


def normalize_arch_name(name: str) -> str:
    """``'ViT-B/16'`` -> ``'ViT-B-16'``, ``'ViT-L/14@336px'`` ->
    ``'ViT-L-14-336'``."""
    name = name.replace('@', '-').replace('/', '-')
    return name[:-2] if name.endswith('px') else name


def vision_config(arch: Union[str, dict]) -> dict:
    """Return ``dict(embed_dim=..., **vision_cfg)`` for an architecture."""
    if isinstance(arch, dict):
        return dict(arch)
    import open_clip
    name = normalize_arch_name(arch)
    cfg = open_clip.get_model_config(name)
    if cfg is None:
        known = [m for m in open_clip.list_models() if m.startswith('ViT')
                 or m.startswith('RN')]
        raise ValueError(f'Unknown CLIP architecture {arch!r}; open_clip '
                         f'knows e.g. {known[:12]}')
    return dict(embed_dim=cfg['embed_dim'], **cfg['vision_cfg'])


def default_act_layer(arch: Union[str, dict],
                      pretrained: Optional[str]) -> str:
    """QuickGELU for OpenAI weights (and random init), else what the open_clip
    tag was trained with."""
    if isinstance(arch, str):
        name = normalize_arch_name(arch)
        if name.endswith('-quickgelu'):
            return 'quick_gelu'
        if pretrained and not osp.isfile(pretrained):
            import open_clip
            tag_cfg = open_clip.get_pretrained_cfg(name, pretrained) or {}
            return 'quick_gelu' if tag_cfg.get('quick_gelu') else 'gelu'
    return 'quick_gelu'


_VISUAL_PREFIXES = ('module.', 'visual.', 'backbone.')


def _strip_prefixes(state_dict: dict) -> dict:
    """Keep the visual tower's keys, without wrapper prefixes."""
    for prefix in _VISUAL_PREFIXES:
        if any(k.startswith(prefix) for k in state_dict):
            state_dict = {
                k[len(prefix):]: v
                for k, v in state_dict.items() if k.startswith(prefix)
            }
    return state_dict


def _read_file(path: str) -> dict:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            torchscript = any(n.endswith('constants.pkl') for n in
                              zf.namelist())
        if torchscript:  # an OpenAI CLIP archive
            return torch.jit.load(path, map_location='cpu').state_dict()
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    for key in ('state_dict', 'model_state_dict', 'model'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
            break
    if not isinstance(ckpt, dict):
        raise ValueError(f'{path} does not hold a state dict')
    return ckpt


def load_visual_state_dict(arch: Union[str, dict], pretrained: str) -> dict:
    """Visual-tower weights with keys as in OpenAI's ``VisionTransformer`` /
    ``ModifiedResNet`` (``conv1.weight``, ``transformer.resblocks.0...``)."""
    if osp.isfile(pretrained):
        return _strip_prefixes(_read_file(pretrained))
    if isinstance(arch, dict):
        raise ValueError(f'pretrained={pretrained!r} is not a file, and an '
                         'open_clip tag needs a named architecture')
    import open_clip
    model = open_clip.create_model(normalize_arch_name(arch), pretrained)
    return model.visual.state_dict()


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


def load_into(module: torch.nn.Module, state_dict: dict,
              new_module_keys: tuple = ('temporal', )) -> None:
    """Load ``state_dict`` into ``module``; every parameter must be covered
    except the new (temporal) ones, else a clear error names the mismatch."""
    own = module.state_dict()
    mismatched = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in state_dict.items() if k in own and v.shape != own[k].shape
    ]
    missing = [
        k for k in own if k not in state_dict and not any(
            f'{n}.' in k or k.startswith(f'{n}.') for n in new_module_keys)
    ]
    unexpected = [k for k in state_dict if k not in own]
    if mismatched or missing or unexpected:
        raise ValueError(
            'The pretrained weights do not match the architecture:\n'
            f'  shape mismatches: {mismatched[:5]}\n'
            f'  missing: {missing[:5]}{" ..." if len(missing) > 5 else ""}\n'
            f'  unexpected: {unexpected[:5]}'
            f'{" ..." if len(unexpected) > 5 else ""}')
    module.load_state_dict(state_dict, strict=False)
