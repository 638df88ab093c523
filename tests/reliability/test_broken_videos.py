"""Broken videos: training skips and counts them, testing scores them as
failed, tools/check_videos.py finds them.

One small dataset (4 good tiny videos + every kind of broken file from
``_broken_files``) is shared by the tests; runs use the tiny CLIPViT recipe
of ``configs/tiny_clipvit_videos.py`` on CPU.
"""
import importlib.util
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from _broken_files import BROKEN, KINDS, write_broken_videos
from _tiny_recipe import TINY_CFG, tiny_cfg
from _tiny_video_data import make_tiny_videos
from mmengine.config import Config
from mmengine.runner import Runner

from t4v_mmaction.datasets import BrokenVideoLimitError, RobustVideoDataset
from t4v_mmaction.datasets.robust_video_dataset import SKIPPED_KEY

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
NUM_GOOD = 4


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """(root, list of good + broken videos, list of the good ones only)."""
    root = str(tmp_path_factory.mktemp('videos'))
    clean = make_tiny_videos(root, num_videos=NUM_GOOD, num_classes=2)
    names = write_broken_videos(root, 'class_0/video_000.mp4')
    with open(clean) as f:
        good_lines = f.read()
    short = ''.join(f'{names[n]} {i % 2}\n'
                    for i, n in enumerate(KINDS) if KINDS[n] is None)
    broken = ''.join(f'{names[n]} {i % 2}\n' for i, n in enumerate(BROKEN))
    mixed = osp.join(root, 'mixed.txt')
    with open(mixed, 'w') as f:
        f.write(good_lines + broken + short)
    readable = osp.join(root, 'readable.txt')
    with open(readable, 'w') as f:
        f.write(good_lines + short)
    return root, mixed, readable


def _pipeline(num_segments):
    return [
        dict(type='DecordInit'),
        dict(type='SegmentSampleFrames', num_segments=num_segments,
             test_mode=True),
        dict(type='DecordDecode'),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ]


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the worker processes unpickle from it
    spec.loader.exec_module(module)
    return module


def test_check_videos_tool(data, tmp_path, capsys):
    root, mixed, _ = data
    out = tmp_path / 'clean.txt'
    rows = _load_tool('check_videos').main([
        mixed, '--root', root, '--workers', '2', '--min-frames', '2',
        '--out', str(out)
    ])
    found = {osp.basename(path): probe.kind for _, path, probe in rows}
    expected = {n: k for n, k in KINDS.items() if k is not None}
    expected['one_frame.mp4'] = 'too few frames'
    assert found == expected
    kept = out.read_text().splitlines()
    assert len(kept) == NUM_GOOD + 1 and kept[-1].startswith(
        'broken/three_frames.mp4')
    printed = capsys.readouterr().out
    assert '6 of 11 lines name a broken video' in printed
    assert 'cut_after_index.mp4' in printed


def test_short_videos_repeat_frames_and_min_frames_rejects_them(data):
    root, mixed, _ = data
    dataset = RobustVideoDataset(
        mixed, _pipeline(4), data_prefix=dict(video=root), test_mode=True)
    one = dataset[len(dataset) - 2]['inputs']  # one_frame.mp4: (1, C, 4, H, W)
    assert one.shape == (1, 3, 4, 32, 32)
    assert all(torch.equal(one[:, :, t], one[:, :, 0]) for t in range(4))
    strict = RobustVideoDataset(
        mixed,
        _pipeline(4),
        data_prefix=dict(video=root),
        test_mode=True,
        min_frames=4)
    sample = strict[len(strict) - 1]['data_samples']  # three_frames.mp4
    assert sample.read_failed
    assert '3 frames, fewer than min_frames=4' in sample.read_error


def test_train_mode_refetches_and_stops_at_max_skips(data):
    root, mixed, _ = data
    first_broken = NUM_GOOD  # line 5 of the list: missing.mp4
    dataset = RobustVideoDataset(
        mixed, _pipeline(2), data_prefix=dict(video=root), max_skips=5)
    np.random.seed(0)
    data_item = dataset[first_broken]  # refetched from another index
    skipped = data_item['data_samples'].metainfo[SKIPPED_KEY]
    assert skipped[0][0].endswith('broken/missing.mp4')
    assert 'DecordInit: FileNotFoundError' in skipped[0][1]
    strict = RobustVideoDataset(
        mixed, _pipeline(2), data_prefix=dict(video=root), max_skips=1)
    with pytest.raises(BrokenVideoLimitError) as info:
        for idx in range(first_broken, first_broken + len(BROKEN)):
            strict[idx]
    message = str(info.value)
    assert 'max_skips allows (1)' in message and 'empty.mp4' in message
    assert RobustVideoDataset(
        mixed, _pipeline(2), data_prefix=dict(video=root),
        max_skips=0.25).skip_limit == 3  # ceil(0.25 * 11)


