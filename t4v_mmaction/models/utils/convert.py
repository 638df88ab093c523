"""Key mapping from original Text4Vis checkpoints to t4v_mmaction models.

The original code (``whwu95/Text4Vis``) saves a ``VideoCLIP`` with the keys
``visual.*`` (the CLIP image tower), ``fusion_model.*`` (the video head: the
T-Trans, or nothing for TAP) and ``logit_scale``; TokenT1D adds
``visual.transformer.resblocks.{i}.control_point.conv.weight``. Its
contrastive trainer (``utils.utils.epoch_saving``) saves the full CLIP,
text tower included, as ``model_state_dict`` and the head without prefix as
``fusion_model_state_dict``. Everything here is a pure function on dicts of
tensors, so it is used by ``tools/convert_text4vis_checkpoint.py`` and
tested without any checkpoint file.

Name mapping (after stripping a ``module.`` prefix)::

    visual.X                             -> backbone.X      (CLIPViT)
    visual.X                             -> backbone.net.X  (CLIPResNet)
    visual...resblocks.{i}.control_point -> backbone...resblocks.{i}.temporal
    fusion_model.X                       -> cls_head.temporal.X
    logit_scale                          -> cls_head.logit_scale
    transformer.*, token_embedding.*, positional_embedding, ln_final.*,
    text_projection                      -> dropped (text tower)
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional

import torch

__all__ = [
    'CheckpointConversionError', 'flatten_text4vis_checkpoint',
    'convert_text4vis_state_dict', 'dropped_keys', 'describe_architecture',
    'format_architecture', 'group_keys', 'ORIGINAL_TTRANS_HEADS'
]

#: CLIP visual towers by (width, layers, patch size, input size).
KNOWN_VITS = {
    (768, 12, 32, 224): 'ViT-B/32',
    (768, 12, 16, 224): 'ViT-B/16',
    (1024, 24, 14, 224): 'ViT-L/14',
    (1024, 24, 14, 336): 'ViT-L/14-336px',
}
#: CLIP ResNets by (blocks per stage, stem width).
KNOWN_RESNETS = {
    ((3, 4, 6, 3), 64): 'RN50',
    ((3, 4, 23, 3), 64): 'RN101',
    ((4, 6, 10, 6), 80): 'RN50x4',
    ((6, 8, 18, 8), 96): 'RN50x16',
    ((3, 15, 36, 10), 128): 'RN50x64',
}
#: Heads of the original T-Trans: CLIP's *text* width // 64, which is not
#: always the video embedding width // 64 (RN50: 512-d text, 1024-d video).
ORIGINAL_TTRANS_HEADS = {
    'RN50': 8,
    'RN101': 8,
    'RN50x4': 10,
    'RN50x16': 12,
    'RN50x64': 16,
    'ViT-B/32': 8,
    'ViT-B/16': 8,
    'ViT-L/14': 12,
    'ViT-L/14-336px': 12,
}

_TEXT_TOWER = ('transformer.', 'token_embedding.', 'positional_embedding',
               'ln_final.', 'text_projection', 'input_resolution',
               'context_length', 'vocab_size')
_RESNET_KEY = re.compile(r'^visual\.layer\d+\.')
_CONTROL_POINT = re.compile(r'(transformer\.resblocks\.\d+\.)control_point\.')


class CheckpointConversionError(ValueError):
    """A checkpoint cannot be converted (unknown layout or keys)."""


def _strip_module(state_dict: dict) -> Dict[str, torch.Tensor]:
    """Remove the ``module.`` prefix that DDP-wrapped saves carry."""
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state_dict.items())


def flatten_text4vis_checkpoint(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """One original-layout state dict from any original checkpoint layout.

    Args:
        checkpoint (dict): What ``torch.load`` returned: ``train.py``'s
            ``{'epoch', 'model_state_dict', 'optimizer_state_dict'}``, the
            contrastive code's layout that adds ``fusion_model_state_dict``
            (head keys without prefix), or a bare state dict.

    Returns:
        dict: Keys ``visual.*``, ``fusion_model.*``, ``logit_scale`` (and
        text-tower keys if present), without ``module.`` prefixes.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointConversionError(
            f'expected a dict, got {type(checkpoint).__name__}')
    if 'state_dict' in checkpoint and 'model_state_dict' not in checkpoint:
        keys = list(checkpoint['state_dict'])
        if any(k.startswith(('backbone.', 'cls_head.')) for k in keys):
            raise CheckpointConversionError(
                'this is already a t4v_mmaction (mmengine) checkpoint: its '
                f'state_dict has keys like {keys[0]!r}')
        raise CheckpointConversionError(
            'an mmengine-style checkpoint ({"state_dict": ...}) is not an '
            'original Text4Vis checkpoint (expected "model_state_dict" or '
            'a bare state dict with "visual.*" keys)')
    if 'model_state_dict' in checkpoint:
        state_dict = _strip_module(checkpoint['model_state_dict'])
        head = checkpoint.get('fusion_model_state_dict')
        if head:
            for key, value in _strip_module(head).items():
                if key.startswith('fusion_model.'):
                    key = key[len('fusion_model.'):]
                state_dict[f'fusion_model.{key}'] = value
    else:
        state_dict = _strip_module(checkpoint)
    bad = [k for k, v in state_dict.items() if not torch.is_tensor(v)]
    if bad:
        raise CheckpointConversionError(
            f'not a state dict: {bad[:3]} are not tensors (top-level keys: '
            f'{list(checkpoint)[:6]})')
    return state_dict


