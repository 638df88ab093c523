_base_ = [
    '../../_base_/models/text4vis_clip-vit.py',
    '../../_base_/pipelines/clip_seg8-res256.py',
    '../../_base_/datasets/kinetics400.py',
    '../../_base_/schedules/text4vis_adamw-cosine_30e.py',
    '../../_base_/default_runtime.py'
]
# MobileCLIP 2 S2 (FastViT), 256 px: a small model for small devices,
# with T-Trans and the frozen text classifier of the same model. A
# convolutional tower: model time in the head (T-Trans, TAP). No
# Text4Vis result exists yet.
clip_arch = 'MobileCLIP2-S2'
pretrained = 'dfndr2b'
model = dict(
    backbone=dict(
        type='OpenCLIPVisual',  # open_clip's own tower
        arch=clip_arch,
        pretrained=pretrained,
        num_frames=_base_.num_frames),
    cls_head=dict(
        in_channels=512,
        classifier=dict(
            model=clip_arch,
            pretrained=pretrained,
            class_names=_base_.class_names)),
    # MobileCLIP takes pixels in [0, 1]: no mean, no std
    data_preprocessor=dict(mean=[0.] * 3, std=[255.] * 3))
train_dataloader = dict(
    batch_size=32, dataset=dict(pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline))