@pytest.mark.parametrize('num_workers', [0, 2])
def test_training_survives_and_counts_broken_videos(data, tmp_path,
                                                    num_workers):
    root, mixed, _ = data
    cfg = tiny_cfg(
        root,
        mixed,
        tmp_path,
        train_cfg=dict(max_epochs=1),
        train_dataloader=dict(batch_size=4, num_workers=num_workers))
    cfg.train_dataloader.dataset.max_skips = len(BROKEN)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    # every index is drawn once per epoch: each broken video failed at least
    # once, in whichever worker process loaded it
    hub = runner.message_hub
    assert hub.get_info('train_broken_videos') == len(BROKEN)
    assert hub.get_info('train_skipped_videos') >= len(BROKEN)
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    assert f'{len(BROKEN)} distinct broken videos since the start' in log
    for name in BROKEN:
        assert f'broken/{name}' in log


def test_hook_sums_skips_over_workers_and_enforces_the_limit():
    """Two workers each below the limit: together they exceed it."""
    from mmaction.structures import ActionDataSample
    from mmengine.logging import MMLogger
    from t4v_mmaction.engine import VideoDataHook

    class _Runner:
        logger = MMLogger.get_instance('t4v_reliability_hook')

    def batch(*skipped):  # samples returned by different workers
        samples = []
        for name in skipped:
            sample = ActionDataSample()
            sample.set_metainfo({SKIPPED_KEY: [(name, 'DecordInit: boom')]})
            samples.append(sample)
        return dict(inputs=[], data_samples=samples + [ActionDataSample()])

    hook = VideoDataHook()
    hook._limit, hook._source = 2, 'train.txt'
    hook.before_train_epoch(_Runner())
    hook.after_train_iter(_Runner(), 0, batch('a.mp4', 'b.mp4'))
    hook.after_train_iter(_Runner(), 1, batch('a.mp4'))  # seen again
    assert (hook._epoch_skips, len(hook._broken)) == (3, 2)
    with pytest.raises(BrokenVideoLimitError) as info:
        hook.after_train_iter(_Runner(), 2, batch('c.mp4'))
    message = str(info.value)
    assert '3 distinct videos of train.txt' in message
    assert 'max_skips allows (2)' in message
    assert all(f'{n}.mp4: DecordInit: boom' in message for n in 'abc')


def test_testing_reports_failed_videos_and_scores_the_rest(data, tmp_path):
    root, mixed, readable = data
    evaluators = [
        dict(type='RobustAccMetric'),
        dict(
            type='RobustMetric',
            metric=dict(type='ZeroShotMetric', num_splits=2, topk=(1, ))),
    ]
    mixed_metrics = Runner.from_cfg(
        tiny_cfg(root, mixed, tmp_path / 'mixed',
                 test_evaluator=evaluators)).test()
    clean_metrics = Runner.from_cfg(
        tiny_cfg(root, readable, tmp_path / 'clean',
                 test_evaluator=evaluators)).test()
    scored = NUM_GOOD + 2  # the one- and three-frame videos are readable
    assert mixed_metrics['acc/num_scored'] == scored
    assert mixed_metrics['acc/num_failed'] == len(BROKEN)
    assert mixed_metrics['zeroshot/num_samples'] == scored
    assert mixed_metrics['zeroshot/num_failed'] == len(BROKEN)
    assert clean_metrics['acc/num_failed'] == 0
    # the failed videos change nothing: same model (seed 0), same scores
    for key in ('acc/top1', 'acc/mean1', 'zeroshot/full_top1',
                'zeroshot/half_top1_mean'):
        assert mixed_metrics[key] == clean_metrics[key], key


def test_test_placeholders_need_no_readable_video(tmp_path):
    """Unreadable videos first (60 of them), readable ones after: every
    sample comes back, the placeholders shaped as the pipeline shapes a
    real video (from a synthetic one, not from a readable file)."""
    root = tmp_path / 'videos'
    good = make_tiny_videos(str(root), num_videos=2, num_classes=2)
    for i in range(60):
        (root / f'empty{i}.mp4').write_bytes(b'')
    lines = ''.join(f'empty{i}.mp4 0\n' for i in range(60))
    mixed = root / 'mixed.txt'
    with open(good) as f:
        mixed.write_text(lines + f.read())
    pipeline = Config.fromfile(TINY_CFG).pipeline
    dataset = RobustVideoDataset(
        str(mixed), pipeline, data_prefix=dict(video=str(root)),
        test_mode=True)
    samples = [dataset[i] for i in range(len(dataset))]
    failed = [s['data_samples'].get('read_failed', False) for s in samples]
    assert failed == [True] * 60 + [False] * 2
    shapes = {tuple(s['inputs'].shape) for s in samples}
    assert shapes == {(1, 3, 2, 32, 32)}
    assert all(s['inputs'].dtype == samples[-1]['inputs'].dtype
               for s in samples)
