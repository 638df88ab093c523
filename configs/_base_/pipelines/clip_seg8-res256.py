# Video pipelines of the Text4Vis recipe: 8 frames, 256x256 input (the input
# size of MobileCLIP 2).
# Train: one random frame in each of T segments (TSN), short side 256
# (bicubic), random resized crop, flip, grayscale p=0.2. Val/test: segment
# starts, short side 256, centre crop. 4x3 views: 4 clips x 3 crops of the
# short-side-256 frame, as the original multi-view test.
num_frames = 8
input_size = 256
file_client_args = dict(io_backend='disk')

train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SegmentSampleFrames', num_segments=num_frames),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256), interpolation='bicubic'),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='TorchVisionWrapper', op='RandomGrayscale', p=0.2),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SegmentSampleFrames', num_segments=num_frames, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256), interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline
test_pipeline_4x3 = [
    dict(type='DecordInit', **file_client_args),
    dict(
        type='SegmentSampleFrames',
        num_segments=num_frames,
        num_clips=4,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256), interpolation='bicubic'),
    dict(type='FullResThreeCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
