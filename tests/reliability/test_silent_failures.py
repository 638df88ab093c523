"""Failures that used to pass without a word: broken-video counts across
``--resume`` and ranks, fractional skip limits, non-finite weights, scores
and losses, a logit scale that overflows, unreadable checkpoints and
classifier files, and a toy-data tool writing into a user's folder."""
import math
import os.path as osp

import pytest
import torch
from _tiny_recipe import TINY_CFG, tiny_cfg
from _tiny_video_data import make_tiny_videos
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmaction.registry import HOOKS, MODELS
from t4v_mmaction.compat import CheckpointReadError
from t4v_mmaction.datasets import BrokenVideoLimitError, RobustVideoDataset
from t4v_mmaction.engine.hooks import video_data_hook
from t4v_mmaction.models.classifiers.io import (ClassifierFormatError,
                                                make_classifier,
                                                read_classifier)
from t4v_mmaction.utils import NonFiniteWeightsError


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    """(root, clean list of 4 videos, the same plus 2 empty files)."""
    root = tmp_path_factory.mktemp('videos')
    clean = make_tiny_videos(str(root), num_videos=4, num_classes=2)
    for name in ('empty_a.mp4', 'empty_b.mp4'):
        (root / name).write_bytes(b'')
    broken = root / 'broken.txt'
    with open(clean) as f:
        broken.write_text(f.read() + 'empty_a.mp4 0\nempty_b.mp4 1\n')
    return str(root), clean, str(broken)


# ------------------------------------------------------------ skip limits
@pytest.mark.parametrize('max_skips, lines, limit', [
    (0.07, 100, 7),  # 0.07 * 100 is 7.000000000000001 in floats
    (0.25, 11, 3),
    (0.1, 30, 3),
    (0.5, 3, 2),
    (4, 100, 4),
])
def test_fractional_max_skips_is_the_ceiling_of_the_exact_product(
        tmp_path, max_skips, lines, limit):
    ann = tmp_path / 'list.txt'
    ann.write_text(''.join(f'v{i}.mp4 0\n' for i in range(lines)))
    dataset = RobustVideoDataset(str(ann), [], max_skips=max_skips)
    assert dataset.skip_limit == limit


def test_broken_video_count_survives_resume(videos, tmp_path):
    root, clean, broken = videos
    cfg = tiny_cfg(root, broken, tmp_path, train_cfg=dict(max_epochs=1))
    cfg.train_dataloader.dataset.max_skips = 2
    Runner.from_cfg(cfg).train()
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=False)
    assert sorted(checkpoint['meta'][video_data_hook.BROKEN_KEY]) == [
        osp.join(root, 'empty_a.mp4'), osp.join(root, 'empty_b.mp4')]

    # epoch 2 reads a list without them: they still count, since the start
    cfg = tiny_cfg(root, clean, tmp_path, train_cfg=dict(max_epochs=2),
                   resume=True)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.message_hub.get_info('train_broken_videos') == 2
    assert runner.message_hub.get_info('train_skipped_videos') == 0


def test_limit_passed_by_the_sum_over_ranks_keeps_the_checkpoint(
        videos, tmp_path, monkeypatch):
    """Each rank is below the limit; only the sum at the end of the epoch
    passes it: the epoch's checkpoint is saved, then the run stops."""
    root, _, broken = videos
    other_rank = {'other/rank1_video.mp4': 'DecordInit: boom'}

    def gather(value):  # this rank's and another rank's counts
        return [value, (1, other_rank)]

    monkeypatch.setattr(video_data_hook, 'all_gather_object', gather)
    cfg = tiny_cfg(root, broken, tmp_path, train_cfg=dict(max_epochs=2))
    cfg.train_dataloader.dataset.max_skips = 2
    with pytest.raises(BrokenVideoLimitError, match='rank1_video.mp4'):
        Runner.from_cfg(cfg).train()
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    assert not osp.exists(tmp_path / 'epoch_2.pth')


