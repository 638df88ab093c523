import functools
import json
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from t4v_mmaction.models.classifiers import (
    ClassifierFile, ClassifierFormatError, build_classifier,
    build_lda_classifier, build_lm_classifier, build_orthogonal_classifier,
    build_random_classifier, build_text_classifier, classifier_cache_key,
    load_classifier, read_classifier, sample_per_class, save_classifier)
from t4v_mmaction.apis.video_features import pool_video_embeddings
from t4v_mmaction.models.classifiers import TextClassifier
from t4v_mmaction.models.classifiers.text import (encode_prompts,
                                                  load_text_tower)

NAMES = ['abseiling', 'playing guitar', 'drinking beer', 'riding a bike']
PROMPTS = [f'a video of a person {n}.' for n in NAMES]
# A two-layer, 32-wide open_clip CLIP with the real tokenizer and context.
TINY_CLIP = dict(
    embed_dim=16,
    vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=16,
                    head_width=16),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2,
                  layers=2))


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Every test caches under its own tmp dir, never in ~/.cache."""
    path = tmp_path / 'cache'
    monkeypatch.setenv('T4V_CACHE_DIR', str(path))
    return path


@pytest.fixture
def tiny_clip(tmp_path):
    """(model-config JSON path, open_clip CLIP with seeded random weights)."""
    import open_clip
    path = tmp_path / 'tiny-clip.json'
    path.write_text(json.dumps(TINY_CLIP))
    torch.manual_seed(0)
    return str(path), open_clip.CLIP(**TINY_CLIP).eval()


def _open_clip_encode(model, prompts):
    import open_clip
    tokens = open_clip.tokenizer.SimpleTokenizer(context_length=77)(prompts)
    with torch.no_grad():
        return model.encode_text(tokens)


# ----------------------------------------------------------- random / QR
def test_random_classifier_seeded():
    state = torch.random.get_rng_state()
    a = build_random_classifier(400, 512, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert a.shape == (400, 512) and a.dtype == torch.float32
    assert torch.equal(a, build_random_classifier(400, 512, seed=3))
    assert not torch.equal(a, build_random_classifier(400, 512, seed=4))
    assert abs(a.mean().item()) < 0.01 and abs(a.std().item() - 1) < 0.01


def test_orthogonal_classifier_orthonormal_and_seeded():
    w = build_orthogonal_classifier(400, 512, seed=1)
    assert w.shape == (400, 512)
    torch.testing.assert_close(
        w @ w.t(), torch.eye(400), atol=1e-5, rtol=0)
    assert torch.equal(w, build_orthogonal_classifier(400, 512, seed=1))
    assert not torch.equal(w, build_orthogonal_classifier(400, 512, seed=2))
    gaussian = torch.randn(
        512, 512, generator=torch.Generator().manual_seed(1),
        dtype=torch.float64)
    torch.testing.assert_close(w, torch.linalg.qr(gaussian)[0][:400].float())
    with pytest.raises(ValueError, match='num_classes=5 > dim=4'):
        build_orthogonal_classifier(5, 4)


# ------------------------------------------------------------------- LDA
def _blobs(num_classes=4, per_class=30, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (num_classes, dim))
    y = np.repeat(np.arange(num_classes), per_class)
    x = centres[y] + rng.normal(0, 1, (len(y), dim))
    return x.astype(np.float32), y


@pytest.mark.parametrize('solver, shrinkage', [('svd', None),
                                               ('lsqr', 'auto'),
                                               ('eigen', 0.1)])
def test_lda_equals_sklearn(solver, shrinkage):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    x, y = _blobs()
    w = build_lda_classifier(torch.from_numpy(x), torch.from_numpy(y),
                             solver=solver, shrinkage=shrinkage)
    ref = LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage).fit(
        x.astype(np.float64), y)
    assert w.shape == (4, 8)
    assert torch.equal(w, torch.from_numpy(ref.coef_).float())
    # the coefficients classify the training blobs
    assert (x @ w.numpy().T + ref.intercept_).argmax(1).tolist() == \
        ref.predict(x).tolist()


def test_lda_two_classes_gives_opposite_rows():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    x, y = _blobs(num_classes=2)
    w = build_lda_classifier(x, y)
    coef = LinearDiscriminantAnalysis().fit(x.astype(np.float64), y).coef_
    assert w.shape == (2, 8)
    assert torch.equal(w[1], torch.from_numpy(coef[0]).float())
    assert torch.equal(w[0], -w[1])


def test_lda_bad_input():
    x, y = _blobs()
    with pytest.raises(ValueError, match=r'classes without samples: \[4\]'):
        build_lda_classifier(x, y, num_classes=5)
    with pytest.raises(ValueError, match="shrinkage needs solver='lsqr'"):
        build_lda_classifier(x, y, shrinkage=0.1)
    with pytest.raises(ValueError, match='integers'):
        build_lda_classifier(x, y.astype(np.float32))


def test_sample_per_class_deterministic_and_balanced():
    labels = np.array([0] * 100 + [1] * 5 + [2] * 70 + [3] * 60)
    with pytest.warns(UserWarning, match=r'2 classes .*: 1 \(5\), 4 \(0\)'):
        idx = sample_per_class(labels, 60, seed=0, num_classes=5)
    assert idx.tolist() == sorted(idx.tolist())
    assert np.bincount(labels[idx]).tolist() == [60, 5, 60, 60]
    assert len(set(idx.tolist())) == len(idx)
    with pytest.warns(UserWarning):
        assert np.array_equal(idx, sample_per_class(labels, 60, seed=0))
        other = sample_per_class(labels, 60, seed=1)
    assert not np.array_equal(idx, other)
    assert np.bincount(labels[other]).tolist() == [60, 5, 60, 60]


def test_lda_spec_from_features_file(tmp_path):
    x, y = _blobs()
    path = str(tmp_path / 'feats.npz')
    np.savez(path, features=x, labels=y)
    clf = load_classifier(
        dict(type='lda', features=path, classes=['a', 'b', 'c', 'd']),
        num_classes=4)
    assert torch.equal(clf.weight, build_lda_classifier(x, y))
    assert clf.meta['class_names'] == ['a', 'b', 'c', 'd']
    assert clf.meta['kind'] == 'lda' and clf.path.endswith('.pth')


# ------------------------------------------------------- CLIP text tower
def _save_weights(model, path, fmt):
    state_dict = model.state_dict()
    if fmt == 'safetensors':
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in state_dict.items()}, path)
    elif fmt == 'ddp-checkpoint':
        torch.save({'state_dict': {f'module.{k}': v
                                   for k, v in state_dict.items()}}, path)
    else:
        torch.save(state_dict, path)


@pytest.mark.parametrize('fmt', ['state-dict', 'ddp-checkpoint',
                                 'safetensors'])
def test_text_classifier_matches_open_clip_encode_text(tiny_clip, tmp_path,
                                                       fmt):
    config, model = tiny_clip
    ext = 'safetensors' if fmt == 'safetensors' else 'pth'
    weights = str(tmp_path / f'tiny.{ext}')
    _save_weights(model, weights, fmt)
    w = build_text_classifier(NAMES, model=config, pretrained=weights,
                              batch_size=3)
    ref = _open_clip_encode(model, PROMPTS)
    assert w.shape == (4, 16)
    torch.testing.assert_close(w, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.filterwarnings('ignore::torch.jit.TracerWarning')
@pytest.mark.filterwarnings('ignore:`torch.jit.trace_method`:FutureWarning')
def test_text_classifier_reads_openai_torchscript_archive(tmp_path):
    """OpenAI ships TorchScript archives (QuickGELU models), which
    torch.load(weights_only=True), and so open_clip 3.3, refuses."""
    import open_clip
    torch.manual_seed(1)
    model = open_clip.CLIP(**TINY_CLIP, quick_gelu=True).eval()
    tokens = open_clip.tokenizer.SimpleTokenizer()(['x'])
    archive = str(tmp_path / 'openai.pt')
    torch.jit.trace_module(model, {'encode_text': tokens}).save(archive)
    config = str(tmp_path / 'tiny-clip.json')
    with open(config, 'w') as f:
        json.dump(TINY_CLIP, f)
    w = build_text_classifier(NAMES, model=config, pretrained=archive)
    ref = _open_clip_encode(model, PROMPTS)
    torch.testing.assert_close(w, ref, atol=1e-5, rtol=1e-5)
    # the same weights without QuickGELU give other embeddings
    state_dict = str(tmp_path / 'sd.pth')
    torch.save(model.state_dict(), state_dict)
    gelu = build_text_classifier(NAMES, model=config, pretrained=state_dict)
    assert not torch.allclose(gelu, w, atol=1e-3)
    torch.testing.assert_close(
        build_text_classifier(NAMES, model=config, pretrained=state_dict,
                              quick_gelu=True), w)


def test_text_classifier_wrong_architecture(tiny_clip, tmp_path):
    config, _ = tiny_clip
    weights = str(tmp_path / 'other.pth')
    torch.save({'token_embedding.weight': torch.zeros(3, 3)}, weights)
    with pytest.raises(ValueError, match='do not fit model'):
        build_text_classifier(NAMES, model=config, pretrained=weights)


def test_text_classifier_deterministic_and_templates(tiny_clip, tmp_path):
    config, _ = tiny_clip
    one = build_text_classifier(NAMES, model=config, seed=5)
    names_file = tmp_path / 'names.txt'
    names_file.write_text('\n'.join(NAMES))
    assert torch.equal(
        one, build_text_classifier(str(names_file), model=config, seed=5))
    assert not torch.allclose(one, build_text_classifier(
        NAMES, model=config, seed=6))
    other = build_text_classifier(NAMES, model=config, seed=5,
                                  templates=['{}, an action.'])
    two = build_text_classifier(
        NAMES, model=config, seed=5,
        templates=['a video of a person {}.', '{}, an action.'])
    assert not torch.allclose(two, one)
    torch.testing.assert_close(
        two, (F.normalize(one, dim=-1) + F.normalize(other, dim=-1)) / 2)
    raw = build_text_classifier(
        NAMES, model=config, seed=5, ensemble='mean',
        templates=['a video of a person {}.', '{}, an action.'])
    torch.testing.assert_close(raw, (one + other) / 2)
    k28 = build_text_classifier(NAMES, model=config, templates='kinetics28')
    assert k28.shape == (4, 16)


def test_text_classifier_warns_on_truncation(tiny_clip):
    config, _ = tiny_clip
    long_name = ' '.join(['juggling'] * 80)
    with pytest.warns(UserWarning, match=r"class 1 \('juggling juggling"):
        w = build_text_classifier(['a', long_name], model=config)
    assert torch.isfinite(w).all()


def test_vit_b16_text_tower_trimming_is_exact():
    """On the real ViT-B-16 text tower (random weights), encoding prompts
    cut after their EOT token equals open_clip's full 77-token forward."""
    tower, tokenizer = load_text_tower('ViT-B-16', seed=0)
    prompts = [f'a video of a person {n}.' for n in NAMES * 2] + [
        'a video of a person passing American football (not in game).'
    ]
    tokens = tokenizer(prompts)
    with torch.inference_mode():
        full = tower(tokens)
    trimmed = encode_prompts(tower, tokens, batch_size=4)
    assert trimmed.shape == (9, 512)
    torch.testing.assert_close(trimmed, full, atol=2e-5, rtol=1e-5)


