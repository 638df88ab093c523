import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from t4v_mmaction.models.classifiers import (build_lda_classifier,
                                             build_lm_classifier,
                                             build_orthogonal_classifier,
                                             build_text_classifier,
                                             read_classifier, save_classifier)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TINY_CLIP = dict(
    embed_dim=16,
    vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=16,
                    head_width=16),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2,
                  layers=1))
NAMES = ['abseiling', 'playing guitar', 'playing violin', 'drinking beer']


def _tool(name):
    path = osp.join(REPO, 'tools', *name.split('/'))
    spec = importlib.util.spec_from_file_location(
        osp.basename(name)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv('T4V_CACHE_DIR', str(tmp_path / 'cache'))


@pytest.fixture
def names_file(tmp_path):
    path = tmp_path / 'names.csv'
    path.write_text('id,name\n' + ''.join(f'{i},{n}\n'
                                          for i, n in enumerate(NAMES)))
    return str(path)


def test_cli_subprocess_orthogonal(tmp_path):
    out = str(tmp_path / 'orth.pth')
    result = subprocess.run(
        [sys.executable, 'tools/build_classifier.py', '--kind', 'orthogonal',
         '--num-classes', '5', '--dim', '8', '--seed', '3', '--out', out],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert result.returncode == 0, result.stderr[-2000:]
    line = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        rf'orthogonal classifier \[5, 8\] sha256 [0-9a-f]{{16}} -> '
        rf'{re.escape(out)} \(\d+\.\d s\)', line), line
    clf = read_classifier(out)
    assert torch.equal(clf.weight, build_orthogonal_classifier(5, 8, 3))
    assert clf.meta['sha256'].startswith(line.split('sha256 ')[1][:16])


def test_cli_help():
    with pytest.raises(SystemExit) as exit_info:
        _tool('build_classifier.py').main(['--help'])
    assert exit_info.value.code == 0


def test_cli_text(tmp_path, names_file, capsys):
    config = str(tmp_path / 'tiny.json')
    with open(config, 'w') as f:
        json.dump(TINY_CLIP, f)
    out = str(tmp_path / 'text.pth')
    _tool('build_classifier.py').main([
        '--kind', 'text', '--classes', names_file, '--model', config,
        '--seed', '2', '--templates', 'kinetics28', '--out', out
    ])
    assert '[4, 16]' in capsys.readouterr().out
    clf = read_classifier(out)
    ref = build_text_classifier(NAMES, model=config, seed=2,
                                templates='kinetics28')
    assert torch.equal(clf.weight, ref)
    assert clf.meta['class_names'] == NAMES
    assert len(clf.meta['templates']) == 28 and clf.meta['kind'] == 'text'


def test_cli_lm(tmp_path, names_file):
    out = str(tmp_path / 'lm.pth')
    _tool('build_classifier.py').main([
        '--kind', 'lm', '--classes', names_file, '--pooling', 'cls', '--out',
        out
    ])
    clf = read_classifier(out)
    assert torch.equal(clf.weight, build_lm_classifier(NAMES, pooling='cls'))


def test_cli_lda_from_features(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    x = (rng.normal(0, 3, (3, 6))[y] + rng.normal(0, 1, (30, 6)))
    features = str(tmp_path / 'feats.npz')
    np.savez(features, features=x.astype(np.float32), labels=y)
    out = str(tmp_path / 'lda.pth')
    _tool('build_classifier.py').main([
        '--kind', 'lda', '--features', features, '--solver', 'eigen',
        '--shrinkage', '0.2', '--out', out
    ])
    ref = build_lda_classifier(
        x.astype(np.float32), y, solver='eigen', shrinkage=0.2)
    assert torch.equal(read_classifier(out).weight, ref)


def test_plot_class_correlation(tmp_path, names_file):
    import matplotlib.image
    tool = _tool('analysis/plot_class_correlation.py')
    weight = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    clf_file = str(tmp_path / 'clf.pth')
    save_classifier(clf_file, weight, dict(kind='random', class_names=NAMES))
    learned = torch.randn(4, 8, generator=torch.Generator().manual_seed(1))
    ckpt = str(tmp_path / 'epoch_1.pth')
    torch.save({'meta': {'epoch': 1},
                'state_dict': {'cls_head.fc_cls.weight': learned,
                               'cls_head.fc_cls.bias': torch.zeros(4)}}, ckpt)
    out = str(tmp_path / 'figs' / 'corr.png')
    tool.main(['--classifier', clf_file, '--checkpoint', ckpt, '--classes',
               'playing violin', 'playing guitar', 'abseiling', '--out', out])
    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 200
    assert image[..., :3].std() > 0.05  # not a blank canvas

    corr = tool.correlation(learned, np.array([2, 1, 0]))
    rows = F.normalize(learned[[2, 1, 0]], dim=-1)
    np.testing.assert_allclose(corr, (rows @ rows.t()).numpy(), atol=1e-6)
    np.testing.assert_allclose(np.diag(corr), 1, atol=1e-6)
    assert tool.select_classes(NAMES, None, 2, seed=0).tolist() == sorted(
        np.random.default_rng(0).choice(4, 2, replace=False).tolist())
    with pytest.raises(ValueError, match='playing guitars'):
        tool.select_classes(NAMES, ['playing guitars'], 20, 0)
    with pytest.raises(KeyError, match='cls_head.fc_cls.weight'):
        tool.checkpoint_matrix(ckpt, 'head.weight', False)
