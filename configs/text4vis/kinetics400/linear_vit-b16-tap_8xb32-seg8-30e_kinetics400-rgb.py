_base_ = ['./text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py']
# The vision-only baseline (Table 6): same backbone, TAP, and a learnable
# linear classifier instead of the frozen text classifier (paper 75.3).
model = dict(
    cls_head=dict(
        _delete_=True,
        type='LinearVideoHead',
        num_classes=400,
        in_channels=512,
        temporal=dict(type='TemporalAveragePooling'),
        average_clips='prob'))