# --------------------------------------------------------- language model
def test_lm_classifier_semantics():
    names = ['playing guitar', 'playing violin', 'drinking beer']
    w = F.normalize(build_lm_classifier(names), dim=-1)
    assert w.shape == (3, 384)
    guitar_violin, guitar_beer = (w[0] @ w[1]).item(), (w[0] @ w[2]).item()
    assert guitar_violin > guitar_beer + 0.1
    cls = build_lm_classifier(names, pooling='cls')
    assert not torch.allclose(F.normalize(cls, dim=-1), w)


def test_lm_mean_pooling_ignores_padding():
    short = build_lm_classifier(['run'])
    padded = build_lm_classifier(
        ['run', 'playing a very long game of american football'])
    torch.testing.assert_close(padded[0], short[0], atol=1e-5, rtol=1e-5)


# ------------------------------------------------- load_classifier + cache
def test_spec_cache_hit_does_not_recompute(tiny_clip, monkeypatch, tmp_path,
                                           cache_dir):
    config, _ = tiny_clip
    calls = []
    compute = TextClassifier.compute

    @functools.wraps(compute)
    def counting(self):
        calls.append(self)
        return compute(self)

    monkeypatch.setattr(TextClassifier, 'compute', counting)
    names_file = tmp_path / 'names.txt'
    names_file.write_text('\n'.join(NAMES) + '\n')
    spec = dict(type='text', classes=str(names_file), model=config)
    first = load_classifier(spec, num_classes=4)
    assert len(calls) == 1 and first.path.startswith(str(cache_dir))
    second = load_classifier(dict(spec, device='cpu', batch_size=2))
    assert len(calls) == 1
    assert torch.equal(first.weight, second.weight)
    assert second.meta['class_names'] == NAMES
    assert second.meta['templates'] == ['a video of a person {}.']
    # the list and the file give the same key; new content or options don't
    assert classifier_cache_key(spec) == classifier_cache_key(
        dict(spec, classes=NAMES))
    names_file.write_text('\n'.join(NAMES[::-1]) + '\n')
    assert classifier_cache_key(spec) != classifier_cache_key(
        dict(spec, classes=NAMES))
    load_classifier(dict(spec, classes=NAMES, seed=1))
    assert len(calls) == 2
    load_classifier(dict(spec, classes=NAMES, cache=False))
    assert len(calls) == 3


