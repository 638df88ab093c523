"""A training run killed (SIGKILL) mid-epoch resumes with ``--resume`` to
exactly the weights of an uninterrupted run, with the shipped randomness:
random segment offsets, crops, flips and grayscale, drop path, a fixed
``randomness.seed`` and ``ExactResumeHook`` (default_runtime.py).

Covered: ``num_workers=0``; 2 workers; 2 persistent workers (as every
shipped dataset config); 2 CPU processes (gloo) with persistent workers.
The run is stopped at a chosen iteration of epoch 2 by a test-only hook
(``_stop_point``) and killed while it waits there, so no timing decides
where the kill lands.

The augmentation of each sample depends only on (seed, epoch, index), so
the single-process runs must all reach the weights of one uninterrupted
reference, whatever their number of workers.
"""
import glob
import os.path as osp
import time

import pytest
import torch
from _runs import run, run_and_kill, stop_config, train_command
from _tiny_video_data import make_tiny_videos
from mmengine.config import Config
from mmengine.runner import Runner

HERE = osp.dirname(osp.abspath(__file__))
CFG = osp.join(HERE, 'configs', 'tiny_clipvit_random-aug.py')
NUM_VIDEOS, BATCH = 8, 2

SETTINGS = {
    'workers0': (1, dict(num_workers=0, persistent_workers=False)),
    'workers2': (1, dict(num_workers=2, persistent_workers=False)),
    'persistent2': (1, dict(num_workers=2, persistent_workers=True)),
    'two_processes': (2, dict(num_workers=2, persistent_workers=True)),
}


def _options(root, ann_file, loader=None):
    options = {
        'train_dataloader.dataset.ann_file': ann_file,
        'train_dataloader.dataset.data_prefix.video': root,
        'val_cfg': None,
        'val_dataloader': None,
        'val_evaluator': None,
    }
    for key, value in (loader or {}).items():
        options[f'train_dataloader.{key}'] = value
    return options


def _weights(path):
    return torch.load(path, map_location='cpu', weights_only=True)[
        'state_dict']


def _assert_same_weights(actual_path, expected_path):
    expected, actual = _weights(expected_path), _weights(actual_path)
    assert expected.keys() == actual.keys()
    for key, value in expected.items():
        assert torch.equal(actual[key], value), (
            key, (actual[key] - value).abs().max().item())


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('videos'))
    return root, make_tiny_videos(root, num_videos=NUM_VIDEOS,
                                  num_classes=2)


@pytest.fixture(scope='module')
def reference(videos, tmp_path_factory):
    """The uninterrupted single-process run (no workers), in this process."""
    work_dir = tmp_path_factory.mktemp('uninterrupted')
    cfg = Config.fromfile(CFG)
    cfg.merge_from_dict(_options(*videos, SETTINGS['workers0'][1]))
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'uninterrupted_{time.time_ns()}'
    Runner.from_cfg(cfg).train()
    return work_dir


@pytest.mark.parametrize('setting', list(SETTINGS))
def test_killed_run_resumes_to_the_same_weights(setting, videos, reference,
                                                tmp_path):
    nproc, loader = SETTINGS[setting]
    options = _options(*videos, loader)
    iters_per_epoch = NUM_VIDEOS // (BATCH * nproc)
    stop_at = iters_per_epoch + 1  # epoch 2 has trained one iteration
    killed_cfg = stop_config(CFG, str(tmp_path / 'stop_cfg.py'), stop_at,
                             str(tmp_path / 'stopped'))

    work_dir = tmp_path / 'killed'
    run_and_kill(train_command(killed_cfg, work_dir, options, nproc),
                 str(tmp_path / 'killed.log'), str(tmp_path / 'stopped'),
                 nproc)
    assert osp.isfile(work_dir / 'epoch_1.pth')
    assert not osp.exists(work_dir / 'epoch_2.pth')

    run(train_command(CFG, work_dir, options, nproc, ['--resume']),
        str(tmp_path / 'resumed.log'))
    logs = sorted(glob.glob(str(work_dir / '*' / '*.log')))
    with open(logs[-1]) as f:
        resumed_log = f.read()
    assert f'resumed epoch: 1, iter: {iters_per_epoch}' in resumed_log
    assert 'Epoch(train) [1]' not in resumed_log  # epoch 1 was not redone
    first = _weights(work_dir / 'epoch_1.pth')
    final = _weights(work_dir / 'epoch_2.pth')
    assert not torch.equal(first['backbone.conv1.weight'],
                           final['backbone.conv1.weight'])  # it trained

    if nproc == 1:
        expected = reference
    else:  # the same processes, uninterrupted
        expected = tmp_path / 'uninterrupted'
        run(train_command(CFG, expected, options, nproc),
            str(tmp_path / 'uninterrupted.log'))
    _assert_same_weights(work_dir / 'epoch_2.pth', expected / 'epoch_2.pth')
