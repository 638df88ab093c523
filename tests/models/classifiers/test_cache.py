"""The classifier cache is content-addressed and best-effort."""
import json

import numpy as np
import pytest
import torch

from t4v_mmaction.models.classifiers import (TextClassifier,
                                             classifier_cache_key,
                                             load_classifier)

NAMES = ['abseiling', 'playing guitar', 'drinking beer']
TINY_CLIP = dict(
    embed_dim=16,
    vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=16,
                    head_width=16),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2,
                  layers=1))


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    path = tmp_path / 'cache'
    monkeypatch.setenv('T4V_CACHE_DIR', str(path))
    return path


def _tiny_weights(tmp_path, seed):
    import open_clip
    config = tmp_path / 'tiny.json'
    config.write_text(json.dumps(TINY_CLIP))
    torch.manual_seed(seed)
    weights = tmp_path / 'tiny.pth'
    torch.save(open_clip.CLIP(**TINY_CLIP).state_dict(), weights)
    return str(config), str(weights)


def test_text_cache_follows_the_content_of_the_weights(tmp_path, cache_dir):
    config, weights = _tiny_weights(tmp_path, seed=0)
    spec = dict(type='text', classes=NAMES, model=config, pretrained=weights)
    first = load_classifier(spec)
    key = classifier_cache_key(spec)
    _tiny_weights(tmp_path, seed=1)  # other weights at the same path
    assert classifier_cache_key(spec) != key
    second = load_classifier(spec)
    assert not torch.allclose(first.weight, second.weight)
    assert second.meta['cache_key'] == classifier_cache_key(spec)


def test_text_cache_follows_the_class_file(tmp_path, cache_dir):
    config, _ = _tiny_weights(tmp_path, seed=0)
    names = tmp_path / 'names.txt'
    names.write_text('\n'.join(NAMES) + '\n')
    spec = dict(type='text', classes=str(names), model=config)
    key = classifier_cache_key(spec)
    names.write_text('\n'.join(NAMES[::-1]) + '\n')
    assert classifier_cache_key(spec) != key


def _lda_config(tmp_path, weights, labels):
    """An LDA spec's config: a tiny CLIPViT with a pretrained file, the
    video list with ``labels``."""
    from _tiny_models import TINY_VIT
    from _tiny_video_data import make_tiny_videos
    from mmengine.config import Config
    root = str(tmp_path / 'videos')
    ann_file = make_tiny_videos(root, num_videos=len(labels),
                                num_classes=max(labels) + 1, num_frames=8)
    with open(ann_file) as f:
        paths = [line.split()[0] for line in f]
    with open(ann_file, 'w') as f:
        f.writelines(f'{p} {y}\n' for p, y in zip(paths, labels))
    pipeline = [
        dict(type='DecordInit'),
        dict(type='UniformSample', clip_len=2, num_clips=1, test_mode=True),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ]
    cfg = Config(dict(
        default_scope='mmaction',
        model=dict(
            type='Recognizer3D',
            backbone=dict(type='CLIPViT', arch=TINY_VIT, num_frames=2,
                          pretrained=weights),
            cls_head=dict(type='FrozenClassifierHead', num_classes=None,
                          in_channels=TINY_VIT['embed_dim'],
                          classifier=dict(type='lda', config='itself')),
            data_preprocessor=dict(
                type='ActionDataPreprocessor', mean=[127.5] * 3,
                std=[127.5] * 3, format_shape='NCTHW')),
        test_pipeline=pipeline,
        train_dataloader=dict(batch_size=2, dataset=dict(
            type='VideoDataset', ann_file=ann_file,
            data_prefix=dict(video=root), pipeline=[]))))
    path = str(tmp_path / 'lda_cfg.py')
    cfg.dump(path)
    return path, ann_file


def test_lda_cache_follows_weights_and_labels(tmp_path, cache_dir):
    from mmaction.registry import MODELS
    from _tiny_models import TINY_VIT
    torch.manual_seed(0)
    backbone = MODELS.build(dict(type='CLIPViT', arch=TINY_VIT))
    weights = str(tmp_path / 'backbone.pth')
    torch.save(backbone.state_dict(), weights)
    config, ann_file = _lda_config(tmp_path, weights, [0, 1, 2] * 3)
    spec = dict(type='lda', config=config, num_per_class=3, num_workers=0,
                progress=False)
    first = load_classifier(spec)
    key = classifier_cache_key(spec)
    assert first.meta['cache_key'] == key
    # other backbone weights at the same path: another classifier
    with torch.no_grad():
        for p in backbone.parameters():
            p.add_(torch.randn_like(p))
    torch.save(backbone.state_dict(), weights)
    assert classifier_cache_key(spec) != key
    assert not torch.allclose(load_classifier(spec).weight, first.weight)
    # other labels in the same list: another classifier
    key = classifier_cache_key(spec)
    with open(ann_file) as f:
        lines = f.read().splitlines()
    with open(ann_file, 'w') as f:
        f.writelines(f'{line.split()[0]} {i % 3}\n'
                     for i, line in enumerate(reversed(lines)))
    assert classifier_cache_key(spec) != key


@pytest.mark.parametrize('broken', ['file-as-dir', 'unwritable'])
def test_unusable_cache_warns_once_and_builds(tmp_path, monkeypatch, broken):
    from t4v_mmaction.models.classifiers import cache
    monkeypatch.setattr(cache, '_WARNED', set())
    logged = []
    monkeypatch.setattr(cache, 'print_log',
                        lambda msg, *args, **kwargs: logged.append(msg))
    if broken == 'file-as-dir':
        target = tmp_path / 'a-file'
        target.write_text('not a folder')
        monkeypatch.setenv('T4V_CACHE_DIR', str(target))
    else:
        monkeypatch.setenv('T4V_CACHE_DIR', str(tmp_path / 'ro'))

        def read_only(*args, **kwargs):
            raise OSError(30, 'Read-only file system')

        monkeypatch.setattr(cache, 'save_classifier', read_only)
    config, _ = _tiny_weights(tmp_path, seed=0)
    spec = dict(type='text', classes=NAMES, model=config)
    clf = load_classifier(spec)
    again = load_classifier(spec)
    assert clf.weight.shape == (3, 16) and clf.path is None
    assert torch.equal(clf.weight, again.weight)
    assert torch.equal(clf.weight, TextClassifier(
        NAMES, config, cache=False).compute())
    assert len([m for m in logged if 'not usable' in m]) == 1


def test_features_npz_change_changes_the_lda_key(tmp_path, cache_dir):
    x = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    y = np.repeat(np.arange(3), 4)
    path = tmp_path / 'f.npz'
    np.savez(path, features=x, labels=y)
    spec = dict(type='lda', features=str(path))
    key = classifier_cache_key(spec)
    np.savez(path, features=x + 1, labels=y)
    assert classifier_cache_key(spec) != key
