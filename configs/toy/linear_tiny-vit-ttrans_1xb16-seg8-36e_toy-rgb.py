# The vision-only paradigm (Text4Vis Fig. 2(a), Table 6) on the toy dataset:
# same backbone, T-Trans and schedule as the Text4Vis toy config, but a
# randomly initialised, learnable linear classifier. It has no class-name
# semantics, so it cannot be evaluated zero-shot.
_base_ = ['./text4vis_tiny-vit-ttrans_1xb16-seg8-36e_toy-rgb.py']

model = dict(
    cls_head=dict(
        _delete_=True,
        type='LinearVideoHead',
        num_classes=36,  # the default toy dataset's seen classes
        in_channels=384,
        temporal=dict(type='TemporalTransformer', num_layers=2),
        average_clips='prob'))