def dropped_keys(state_dict: dict) -> List[str]:
    """Keys of the CLIP text tower, which the video model does not have."""
    return [
        k for k in _strip_module(state_dict) if k.startswith(_TEXT_TOWER)
    ]


def _is_resnet(state_dict: dict) -> bool:
    return any(_RESNET_KEY.match(k) for k in state_dict)


def _convert_visual_key(key: str, resnet: bool) -> str:
    rest = key[len('visual.'):]
    if '.net.' in f'.{rest}':
        raise CheckpointConversionError(
            f'{key!r} comes from a TSM model (tm="tsm" or tm=True wraps '
            'layers in TemporalShift .net); t4v_mmaction has no TSM, so '
            'this checkpoint cannot be reproduced')
    if rest == 'time_embedding':
        raise CheckpointConversionError(
            f'{key!r} comes from the joint space-time model (joint_st), '
            'which t4v_mmaction does not implement')
    if resnet:
        return f'backbone.net.{rest}'
    return 'backbone.' + _CONTROL_POINT.sub(r'\1temporal.', rest)


def convert_text4vis_state_dict(state_dict: dict) -> Dict[str, torch.Tensor]:
    """Rename an original Text4Vis state dict to t4v_mmaction's keys.

    Args:
        state_dict (dict): Original-layout keys (``visual.*``,
            ``fusion_model.*``, ``logit_scale``, optionally with
            ``module.``); see :func:`flatten_text4vis_checkpoint` for the
            checkpoint layouts. Text-tower keys are dropped
            (:func:`dropped_keys` lists them).

    Returns:
        dict: Keys of a ``Recognizer3D`` with a ``CLIPViT`` / ``CLIPResNet``
        backbone and a ``FrozenClassifierHead`` (``backbone.*``,
        ``cls_head.temporal.*``, ``cls_head.logit_scale``). Tensors are
        shared, not copied.

    Raises:
        CheckpointConversionError: On keys of no known part of the model,
            TSM or joint space-time checkpoints, or no visual keys at all.
    """
    state_dict = _strip_module(state_dict)
    resnet = _is_resnet(state_dict)
    out, unknown = OrderedDict(), []
    for key, value in state_dict.items():
        if key.startswith('visual.'):
            out[_convert_visual_key(key, resnet)] = value
        elif key.startswith('fusion_model.'):
            out['cls_head.temporal.' + key[len('fusion_model.'):]] = value
        elif key == 'logit_scale':
            out['cls_head.logit_scale'] = value
        elif not key.startswith(_TEXT_TOWER):
            unknown.append(key)
    if unknown:
        raise CheckpointConversionError(
            f'{len(unknown)} keys belong to no known part of a Text4Vis '
            f'model, e.g. {unknown[:5]}')
    if not any(k.startswith('backbone.') for k in out):
        raise CheckpointConversionError(
            'no visual encoder keys ("visual.*") found; first keys: '
            f'{list(state_dict)[:5]}')
    return out


