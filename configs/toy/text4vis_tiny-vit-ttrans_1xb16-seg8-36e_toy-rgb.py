# Text4Vis in miniature on the generated toy dataset (tools/make_toy_dataset.py
# data/toy): a small CLIP-architecture ViT (random init: no CLIP weights can
# be downloaded offline) with T-Trans, classified by the FROZEN embeddings of
# the class names from a real pretrained language model (all-MiniLM-L6-v2,
# 384-d, shipped offline). Trains on 2 CPU cores in a few minutes.
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/toy'
num_frames = 8
input_size = 32
seen_classes = f'{data_root}/classes_seen.txt'

model = dict(
    type='Text4VisRecognizer',
    backbone=dict(
        type='CLIPViT',
        arch=dict(
            embed_dim=384,
            image_size=input_size,
            layers=2,
            width=64,
            patch_size=8,
            head_width=32),
        pretrained=None,
        num_frames=num_frames),
    cls_head=dict(
        type='FrozenClassifierHead',
        num_classes=None,  # set from the class-name file by the demo/tools
        in_channels=384,
        classifier=dict(
            type='lm', class_names=seen_classes, pooling='mean',
            templates=['{}']),
        temporal=dict(type='TemporalTransformer', num_layers=1),
        logit_scale=100.,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.771, 116.746, 104.093],
        std=[68.500, 66.632, 70.323],
        format_shape='NCTHW'))

# No flips: left/right motion is part of the class.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SegmentSampleFrames', num_segments=num_frames),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 36), interpolation='bicubic'),
    dict(type='RandomCrop', size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SegmentSampleFrames', num_segments=num_frames, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 36), interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline
# 2 clips x 3 crops, video embeddings averaged over the 6 views
test_pipeline_multiview = [
    dict(type='DecordInit'),
    dict(
        type='SegmentSampleFrames',
        num_segments=num_frames,
        num_clips=2,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 36), interpolation='bicubic'),
    dict(type='FullResThreeCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RobustVideoDataset',
        class_names=seen_classes,
        ann_file=f'{data_root}/train_list.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RobustVideoDataset',
        class_names=seen_classes,
        ann_file=f'{data_root}/val_list.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RobustVideoDataset',
        class_names=seen_classes,
        ann_file=f'{data_root}/val_list.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=test_pipeline_multiview,
        test_mode=True))
val_evaluator = dict(type='RobustAccMetric')
test_evaluator = val_evaluator

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=36, val_begin=1, val_interval=6)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# The paper's recipe scaled to a small model trained from scratch: AdamW,
# wd 0.2, warm-up then cosine; the backbone is not pretrained, so it trains
# at the full learning rate.
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.2),
    paramwise_cfg=dict(
        custom_keys={'cls_head.logit_scale': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=35,
        eta_min=0,
        by_epoch=True,
        begin=1,
        end=36,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=6, save_best='auto', max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
