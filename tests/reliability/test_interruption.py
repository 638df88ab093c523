"""A training run killed (SIGKILL) mid-epoch resumes with ``--resume`` to
exactly the weights of an uninterrupted run.

The killed run is a ``tools/train.py`` process; the resumed run is
``tools/train.py --resume`` executed in this process (a fresh ``Runner``
that knows only the work dir), which saves a second start of the stack.

The recipe samples frames deterministically (test-mode segments, centre
crop), shuffles with mmengine's seeded sampler and sets
``randomness=dict(seed=0, deterministic=True)``, so the result depends only
on what the checkpoint restores.
"""
import glob
import os
import os.path as osp
import runpy
import signal
import subprocess
import sys
import time

import torch
from _tiny_video_data import make_tiny_videos
from mmengine.config import Config
from mmengine.runner import Runner

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
TINY_CFG = osp.join(HERE, 'configs', 'tiny_clipvit_videos.py')
TIMEOUT_S = 240
# 8 videos, batch 2: 4 iterations per epoch, 2 epochs
KILL_AFTER = 'Epoch(train) [2][1/4]'


def _options(root, ann_file):
    return {
        'train_dataloader.dataset.ann_file': ann_file,
        'train_dataloader.dataset.data_prefix.video': root,
        'val_cfg': None,
        'val_dataloader': None,
        'val_evaluator': None,
    }


def _train_cmd(work_dir, options, *extra):
    return [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'), TINY_CFG, '--work-dir',
        str(work_dir), *extra, '--cfg-options'
    ] + [f'{k}={v}' for k, v in options.items()]


def _env():
    env = dict(os.environ)
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    return env


def _run_until_killed(cmd, log_path, work_dir):
    """Start training; SIGKILL it once epoch 2 has begun."""
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=_env(), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with open(log_path, errors='replace') as f:
                if KILL_AFTER in f.read():
                    break
            time.sleep(0.01)
        killed = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    with open(log_path, errors='replace') as f:
        output = f.read()
    assert killed, f'training ended before it was killed:\n{output[-3000:]}'
    assert osp.isfile(work_dir / 'epoch_1.pth'), output[-3000:]
    assert not osp.exists(work_dir / 'epoch_2.pth'), \
        'the kill came after epoch 2 had finished'
    return output


def _weights(path):
    return torch.load(path, map_location='cpu', weights_only=True)[
        'state_dict']


def test_killed_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    root = str(tmp_path / 'videos')
    ann_file = make_tiny_videos(root, num_videos=8, num_classes=2)
    options = _options(root, ann_file)

    work_dir = tmp_path / 'killed'
    _run_until_killed(
        _train_cmd(work_dir, options), tmp_path / 'killed.log', work_dir)

    monkeypatch.setattr(sys, 'argv',
                        _train_cmd(work_dir, options, '--resume')[1:])
    monkeypatch.setenv('LOCAL_RANK', '0')  # tools/train.py sets it
    try:
        runpy.run_path(sys.argv[0], run_name='__main__')
    finally:
        torch.use_deterministic_algorithms(False)  # set by the recipe
    logs = sorted(glob.glob(str(work_dir / '*' / '*.log')))
    with open(logs[-1]) as f:
        resumed_log = f.read()
    assert 'resumed epoch: 1, iter: 4' in resumed_log
    assert 'Epoch(train) [1]' not in resumed_log  # epoch 1 was not redone

    # the same recipe uninterrupted, in this process
    cfg = Config.fromfile(TINY_CFG)
    cfg.merge_from_dict(options)
    cfg.work_dir = str(tmp_path / 'uninterrupted')
    cfg.experiment_name = f'uninterrupted_{time.time_ns()}'
    try:
        Runner.from_cfg(cfg).train()
    finally:
        torch.use_deterministic_algorithms(False)  # set by the recipe

    expected = _weights(tmp_path / 'uninterrupted' / 'epoch_2.pth')
    actual = _weights(work_dir / 'epoch_2.pth')
    assert expected.keys() == actual.keys()
    first = _weights(work_dir / 'epoch_1.pth')
    assert not torch.equal(first['backbone.conv1.weight'],
                           actual['backbone.conv1.weight'])  # it trained
    for key, value in expected.items():
        assert torch.equal(actual[key], value), (
            key, (actual[key] - value).abs().max().item())
