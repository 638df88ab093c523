"""Every kind of frozen classifier trains end to end through the recognizer
(tiny model): the spec is built at model construction, the loss is finite,
the trained parameters move and the classifier does not."""
import json

import numpy as np
import pytest
import torch
from _tiny_models import TINY_VIT
from mmengine.optim import build_optim_wrapper
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

NAMES = ['playing guitar', 'riding a bike', 'drinking beer']
TINY_CLIP = dict(
    embed_dim=32,  # = the video embedding: no projection needed
    vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=16,
                    head_width=16),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2,
                  layers=1))


def spec_of(kind, tmp_path):
    if kind == 'text':  # a tiny random-weight open_clip text tower
        path = tmp_path / 'tiny-clip.json'
        path.write_text(json.dumps(TINY_CLIP))
        return dict(type='text', classes=NAMES, model=str(path))
    if kind == 'lm':  # the real offline MiniLM (384-d: projected)
        return dict(type='lm', classes=NAMES)
    if kind == 'lda':
        rng = np.random.default_rng(0)
        labels = np.repeat(np.arange(3), 10)
        feats = rng.normal(size=(30, 32)) + labels[:, None]
        path = str(tmp_path / 'feats.npz')
        np.savez(path, features=feats, labels=labels)
        return dict(type='lda', features=path, classes=NAMES)
    return dict(type=kind, dim=32, seed=0)


@pytest.mark.parametrize('kind',
                         ['text', 'lm', 'lda', 'random', 'orthogonal'])
def test_every_classifier_kind_trains(kind, tmp_path, monkeypatch):
    monkeypatch.setenv('T4V_CACHE_DIR', str(tmp_path / 'cache'))
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='Text4VisRecognizer',
            backbone=dict(type='CLIPViT', arch=TINY_VIT, num_frames=2),
            cls_head=dict(
                type='FrozenClassifierHead',
                num_classes=3,
                in_channels=32,
                classifier=spec_of(kind, tmp_path),
                temporal=dict(type='TemporalTransformer', num_layers=1)),
            data_preprocessor=dict(
                type='ActionDataPreprocessor', format_shape='NCTHW')))
    optim_wrapper = build_optim_wrapper(
        model, dict(optimizer=dict(type='AdamW', lr=1e-3,
                                   weight_decay=0.2)))
    classifier = model.cls_head.classifier.clone()
    before = model.backbone.proj.detach().clone()
    gen = torch.Generator().manual_seed(0)
    data = dict(
        inputs=[torch.rand(1, 3, 2, 32, 32, generator=gen) * 255
                for _ in range(3)],
        data_samples=[ActionDataSample().set_gt_label(i) for i in range(3)])
    losses = model.train_step(data, optim_wrapper)
    assert torch.isfinite(losses['loss_cls'])
    assert not torch.equal(model.backbone.proj, before)
    assert torch.equal(model.cls_head.classifier, classifier)
    assert (model.cls_head.proj is not None) == (kind == 'lm')
