# Test-only recipe: the Text4Vis components at toy scale (a 2-layer,
# 64-wide CLIPViT, T-Trans, a frozen random classifier) on the videos of
# tests/_tiny_video_data.py, 2 frames of 32x32. Sampling is deterministic
# (test-mode segments, centre crop) so training does not depend on the
# pipeline's random state. Tests point `data_root`, `ann_file` and the
# classifier at generated files with --cfg-options / merge_from_dict.
_base_ = ['../../../configs/_base_/default_runtime.py']

num_classes = 2
num_frames = 2
data_root = 'data/tiny_videos'
ann_file = 'data/tiny_videos/annotations.txt'

model = dict(
    type='Text4VisRecognizer',
    backbone=dict(
        type='CLIPViT',
        arch=dict(
            embed_dim=32,
            image_size=32,
            layers=2,
            width=64,
            patch_size=8,
            head_width=32),
        pretrained=None,
        num_frames=num_frames),
    cls_head=dict(
        type='FrozenClassifierHead',
        num_classes=num_classes,
        in_channels=32,
        classifier=dict(type='random', num_classes=num_classes, dim=32,
                        seed=0),
        temporal=dict(type='TemporalTransformer', num_layers=1),
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.771, 116.746, 104.093],
        std=[68.500, 66.632, 70.323],
        format_shape='NCTHW'))

pipeline = [
    dict(type='DecordInit'),
    dict(type='SegmentSampleFrames', num_segments=num_frames,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RobustVideoDataset',
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        pipeline=pipeline,
        max_skips=2))
val_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RobustVideoDataset',
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        pipeline=pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='RobustAccMetric')
test_evaluator = val_evaluator

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=2, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.2))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2)
]

default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, save_best=None))
randomness = dict(seed=0, deterministic=True)