def test_spec_errors():
    with pytest.raises(ValueError, match='type must be one of'):
        load_classifier(dict(type='bert'))
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['dims'\]"):
        load_classifier(dict(type='random', num_classes=3, dims=4))
    with pytest.raises(ValueError, match='needs classes'):
        load_classifier(dict(type='lm'))
    with pytest.raises(ValueError, match=r"needs \['num_classes'\]"):
        load_classifier(dict(type='random', dim=4))
    with pytest.raises(TypeError, match='file path or a dict'):
        load_classifier(3)


def test_random_spec_takes_num_classes_from_the_head():
    clf = load_classifier(dict(type='orthogonal', dim=8, seed=2), 5)
    assert torch.equal(clf.weight, build_orthogonal_classifier(5, 8, 2))
    assert clf.path is None and clf.meta['kind'] == 'orthogonal'
    assert build_classifier(dict(type='random', dim=8), 5).num_classes == 5


def test_num_classes_mismatch_names_file_and_numbers(tmp_path):
    path = str(tmp_path / 'clf.pth')
    save_classifier(path, torch.randn(3, 8))
    with pytest.raises(ValueError, match=rf'{path} has 3 classes .* '
                       r'num_classes=400'):
        load_classifier(path, num_classes=400)
    with pytest.raises(ValueError, match='has 5 classes'):
        load_classifier(dict(type='random', num_classes=5, dim=2), 4)


