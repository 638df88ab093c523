"""tools/toy_ablation.py end to end on a tiny generated dataset: two runs of
one epoch with a shrunken model, then the JSON, markdown and PNG reports."""
import importlib.util
import json
import os.path as osp

import pytest

from t4v_mmaction.toy.videos import make_toy_dataset

TOOLS = osp.join(osp.dirname(__file__), '..', '..', 'tools')
TINY_DATA = dict(videos_per_class=1, val_per_class=1, zeroshot_per_class=1,
                 num_frames=8, size=32, workers=2)
TINY_MODEL = ['model.backbone.arch.width=32', 'model.backbone.arch.layers=1',
              'model.cls_head.temporal.num_layers=1']


@pytest.fixture(scope='module')
def tool(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.syspath_prepend(TOOLS)  # for tools/_toy_common.py
    spec = importlib.util.spec_from_file_location(
        'toy_ablation', osp.join(TOOLS, 'toy_ablation.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    monkeypatch.undo()


def test_unknown_runs_are_refused(tool):
    with pytest.raises(SystemExit):
        tool.parse_args(['--runs', 'text,nonsense'])
    assert tool.parse_args(['--runs', 'lda, linear']).runs == ['lda',
                                                               'linear']


def test_run_configs(tool, tmp_path):
    """Every run trains the same model and schedule; only the head
    differs, as the paper's tables do."""
    data = str(tmp_path / 'toy')
    manifest = make_toy_dataset(data, seed=0, **TINY_DATA)
    args = tool.parse_args(['--data-root', data, '--work-dir',
                            str(tmp_path / 'work'), '--epochs', '3'])
    heads = {}
    for name in tool.RUNS:
        cfg = tool.run_config(name, args, manifest)
        assert cfg.train_cfg.max_epochs == 3
        assert cfg.train_cfg.val_interval == 1
        assert cfg.model.backbone.arch.layers == 2
        assert cfg.train_dataloader.dataset.ann_file == osp.join(
            data, 'train_list.txt')
        assert cfg.model.cls_head.num_classes == 36
        heads[name] = cfg.model.cls_head
    assert heads['text'].classifier.type == 'lm'
    assert heads['text'].classifier.class_names == osp.join(
        data, 'classes_seen.txt')
    assert heads['random'].classifier.type == 'random'
    assert heads['orthogonal'].classifier.type == 'orthogonal'
    lda = heads['lda'].classifier
    assert lda.type == 'lda' and lda.num_per_class == 1  # all there are
    assert osp.isfile(lda.config)
    assert heads['linear'].type == 'LinearVideoHead'
    for name in ('contrastive', 'contrastive-online'):
        assert heads[name].type == 'VideoTextContrastiveHead'
        assert heads[name].gather is True
        assert heads[name + '-nogather'].gather is False
        assert heads[name + '-nogather'].emulated_ranks == 4
    assert 'text_encoder' not in heads['contrastive']
    assert heads['contrastive-online'].text_encoder.type == 'lm'


def test_two_runs_end_to_end(tool, tmp_path, monkeypatch):
    monkeypatch.setenv('T4V_CACHE_DIR', str(tmp_path / 'cache'))
    data = str(tmp_path / 'toy')
    manifest = make_toy_dataset(data, seed=0, **TINY_DATA)
    work = str(tmp_path / 'work')
    results = tool.main([
        '--data-root', data, '--work-dir', work, '--epochs', '1', '--runs',
        'contrastive-nogather,linear', '--num-workers', '0', '--cfg-options'
    ] + TINY_MODEL)

    assert [r['run'] for r in results] == ['contrastive-nogather', 'linear']
    seen = manifest['num_classes']['seen']
    for r in results:
        assert len(r['curve']) == 1 and r['curve'][0][0] == 1
        # accuracies are multiples of 1 / (number of val videos)
        assert 0 <= r['seen_top1'] <= 1
        assert r['seen_top1'] * seen == pytest.approx(
            round(r['seen_top1'] * seen), abs=1e-6)
        assert r['train_s'] > 0
    contrastive, linear = results
    assert contrastive['head'] == 'VideoTextContrastiveHead'
    assert 0 <= contrastive['zero_shot_top1'] <= 1
    assert linear['head'] == 'LinearVideoHead'
    assert linear['zero_shot_top1'] is None
    with open(osp.join(work, 'contrastive-nogather', 'result.json')) as f:
        assert json.load(f) == contrastive
    with open(osp.join(work, 'results.json')) as f:
        assert json.load(f) == results

    with open(osp.join(work, 'ablation.md')) as f:
        text = f.read()
    rows = [line for line in text.splitlines()
            if line.startswith('| contrastive-nogather |')
            or line.startswith('| linear |')]
    assert len(rows) == 4  # results table and per-epoch table
    assert 'n/a' in rows[1]
    assert f'{100 * contrastive["seen_top1"]:.1f}' in rows[0]
    with open(osp.join(work, 'ablation.png'), 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'

    # --reuse keeps finished runs instead of training again
    again = tool.main([
        '--data-root', data, '--work-dir', work, '--epochs', '1', '--runs',
        'linear', '--reuse'
    ])
    assert again == [linear]
