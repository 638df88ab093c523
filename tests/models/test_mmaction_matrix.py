"""This package's components mixed with mmaction2's, the way users mix them.

Each combination trains one iteration through mmengine's ``Runner`` and
runs one multi-view test, on generated videos read by mmaction2's own
``VideoDataset`` and pipelines (``SampleFrames``, ``DecordDecode``,
``ThreeCrop`` ...) and scored by its ``AccMetric``:

* this package's heads on mmaction2's backbones, in ``Recognizer2D``
  (TSN ResNet, TSM MobileNetV2: per-frame features and ``num_segs``) and
  ``Recognizer3D`` (SlowOnly, X3D: feature maps);
* this package's backbones under mmaction2's heads (``I3DHead``,
  ``TSNHead``, ``TimeSformerHead``), with the ``output_format`` they need.

A head that ignored ``num_segs`` would return one score per frame and the
training loss would fail; a backbone that returned only ``(B, T, D)`` would
fail in every mmaction2 head.
"""
import copy

import pytest
import torch
from _tiny_models import TINY_RN, TINY_VIT
from _tiny_video_data import make_tiny_videos
from mmengine.config import Config
from mmengine.runner import Runner

NUM_CLASSES = 3
T = 4  # frames per clip
MEAN_STD = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])


def pipelines(kind: str):
    """mmaction2's own train and multi-view test pipelines."""
    if kind == '2d':  # TSN: T segments of one frame; test: 3 crops
        train_sampler = dict(type='SampleFrames', clip_len=1,
                             frame_interval=1, num_clips=T)
        test_sampler = dict(type='SampleFrames', clip_len=1,
                            frame_interval=1, num_clips=T, test_mode=True)
        fmt = 'NCHW'
    else:  # one clip of T frames; test: 2 clips x 3 crops
        train_sampler = dict(type='SampleFrames', clip_len=T,
                             frame_interval=1, num_clips=1)
        test_sampler = dict(type='SampleFrames', clip_len=T,
                            frame_interval=1, num_clips=2, test_mode=True)
        fmt = 'NCTHW'
    train = [
        dict(type='DecordInit'), train_sampler, dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 36)),
        dict(type='RandomResizedCrop'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='FormatShape', input_format=fmt),
        dict(type='PackActionInputs')
    ]
    test = [
        dict(type='DecordInit'), test_sampler, dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 32)),
        dict(type='ThreeCrop', crop_size=32),
        dict(type='FormatShape', input_format=fmt),
        dict(type='PackActionInputs')
    ]
    return train, test


def heads(in_channels: int, kind: str) -> dict:
    """This package's three heads for features of width ``in_channels``."""
    extra = dict(num_segments=T) if kind == '2d' else {}
    classifier = dict(type='orthogonal', seed=0)
    return {
        'FrozenClassifierHead': dict(
            type='FrozenClassifierHead', num_classes=NUM_CLASSES,
            in_channels=in_channels, classifier=classifier, **extra),
        'LinearVideoHead': dict(
            type='LinearVideoHead', num_classes=NUM_CLASSES,
            in_channels=in_channels, **extra),
        'VideoTextContrastiveHead': dict(
            type='VideoTextContrastiveHead', num_classes=NUM_CLASSES,
            in_channels=in_channels, classifier=classifier, **extra),
    }


MMACTION_BACKBONES = {
    'TSN-ResNet18': ('2d', dict(type='ResNet', depth=18, pretrained=None),
                     512),
    'TSM-MobileNetV2': ('2d', dict(type='MobileNetV2TSM', num_segments=T,
                                   widen_factor=0.25, pretrained=None,
                                   pretrained2d=False),
                        1280),
    'SlowOnly-R18': ('3d', dict(type='ResNet3dSlowOnly', depth=18,
                                pretrained=None, lateral=False,
                                base_channels=16, conv1_kernel=(1, 7, 7),
                                conv1_stride_t=1, pool1_stride_t=1,
                                inflate=(0, 0, 1, 1)), 128),
    'X3D': ('3d', dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=1.0),
            432),
}

OUR_BACKBONES = {
    'CLIPViT+I3DHead': (
        '3d', dict(type='CLIPViT', arch=TINY_VIT, num_frames=T,
                   temporal=dict(type='TokenT1D'),
                   output_format='feature_map'),
        dict(type='I3DHead', num_classes=NUM_CLASSES,
             in_channels=TINY_VIT['embed_dim'], average_clips='prob')),
    'CLIPViT+TSNHead': (
        '2d', dict(type='CLIPViT', arch=TINY_VIT, num_frames=T,
                   temporal=dict(type='TokenShift'),
                   output_format='feature_map'),
        dict(type='TSNHead', num_classes=NUM_CLASSES,
             in_channels=TINY_VIT['embed_dim'], average_clips='prob')),
    'CLIPResNet+TimeSformerHead': (
        '3d', dict(type='CLIPResNet', arch=TINY_RN, num_frames=T,
                   output_format='pooled'),
        dict(type='TimeSformerHead', num_classes=NUM_CLASSES,
             in_channels=TINY_RN['embed_dim'], average_clips='prob')),
}


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('matrix')
    ann_file = make_tiny_videos(str(root), num_videos=4,
                                num_classes=NUM_CLASSES, num_frames=10)
    return str(root), ann_file