def _blocks(keys: List[str], prefix: str) -> List[int]:
    pattern = re.compile(re.escape(prefix) + r'(\d+)\.')
    return sorted({int(m.group(1)) for k in keys for m in [pattern.match(k)]
                   if m})


def describe_architecture(state_dict: dict) -> dict:
    """What a state dict (original or t4v_mmaction layout) was built as.

    Args:
        state_dict (dict): Original keys (``visual.*``) or ours
            (``backbone.*``, ``cls_head.*``).

    Returns:
        dict: ``backbone`` ('ViT' / 'ResNet' / None), ``name`` (e.g.
        'ViT-B/16', or None when not a known CLIP tower), ``width``,
        ``layers`` (int, or 4-tuple for ResNets), ``patch_size``,
        ``image_size``, ``embed_dim``, ``backbone_temporal`` ('TokenT1D',
        'T1D' or None), ``temporal_blocks`` (block indices / ResNet block
        names with it), ``head_temporal`` ('T-Trans' or 'TAP'),
        ``head_layers``, ``head_width`` and ``max_frames``.
    """
    if any(k.startswith(('visual.', 'fusion_model.', 'module.'))
           for k in state_dict):
        state_dict = convert_text4vis_state_dict(state_dict)
    keys = list(state_dict)
    desc = dict(backbone=None, name=None, width=None, layers=None,
                patch_size=None, image_size=None, embed_dim=None,
                backbone_temporal=None, temporal_blocks=[],
                head_temporal='TAP', head_layers=0, head_width=None,
                max_frames=None)
    if 'backbone.conv1.weight' in state_dict and \
            'backbone.proj' in state_dict:
        conv = state_dict['backbone.conv1.weight']
        width, patch = conv.shape[0], conv.shape[-1]
        grid = round((state_dict['backbone.positional_embedding'].shape[0] -
                      1)**0.5)
        layers = len(_blocks(keys, 'backbone.transformer.resblocks.'))
        desc.update(backbone='ViT', width=width, layers=layers,
                    patch_size=patch, image_size=grid * patch,
                    embed_dim=state_dict['backbone.proj'].shape[1])
        desc['name'] = KNOWN_VITS.get((width, layers, patch, grid * patch))
        t1d = [
            k.split('.')[3] for k in keys
            if k.startswith('backbone.transformer.resblocks.')
            and k.endswith('.temporal.conv.weight')
        ]
        if t1d:
            desc.update(backbone_temporal='TokenT1D',
                        temporal_blocks=sorted(int(i) for i in t1d))
    elif 'backbone.net.layer1.0.conv1.weight' in state_dict:
        layers = tuple(
            len(_blocks(keys, f'backbone.net.layer{s}.')) for s in range(1, 5))
        width = state_dict['backbone.net.layer1.0.conv1.weight'].shape[0]
        pos = state_dict.get('backbone.net.attnpool.positional_embedding')
        desc.update(backbone='ResNet', width=width, layers=layers)
        if pos is not None:
            desc['image_size'] = round((pos.shape[0] - 1)**0.5) * 32
        c_proj = state_dict.get('backbone.net.attnpool.c_proj.weight')
        if c_proj is not None:
            desc['embed_dim'] = c_proj.shape[0]
        desc['name'] = KNOWN_RESNETS.get((layers, width))
        t1d = [
            '.'.join(k.split('.')[2:4]) for k in keys
            if k.startswith('backbone.net.layer')
            and k.endswith('.temporal.conv.weight')
        ]
        if t1d:
            desc.update(backbone_temporal='T1D', temporal_blocks=t1d)
    pos = state_dict.get('cls_head.temporal.frame_position_embeddings.weight')
    if pos is not None:
        desc.update(
            head_temporal='T-Trans',
            head_layers=len(
                _blocks(keys, 'cls_head.temporal.transformer.resblocks.')),
            max_frames=pos.shape[0],
            head_width=pos.shape[1])
    return desc


