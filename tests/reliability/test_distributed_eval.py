"""2-process CPU (gloo) testing gives the metrics of a single process, and
the ranks agree on the few-shot subset and the half-class splits.

The list holds 7 videos (one of them broken), so the distributed sampler
pads rank 1 with a duplicate that mmengine must drop again.
"""
import glob
import json
import os
import os.path as osp
import pickle
import re
import runpy
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from _rank_dump import draws
from _tiny_video_data import make_tiny_videos
from mmengine.config import Config

from mmaction.registry import MODELS

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
TINY_CFG = osp.join(HERE, 'configs', 'tiny_clipvit_videos.py')
TIMEOUT_S = 300
FEW_SHOT = dict(shots=2, num_classes=10, num_splits=3)


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _data(tmp_path):
    root = str(tmp_path / 'videos')
    ann_file = make_tiny_videos(root, num_videos=6, num_classes=2)
    open(osp.join(root, 'empty.mp4'), 'wb').close()
    with open(ann_file, 'a') as f:
        f.write('empty.mp4 1\n')  # a broken video, scored as failed
    few_shot = tmp_path / 'few_shot.txt'
    few_shot.write_text(''.join(f'v{i:02d}.mp4 {i % 10}\n'
                                for i in range(50)))
    return root, ann_file, str(few_shot)


def _checkpoint(path):
    cfg = Config.fromfile(TINY_CFG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


def _options(root, ann_file):
    return [
        '--cfg-options', f'test_dataloader.dataset.ann_file={ann_file}',
        f'test_dataloader.dataset.data_prefix.video={root}',
        # a logger of its own even if another run started this second
        f'experiment_name=run_{time.time_ns()}'
    ]


def _metrics(work_dir):
    """The metrics of the last ``Epoch(test)`` line of the run's log (the
    JSON log drops integer metrics: mmengine stores them as numpy ints)."""
    path = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))[-1]
    with open(path) as f:
        line = [t for t in f if 'Epoch(test)' in t and 'acc/' in t][-1]
    return dict(re.findall(r'(acc/\w+): (\S+)', line))


def _scores(dump):
    with open(dump, 'rb') as f:  # written by this test's own runs
        results = pickle.load(f)
    failed = [bool(r.get('read_failed', False)) for r in results]
    return np.stack([np.asarray(r['pred_score']) for r in results]), failed


def _dist_config(tmp_path, few_shot):
    """The recipe plus the test-only hook that dumps each rank's draws."""
    path = tmp_path / 'dist_cfg.py'
    hook = dict(type='RankDumpHook', out_dir=str(tmp_path),
                ann_file=few_shot, **FEW_SHOT)
    path.write_text(
        f'_base_ = [{TINY_CFG!r}]\n'
        "custom_imports = dict(imports=['t4v_mmaction', '_rank_dump'], "
        'allow_failed_imports=False)\n'
        f"custom_hooks = [dict(type='VideoDataHook'), {hook!r}]\n")
    return str(path)


def test_two_process_test_equals_single_process(tmp_path, monkeypatch):
    root, ann_file, few_shot = _data(tmp_path)
    ckpt = _checkpoint(tmp_path / 'model.pth')

    env = dict(os.environ)
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PYTHONPATH'] = os.pathsep.join(
        [HERE, REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    env['PORT'] = str(_free_port())
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    dist_dump = str(tmp_path / 'dist.pkl')
    proc = subprocess.Popen(
        [
            'bash',
            osp.join(REPO, 'tools', 'dist_test.sh'),
            _dist_config(tmp_path, few_shot), ckpt, '2', '--work-dir',
            str(tmp_path / 'dist'), '--dump', dist_dump
        ] + _options(root, ann_file),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)

    # meanwhile: tools/test.py, single process, in this process
    single_dump = str(tmp_path / 'single.pkl')
    monkeypatch.setattr(sys, 'argv', [
        osp.join(REPO, 'tools', 'test.py'), TINY_CFG, ckpt, '--work-dir',
        str(tmp_path / 'single'), '--dump', single_dump
    ] + _options(root, ann_file))
    monkeypatch.setenv('LOCAL_RANK', '0')  # tools/test.py sets it
    runpy.run_path(sys.argv[0], run_name='__main__')
    expected_draws = draws(few_shot, **FEW_SHOT)

    try:
        output, _ = proc.communicate(timeout=TIMEOUT_S)
    finally:
        proc.kill()
    assert proc.returncode == 0, output[-4000:]

    single, dist = _metrics(tmp_path / 'single'), _metrics(tmp_path / 'dist')
    assert single['acc/num_scored'] == '6'
    assert single['acc/num_failed'] == '1'
    for key in ('acc/top1', 'acc/top5', 'acc/mean1', 'acc/num_scored',
                'acc/num_failed'):
        assert dist[key] == single[key], key
    # mmengine dropped the padded duplicate and restored the list order
    single_scores, single_failed = _scores(single_dump)
    dist_scores, dist_failed = _scores(dist_dump)
    assert dist_scores.shape == single_scores.shape == (7, 2)
    assert dist_failed == single_failed == [False] * 6 + [True]
    np.testing.assert_allclose(dist_scores, single_scores, atol=1e-6)

    ranks = []
    for rank in (0, 1):
        with open(tmp_path / f'rank{rank}.json') as f:
            ranks.append(json.load(f))
    assert [r['world_size'] for r in ranks] == [2, 2]
    for record in ranks:
        assert record['subset'] == expected_draws['subset']
        assert record['splits'] == expected_draws['splits']
    assert len(expected_draws['subset']) == 20  # 2 shots x 10 classes
    assert len({tuple(s) for s in expected_draws['splits']}) == 3


@pytest.mark.parametrize('world_size', [2, 3])
def test_failed_samples_survive_result_collection(world_size):
    """The metric keeps one record per sample, in order, failed or not, so
    the truncation of the padded duplicates drops the right ones."""
    from t4v_mmaction.evaluation import RobustAccMetric

    samples = [
        dict(pred_score=torch.eye(2)[i % 2], gt_label=torch.tensor([i % 2]))
        for i in range(7)
    ]
    samples[5] = dict(samples[5], read_failed=True, filename='v5.mp4',
                      read_error='boom')
    samples[3] = dict(samples[3], gt_label=torch.tensor([0]))  # wrong
    # DefaultSampler without shuffle: rank r takes r, r + W, ... padded
    total = -(-7 // world_size) * world_size
    order = list(range(7)) + list(range(total - 7))
    parts = []
    for rank in range(world_size):
        metric = RobustAccMetric()
        mine = order[rank::world_size]
        for start in range(0, len(mine), 2):  # batches of 2
            metric.process(None, [samples[i] for i in mine[start:start + 2]])
        parts.append(metric.results)
    # what mmengine's collect_results_cpu does with the parts
    gathered = [r for zipped in zip(*parts) for r in zipped][:7]
    metrics = RobustAccMetric().compute_metrics(gathered)
    assert (metrics['num_scored'], metrics['num_failed']) == (6, 1)
    assert metrics['top1'] == pytest.approx(5 / 6)