def test_save_and_read_round_trip(tmp_path):
    path = str(tmp_path / 'sub' / 'clf.pth')
    weight = torch.randn(3, 8, dtype=torch.float64)
    saved = save_classifier(path, weight, dict(kind='text', class_names=[
        'a', 'b', 'c'
    ], templates=['{}'], options=dict(seed=1, shrinkage=None)))
    clf = load_classifier(path, num_classes=3)
    assert isinstance(clf, ClassifierFile) and clf.path == path
    assert clf.weight.dtype == torch.float32
    assert torch.equal(clf.weight, weight.float())
    assert clf.meta == saved.meta and clf.class_names == ['a', 'b', 'c']
    assert (clf.meta['num_classes'], clf.meta['dim']) == (3, 8)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {'weight', 'meta'}
    with pytest.raises(TypeError, match='meta'):
        save_classifier(path, weight, dict(kind=np.float32(1)))
    with pytest.raises(ClassifierFormatError, match='2 class names'):
        save_classifier(path, weight, dict(class_names=['a', 'b']))


def test_plain_tensor_file(tmp_path):
    path = str(tmp_path / 'text_feats_k400.pt')
    weight = torch.randn(4, 6)
    torch.save(weight, path)
    clf = load_classifier(path, num_classes=4)
    assert torch.equal(clf.weight, weight)
    assert clf.meta['kind'] == 'tensor' and clf.meta['class_names'] is None