# -------------------------------------------------- non-finite numbers
@HOOKS.register_module()
class _PoisonWeightsHook(Hook):
    """Test-only: make the model's output NaN from iteration 2 on."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == 1:
            model = runner.model
            with torch.no_grad():
                model.backbone.proj.fill_(float('nan'))


def test_training_stops_at_the_first_nan_loss(videos, tmp_path):
    root, clean, _ = videos
    cfg = tiny_cfg(root, clean, tmp_path, train_cfg=dict(max_epochs=1),
                   train_dataloader=dict(batch_size=1))
    cfg.custom_hooks = list(cfg.custom_hooks) + [
        dict(type='_PoisonWeightsHook')]
    with pytest.raises(FloatingPointError) as info:
        Runner.from_cfg(cfg).train()
    message = str(info.value)
    assert 'the training loss is nan at iteration 2 (epoch 1' in message
    assert '.mp4' in message  # the batch's video


def _tiny_checkpoint(path, poison=None):
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(TINY_CFG).model)
    state = model.state_dict()
    if poison is not None:
        state[poison] = state[poison].clone().fill_(float('inf'))
    torch.save(dict(state_dict=state, meta=dict()), path)
    return str(path)


def test_testing_refuses_a_checkpoint_with_nan_weights(videos, tmp_path):
    root, clean, _ = videos
    ckpt = _tiny_checkpoint(tmp_path / 'diverged.pth',
                            poison='backbone.proj')
    cfg = tiny_cfg(root, clean, tmp_path / 'test', load_from=ckpt)
    with pytest.raises(NonFiniteWeightsError) as info:
        Runner.from_cfg(cfg).test()
    assert 'diverged.pth' in str(info.value)
    assert "'backbone.proj'" in str(info.value)


def test_a_truncated_checkpoint_names_the_file(videos, tmp_path):
    root, clean, _ = videos
    ckpt = _tiny_checkpoint(tmp_path / 'cut.pth')
    with open(ckpt, 'rb') as f:
        data = f.read()
    with open(ckpt, 'wb') as f:
        f.write(data[:len(data) // 2])
    cfg = tiny_cfg(root, clean, tmp_path / 'test', load_from=ckpt)
    with pytest.raises(CheckpointReadError, match=r'cut\.pth: cannot read'):
        Runner.from_cfg(cfg).test()


def test_testing_refuses_non_finite_scores(videos, tmp_path):
    from t4v_mmaction.evaluation import RobustAccMetric
    metric = RobustAccMetric()
    sample = dict(pred_score=torch.tensor([float('nan'), 0.5]),
                  gt_label=torch.tensor([0]), filename='v7.mp4')
    with pytest.raises(FloatingPointError, match='v7.mp4'):
        metric.process(None, [sample])


def test_logit_scale_is_clamped_at_100_as_clip_does():
    head = MODELS.build(dict(
        type='FrozenClassifierHead', num_classes=3, in_channels=8,
        classifier=dict(type='random', num_classes=3, dim=8, seed=0),
        temporal=dict(type='TemporalAveragePooling')))
    with torch.no_grad():
        head.logit_scale.fill_(math.log(1e6))  # far past CLIP's clamp
    head.train()
    assert head.scale().item() == pytest.approx(100.)
    logits = head.classify(torch.randn(2, 8))
    assert logits.abs().max() <= 100. + 1e-4


@pytest.mark.parametrize('weight, match', [
    (torch.full((2, 4), 3e38), 'too large to L2-normalise'),
    (torch.eye(3, 4).to_sparse(), 'sparse'),
    (torch.empty(3, 4, device='meta'), 'meta tensor'),
    (torch.tensor([[1., float('nan')], [0., 1.]]), 'NaN or infinite'),
])
def test_unusable_classifiers_are_refused(tmp_path, weight, match):
    with pytest.raises(ClassifierFormatError, match=match):
        make_classifier(weight)
    path = tmp_path / 'classifier.pth'
    torch.save(dict(weight=weight, meta=dict()), path)
    with pytest.raises(ClassifierFormatError, match=match) as info:
        read_classifier(str(path))
    assert 'classifier.pth' in str(info.value)


# ------------------------------------------------------------- toy data
def test_make_toy_dataset_leaves_a_users_folder_alone(tmp_path):
    from t4v_mmaction.toy.videos import make_toy_dataset
    (tmp_path / 'videos').mkdir()
    mine = tmp_path / 'videos' / 'holiday.mp4'
    mine.write_bytes(b'precious')
    (tmp_path / 'manifest.json').write_text('{"my": "own manifest"}')
    with pytest.raises(FileExistsError, match='not a toy dataset'):
        make_toy_dataset(str(tmp_path), videos_per_class=1)
    assert mine.read_bytes() == b'precious'
    assert (tmp_path / 'manifest.json').read_text() == \
        '{"my": "own manifest"}'
