"""A checkpoint of another architecture is refused with a message naming
the difference, instead of mmengine's silent partial load."""
import copy
import os.path as osp
import re

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

from mmaction.registry import MODELS

HERE = osp.dirname(osp.abspath(__file__))
TINY_CFG = osp.join(HERE, 'configs', 'tiny_clipvit_videos.py')


@pytest.fixture(scope='module')
def model_cfg():
    return Config.fromfile(TINY_CFG).model


def _build(model_cfg, width=64, layers=2, temporal=None, **kwargs):
    cfg = copy.deepcopy(model_cfg)
    cfg.backbone.arch.update(width=width, layers=layers)
    if temporal is not None:
        cfg.cls_head.temporal = temporal
    cfg.update(kwargs)
    torch.manual_seed(width + layers)
    return MODELS.build(cfg)


def _save(model, path):
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


def test_other_width_and_depth_is_refused(model_cfg, tmp_path):
    ckpt = _save(_build(model_cfg, width=96, layers=3), tmp_path / 'big.pth')
    model = _build(model_cfg)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError) as info:
        load_checkpoint(model, ckpt)
    message = str(info.value)
    assert 'backbone: the checkpoint has width 96 x 3 layers, the model ' \
        '64 x 2' in message
    assert 'the checkpoint has backbone.transformer.resblocks.2.* ' \
        '(12 tensors) but the model has no such weights' in message
    assert 'shape of backbone.conv1.weight: checkpoint [96, 3, 8, 8], ' \
        'model [64, 3, 8, 8]' in message
    assert 'strict_load=False' in message
    # nothing was loaded
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_temporal_module_mismatch_is_named(model_cfg, tmp_path):
    ttrans = _save(_build(model_cfg), tmp_path / 'ttrans.pth')
    tap = _build(model_cfg, temporal=dict(type='TemporalAveragePooling'))
    with pytest.raises(
            ValueError,
            match=re.escape(
                'the checkpoint has cls_head.temporal.* (13 tensors) but '
                "the model's cls_head.temporal is a TemporalAveragePooling "
                'without these weights')):
        load_checkpoint(tap, ttrans)
    deeper = _build(
        model_cfg, temporal=dict(type='TemporalTransformer', num_layers=3))
    with pytest.raises(ValueError) as info:
        load_checkpoint(deeper, ttrans)
    assert 'cls_head: the checkpoint has width 32 x 1 layers, the model ' \
        '32 x 3' in str(info.value)
    assert 'the checkpoint lacks ' \
        'cls_head.temporal.transformer.resblocks.{1..2}.* (24 tensors)' \
        in str(info.value)
    tap_ckpt = _save(tap, tmp_path / 'tap.pth')
    with pytest.raises(
            ValueError,
            match=re.escape("the checkpoint lacks cls_head.temporal.* (the "
                            "model's TemporalTransformer) (13 tensors)")):
        load_checkpoint(_build(model_cfg), tap_ckpt)


def test_runner_load_from_refuses_a_foreign_checkpoint(model_cfg, tmp_path):
    ckpt = _save(_build(model_cfg, layers=1), tmp_path / 'shallow.pth')
    cfg = Config.fromfile(TINY_CFG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = ckpt
    with pytest.raises(ValueError, match='width 64 x 1 layers, the model '
                       '64 x 2'):
        Runner.from_cfg(cfg).load_or_resume()
    torch.use_deterministic_algorithms(False)  # set by the recipe


def test_fitting_checkpoints_load_exactly(model_cfg, tmp_path):
    source = _build(model_cfg)
    ckpt = _save(source, tmp_path / 'same.pth')
    # another seed, and a 3-class classifier: the classifier is a
    # non-persistent buffer, so the same weights serve any label set
    other = _build(model_cfg, layers=2)
    other_head = copy.deepcopy(model_cfg)
    other_head.cls_head.update(
        num_classes=3,
        classifier=dict(type='random', num_classes=3, dim=32, seed=1))
    torch.manual_seed(7)
    zero_shot = MODELS.build(other_head)
    for target in (other, zero_shot):
        load_checkpoint(target, ckpt)
        for key, value in source.state_dict().items():
            assert torch.equal(target.state_dict()[key], value), key
    # an old checkpoint holding non-persistent buffers is still accepted
    state = source.state_dict()
    state['data_preprocessor.mean'] = torch.zeros(3, 1, 1, 1)
    state['cls_head.classifier'] = torch.zeros(2, 32)
    _build(model_cfg).load_state_dict(state, strict=False)
    # a parent module: the recognizer sees its own prefix
    wrapped = nn.Sequential(_build(model_cfg))
    wrapped.load_state_dict({f'0.{k}': v for k, v in state.items()},
                            strict=False)
    with pytest.raises(ValueError, match='width 64 x 1 layers'):
        wrapped.load_state_dict(
            {f'0.{k}': v
             for k, v in _build(model_cfg, layers=1).state_dict().items()})


def test_strict_load_false_restores_partial_loading(model_cfg, tmp_path):
    ckpt = _save(_build(model_cfg, layers=1), tmp_path / 'shallow.pth')
    model = _build(model_cfg, strict_load=False)
    load_checkpoint(model, ckpt)  # mmengine warns about the missing keys
    shallow = torch.load(ckpt, weights_only=True)['state_dict']
    assert torch.equal(model.state_dict()['backbone.conv1.weight'],
                       shallow['backbone.conv1.weight'])


def test_not_a_recognizer_checkpoint(model_cfg, tmp_path):
    path = tmp_path / 'clip.pt'
    torch.save({'visual.conv1.weight': torch.zeros(64, 3, 8, 8)}, path)
    with pytest.raises(ValueError,
                       match=r"none of the checkpoint's 1 keys is in the "
                       r"model \(its keys start with \['visual'\]\)"):
        load_checkpoint(_build(model_cfg), str(path))