class _Payload:

    def __reduce__(self):
        return (print, ('pwned',))


@pytest.mark.parametrize('content, message', [
    (b'not a torch file at all', 'not a torch.save file'),
    ({'state_dict': {}}, "no 'weight'"),
    ({'weight': 'abc'}, 'is a str'),
    (torch.randn(8), r'shape \[8\]'),
    (torch.randn(2, 3, 4), r'shape \[2, 3, 4\]'),
    (torch.zeros(0, 4), r'shape \[0, 4\]'),
    (torch.ones(3, 4, dtype=torch.int64), 'dtype torch.int64'),
    (torch.tensor([[1., float('nan')]]), 'NaN'),
    (torch.tensor([[1., 2.], [0., 0.]]), r'rows \[1\] are all zero'),
    ({'weight': torch.ones(2, 2), 'meta': [1]}, "'meta' is a list"),
    (_Payload(), 'allow-list'),
])
def test_bad_files_raise_clear_errors(tmp_path, content, message):
    path = str(tmp_path / 'bad.pth')
    if isinstance(content, bytes):
        with open(path, 'wb') as f:
            f.write(content)
    else:
        torch.save(content, path, pickle_module=pickle)
    with pytest.raises(ClassifierFormatError, match=message) as err:
        load_classifier(path)
    assert path in str(err.value)


def test_edited_weight_fails_the_hash_check(tmp_path):
    path = str(tmp_path / 'clf.pth')
    save_classifier(path, torch.randn(3, 4))
    data = torch.load(path, weights_only=True)
    data['weight'][0, 0] += 1
    torch.save(data, path)
    with pytest.raises(ClassifierFormatError, match='sha256'):
        read_classifier(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match='classifier file not found'):
        load_classifier('/nonexistent/clf.pth')


# ------------------------------------------------------------ LDA video side
def test_pool_video_embeddings():
    feats = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).view(6, 4, 5)
    pooled = pool_video_embeddings(feats, 2)  # B=2, V=3, T=4, D=5
    torch.testing.assert_close(pooled, feats.view(2, 12, 5).mean(1))
    assert pool_video_embeddings(torch.ones(4, 8, 3, 3), 2).shape == (2, 8)
    with pytest.raises(ValueError, match='do not split evenly'):
        pool_video_embeddings(feats, 4)


def test_video_features_never_build_the_head_classifier(tmp_path,
                                                      monkeypatch):
    """The recognizer of an LDA config may have this very LDA as its
    classifier: building the model for its features must not build it."""
    from mmaction.registry import MODELS
    from t4v_mmaction.models import FrozenClassifierHead

    def refuse(self):
        raise AssertionError('the classifier was built')

    monkeypatch.setattr(FrozenClassifierHead, 'build_classifier', refuse)
    cfg = _tiny_recognizer_cfg(str(tmp_path), str(tmp_path / 'list.txt'))
    model = MODELS.build(cfg.model)
    feats, _ = model.extract_feat(torch.zeros(1, 1, 3, 2, 32, 32),
                                  test_mode=True)
    assert feats.shape == (1, 2, 32)


def _tiny_recognizer_cfg(root, ann_file):
    from mmengine.config import Config
    from _tiny_models import TINY_VIT
    pipeline = [
        dict(type='DecordInit'),
        dict(type='UniformSample', clip_len=2, num_clips=2, test_mode=True),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ]
    dataset = dict(type='VideoDataset', ann_file=ann_file,
                   data_prefix=dict(video=root), pipeline=[])
    return Config(dict(
        default_scope='mmaction',
        model=dict(
            type='Recognizer3D',
            backbone=dict(type='CLIPViT', arch=TINY_VIT, num_frames=2),
            cls_head=dict(type='FrozenClassifierHead', num_classes=3,
                          in_channels=TINY_VIT['embed_dim'],
                          classifier=dict(type='lda', config='itself')),
            data_preprocessor=dict(
                type='ActionDataPreprocessor', mean=[127.5] * 3,
                std=[127.5] * 3, format_shape='NCTHW')),
        test_pipeline=pipeline,
        train_dataloader=dict(batch_size=2, dataset=dataset)))