def runner_cfg(videos, work_dir, kind, backbone, head) -> Config:
    root, ann_file = videos
    train, test = pipelines(kind)
    dataset = dict(type='VideoDataset', ann_file=ann_file,
                   data_prefix=dict(video=root))
    loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
    return Config(dict(
        default_scope='mmaction',
        custom_imports=dict(imports=['t4v_mmaction'],
                            allow_failed_imports=False),
        model=dict(
            type='Recognizer2D' if kind == '2d' else 'Recognizer3D',
            backbone=backbone, cls_head=head,
            data_preprocessor=dict(
                type='ActionDataPreprocessor',
                format_shape='NCHW' if kind == '2d' else 'NCTHW',
                **MEAN_STD)),
        train_dataloader=dict(
            **loader, sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(dataset, pipeline=train)),
        test_dataloader=dict(
            **loader, sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(dataset, pipeline=test, test_mode=True)),
        test_evaluator=dict(type='AccMetric'),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=1),
        test_cfg=dict(type='TestLoop'),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-4)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook',
                                           interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=0),
        log_level='WARNING',
        work_dir=str(work_dir)))


def train_and_test(cfg: Config, expected_views: int) -> None:
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
    model = runner.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    metrics = runner.test()
    assert 0 <= metrics['acc/top1'] <= 1
    # one multi-view batch by hand: one score vector per video
    batch = next(iter(runner.test_dataloader))
    with torch.no_grad():
        samples = model.test_step(batch)
    assert len(samples) == len(batch['data_samples'])
    assert all(s.pred_score.shape == (NUM_CLASSES, ) for s in samples)
    views = batch['inputs'][0].shape[0]
    assert views == expected_views
    assert all(torch.equal(before[k], v) for k, v in
               model.state_dict().items())


@pytest.mark.parametrize('head', ['FrozenClassifierHead', 'LinearVideoHead',
                                  'VideoTextContrastiveHead'])
@pytest.mark.parametrize('backbone', list(MMACTION_BACKBONES))
def test_our_heads_on_mmaction2_backbones(videos, tmp_path, backbone, head):
    kind, backbone_cfg, channels = MMACTION_BACKBONES[backbone]
    head_cfg = heads(channels, kind)[head]
    cfg = runner_cfg(videos, tmp_path, kind, copy.deepcopy(backbone_cfg),
                     head_cfg)
    # 2D: 3 crops x T frames per video; 3D: 2 clips x 3 crops
    train_and_test(cfg, expected_views=3 * T if kind == '2d' else 6)


@pytest.mark.parametrize('combination', list(OUR_BACKBONES))
def test_our_backbones_under_mmaction2_heads(videos, tmp_path, combination):
    kind, backbone_cfg, head_cfg = OUR_BACKBONES[combination]
    cfg = runner_cfg(videos, tmp_path, kind, copy.deepcopy(backbone_cfg),
                     copy.deepcopy(head_cfg))
    train_and_test(cfg, expected_views=3 * T if kind == '2d' else 6)


def test_the_head_needs_num_segs_in_recognizer2d():
    """Without ``num_segs`` (what a head ignoring it would see), the 2D
    head scores each of the N * T frames: the loss shapes do not match."""
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample
    head = MODELS.build(heads(512, '2d')['FrozenClassifierHead'])
    feats = torch.randn(2 * T, 512, 1, 1)  # 2 videos, T frames
    samples = [ActionDataSample().set_gt_label(i) for i in range(2)]
    assert head(feats, num_segs=T).shape == (2, NUM_CLASSES)
    assert head(feats).shape == (2 * T, NUM_CLASSES)
    assert 'loss_cls' in head.loss(feats, samples, num_segs=T)
    with pytest.raises(Exception):
        head.loss(feats, samples)


def test_our_backbone_default_output_does_not_fit_mmaction2_heads():
    from mmaction.registry import MODELS
    backbone = MODELS.build(dict(type='CLIPViT', arch=TINY_VIT,
                                 num_frames=T))
    i3d = MODELS.build(dict(type='I3DHead', num_classes=NUM_CLASSES,
                            in_channels=TINY_VIT['embed_dim']))
    clips = torch.randn(2, 3, T, 32, 32)
    with pytest.raises(Exception):
        i3d(backbone(clips))  # (B, T, D): I3DHead needs a 5-D map
    backbone.output_format = 'feature_map'
    assert i3d(backbone(clips)).shape == (2, NUM_CLASSES)
