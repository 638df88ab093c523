"""Tiny random-weight configs and checkpoints for the inference, demo,
benchmark and export tests (configs inherit the real ones, so the override
is all that differs)."""
import json
import os.path as osp
from typing import Optional, Sequence, Union

import torch
from _tiny_models import TINY_VIT

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
K400 = osp.join(REPO, 'configs', 'text4vis', 'kinetics400')
B16_CONFIG = osp.join(
    K400, 'text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py')
DEMO_CONFIG = osp.join(
    K400, 'text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb_demo.py')
DEMO_VIDEO = osp.join(REPO, '..', 'shared', 'data', 'videos', 'demo.mp4')

# A random open_clip CLIP whose text tower is 2 layers of width 32; the real
# tokenizer, so any class name works.
TINY_CLIP = dict(
    embed_dim=TINY_VIT['embed_dim'],
    vision_cfg=dict(
        image_size=32, layers=1, width=32, patch_size=16, head_width=16),
    text_cfg=dict(
        context_length=77, vocab_size=49408, width=32, heads=2, layers=2))

TINY_TEST_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SegmentSampleFrames', num_segments=4, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 36), interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]


def write_label_file(path, names: Sequence[str]) -> str:
    with open(path, 'w') as f:
        f.write('\n'.join(names) + '\n')
    return str(path)


def write_tiny_config(tmp_path,
                      class_names: Union[str, Sequence[str]],
                      classifier: str = 'text',
                      base: str = B16_CONFIG,
                      test_pipeline: Optional[list] = None,
                      num_frames: int = 4) -> str:
    """A config file inheriting ``base`` with a tiny random model.

    Args:
        class_names: A label file or a list of names (the classifier's).
        classifier: ``'text'`` (tiny random CLIP text tower), ``'lm'``
            (the offline MiniLM), ``'file'`` (a random ``[K, 32]`` tensor
            file, no names) or ``'config'`` (keep the base config's
            classifier and ``num_classes``; ``class_names`` is unused).
        test_pipeline: Defaults to 4 segments, 32 x 32.
        num_frames: The backbone's T (match the pipeline's).
    """
    clip_json = osp.join(str(tmp_path), 'tiny-clip.json')
    with open(clip_json, 'w') as f:
        json.dump(TINY_CLIP, f)
    if classifier == 'text':
        spec = dict(type='text', model=clip_json, pretrained=None,
                    class_names=class_names)
    elif classifier == 'lm':
        spec = dict(type='lm', class_names=class_names, templates=['{}'])
    elif classifier == 'config':
        spec = None
    elif classifier == 'file':
        path = osp.join(str(tmp_path), 'classifier.pt')
        gen = torch.Generator().manual_seed(1)
        torch.save(torch.randn(len(class_names), 32, generator=gen), path)
        spec = path
    else:
        raise ValueError(classifier)
    if isinstance(spec, dict):
        spec = dict(_delete_=True, **spec)
    head = ''
    if spec is not None:
        num_classes = None if isinstance(class_names, str) else \
            len(class_names)
        head = f'num_classes={num_classes!r}, classifier={spec!r},'
    text = f"""_base_ = [{base!r}]
model = dict(
    backbone=dict(arch=dict(_delete_=True, **{TINY_VIT!r}), pretrained=None,
                  num_frames={num_frames}),
    cls_head=dict(
        {head}
        in_channels={TINY_VIT['embed_dim']},
        temporal=dict(type='TemporalTransformer', num_layers=1)))
test_pipeline = {test_pipeline or TINY_TEST_PIPELINE!r}
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
"""
    path = osp.join(str(tmp_path), f'tiny_{classifier}.py')
    with open(path, 'w') as f:
        f.write(text)
    return path


def save_random_checkpoint(model: torch.nn.Module, path, seed: int = 0) -> str:
    """Re-draw every parameter from a seeded normal (so a checkpoint differs
    from a fresh build) and save ``{'state_dict': ...}``."""
    gen = torch.Generator().manual_seed(seed)
    state = {
        k: (torch.randn(v.shape, generator=gen) * 0.02 +
            (1. if k.endswith('weight') and v.ndim == 1 else 0.))
        if v.is_floating_point() else v
        for k, v in model.state_dict().items()
    }
    torch.save({'state_dict': state}, str(path))
    return str(path)