def format_architecture(desc: dict, part: str = 'all') -> str:
    """Human-readable summary of :func:`describe_architecture`'s dict.

    Args:
        desc (dict): The description.
        part (str): 'backbone', 'temporal' (in-backbone module), 'head'
            or 'all'. Defaults to 'all'.

    Returns:
        str: e.g. ``'ViT-B/16 (width 768, 12 layers)'``.
    """
    if desc['backbone'] is None:
        backbone = 'no known visual encoder'
    else:
        layers = desc['layers']
        layers = f'{layers} layer{"s" * (layers != 1)}' if isinstance(
            layers, int) else f'blocks {layers}'
        backbone = (f"{desc['name'] or 'custom ' + desc['backbone']} "
                    f"(width {desc['width']}, {layers}")
        if desc['patch_size']:
            backbone += f", patch {desc['patch_size']}"
        backbone += f", {desc['image_size']}px, {desc['embed_dim']}-d)"
    if desc['backbone_temporal']:
        temporal = (f"{desc['backbone_temporal']} in "
                    f"{len(desc['temporal_blocks'])} blocks")
    else:
        temporal = 'no in-backbone temporal module'
    if desc['head_temporal'] == 'T-Trans':
        head = (f"T-Trans ({desc['head_layers']} layers, width "
                f"{desc['head_width']}, {desc['max_frames']} positions)")
    else:
        head = 'TAP (no head parameters)'
    parts = dict(backbone=backbone, temporal=temporal, head=head)
    if part == 'all':
        return ' + '.join(parts.values())
    return parts[part]


def group_keys(keys: List[str], limit: Optional[int] = 8) -> List[str]:
    """Summarise keys by module, with block indices collapsed.

    ``a.resblocks.{0..5}.attn.*`` and ``a.resblocks.{0..5}.mlp.*`` become
    ``'a.resblocks.*.{attn,mlp} (n keys)'``; ``b.ln.weight`` and
    ``b.ln.bias`` become ``'b.ln.{bias,weight} (2 keys)'``.

    Args:
        keys (list[str]): State-dict keys.
        limit (int, optional): Most groups to return. Defaults to 8.

    Returns:
        list[str]: One entry per group, largest groups first.
    """
    groups: Dict[str, list] = OrderedDict()
    for key in keys:
        pattern = re.sub(r'\.\d+(?=\.)', '.*', key)
        if '.*.' in pattern:
            head, tail = pattern.split('.*.', 1)
            parent, child = f'{head}.*', tail.split('.')[0]
        else:
            parent, _, child = pattern.rpartition('.')
        entry = groups.setdefault(parent, [set(), 0])
        entry[0].add(child)
        entry[1] += 1
    out = []
    for parent, (children, count) in sorted(
            groups.items(), key=lambda kv: -kv[1][1]):
        children = sorted(children)
        name = children[0] if len(children) == 1 else \
            '{' + ','.join(children) + '}'
        out.append(f'{parent}.{name}' if parent else name)
        if count > 1:
            out[-1] += f' ({count} keys)'
    if limit is not None and len(out) > limit:
        out = out[:limit] + [f'... and {len(out) - limit} more groups']
    return out