def test_extract_video_features_and_lda_spec(tmp_path, cache_dir):
    from mmaction.registry import MODELS
    from mmengine.dataset import pseudo_collate
    from t4v_mmaction.models import backbones
    if not hasattr(backbones, 'CLIPViT') or \
            MODELS.get('FrozenClassifierHead') is None:
        pytest.skip('needs the CLIPViT backbone and FrozenClassifierHead')
    from _tiny_video_data import make_tiny_videos
    from t4v_mmaction.apis import extract_video_features
    root = str(tmp_path / 'videos')
    ann_file = make_tiny_videos(root, num_videos=9, num_classes=3,
                                num_frames=8)
    cfg = _tiny_recognizer_cfg(root, ann_file)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    checkpoint = str(tmp_path / 'recognizer.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)

    feats, labels = extract_video_features(
        cfg, checkpoint, num_per_class=2, seed=0, batch_size=2,
        num_workers=0, progress=False)
    assert feats.shape == (6, 32) and feats.dtype == np.float32
    assert np.bincount(labels).tolist() == [2, 2, 2]
    # one video by hand: 2 views x 2 frames, averaged
    from mmaction.registry import DATASETS
    from t4v_mmaction.apis.video_features import \
        _test_dataset_cfg
    dataset = DATASETS.build(_test_dataset_cfg(cfg, 'train'))
    index = int(sample_per_class(np.arange(9) % 3, 2, seed=0)[3])
    with torch.no_grad():
        data = model.data_preprocessor(pseudo_collate([dataset[index]]))
        frames = model.backbone(data['inputs'].flatten(0, 1))  # (V, T, D)
    torch.testing.assert_close(
        torch.from_numpy(feats[3]), frames.mean((0, 1)), atol=1e-5, rtol=0)
    assert len(list((cache_dir / 'features').glob('*.npz'))) == 1
    again, _ = extract_video_features(cfg, checkpoint, num_per_class=2,
                                      num_workers=0)
    assert np.array_equal(again, feats)

    cfg_file = str(tmp_path / 'recognizer_cfg.py')
    cfg.dump(cfg_file)
    clf = load_classifier(
        dict(type='lda', config=cfg_file, checkpoint=checkpoint,
             num_per_class=2, num_workers=0, solver='lsqr', shrinkage='auto'),
        num_classes=3)
    assert torch.equal(
        clf.weight,
        build_lda_classifier(feats, labels, solver='lsqr', shrinkage='auto'))
    assert osp.dirname(clf.path) == str(cache_dir)


def test_video_features_leave_out_unreadable_videos(tmp_path, cache_dir):
    """With RobustVideoDataset, an unreadable video is a zero placeholder
    at test time: LDA must not fit on it."""
    from mmaction.registry import MODELS
    from _tiny_video_data import make_tiny_videos
    from t4v_mmaction.apis import extract_video_features
    root = str(tmp_path / 'videos')
    ann_file = make_tiny_videos(root, num_videos=6, num_classes=3,
                                num_frames=8)
    with open(ann_file) as f:
        first = f.readline().split()[0]
    open(osp.join(root, first), 'wb').close()  # now empty
    cfg = _tiny_recognizer_cfg(root, ann_file)
    cfg.train_dataloader.dataset.type = 'RobustVideoDataset'
    torch.manual_seed(0)
    checkpoint = str(tmp_path / 'recognizer.pth')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()},
               checkpoint)
    feats, labels = extract_video_features(
        cfg, checkpoint, num_per_class=2, seed=0, batch_size=2,
        num_workers=0, progress=False, cache_dir=False)
    assert feats.shape == (5, 32) and len(labels) == 5
    assert np.isfinite(feats).all() and (np.abs(feats).sum(1) > 0).all()
