# Test-only recipe: tiny_clipvit_videos.py with the shipped training
# randomness: random segment offsets, random resized crop, flip and
# grayscale (configs/_base_/pipelines/), drop path in the backbone, 2
# persistent DataLoader workers and the shipped `randomness`.
_base_ = ['tiny_clipvit_videos.py']

model = dict(backbone=dict(drop_path_rate=0.2))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SegmentSampleFrames', num_segments={{_base_.num_frames}}),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 40), interpolation='bicubic'),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='TorchVisionWrapper', op='RandomGrayscale', p=0.2),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    dataset=dict(pipeline=train_pipeline))
randomness = dict(seed=0, deterministic=False)
