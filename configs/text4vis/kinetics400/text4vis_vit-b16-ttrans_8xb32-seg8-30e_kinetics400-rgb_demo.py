_base_ = ['./text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py']
# Test pipeline for mmaction2's demo/long_video_demo.py and
# demo/webcam_demo.py. Both look for a `SampleFrames` step (window =
# clip_len x num_clips frames; here one 8-frame clip, i.e. the (1, 3, 8, H, W)
# input of the model), drop the file decoding steps and feed the frames from
# memory. long_video_demo.py then inserts `ArrayDecode` at index 1 of what is
# left, so the first remaining step runs before any frame exists: the no-op
# `Transpose(keys=[])` takes that place, or `Resize` would be silently
# skipped. For video files (demo/demo.py, tools/test.py) this samples 8
# frames 8 apart from the middle of the video, unlike Text4Vis' segment
# sampling over the whole video in the main config.
test_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=_base_.num_frames,
        frame_interval=8,
        num_clips=1,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Transpose', keys=[], order=[]),  # placeholder, see above
    dict(type='Resize', scale=(-1, 256), interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=_base_.input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
