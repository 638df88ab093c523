_base_ = [
    '../../_base_/models/text4vis_clip-vit.py',
    '../../_base_/pipelines/clip_seg8-res224.py',
    '../../_base_/datasets/hmdb51.py',
    '../../_base_/default_runtime.py'
]
# Table 4, HMDB51: half-class 58.1 +- 5.7, full-class 49.8 (top-1).
# Zero-shot, evaluation only: the Kinetics-400 ViT-L/14 8-frame T-Trans model
# (the original's "ViT-L/14*", i.e. a checkpoint of
# ../kinetics400/text4vis_vit-l14-ttrans_32xb8-seg8-30e_kinetics400-rgb.py
# or the converted original one) classifies every video (6,766)
# with the frozen text embeddings of this dataset's class names (same
# template), single view, 8 frames:
#   python tools/test.py THIS_CONFIG K400_CHECKPOINT
# Only the classifier differs from the K400 model; it is never in a
# checkpoint, so the K400 checkpoint loads as it is.
clip_arch = 'ViT-L-14'
model = dict(
    backbone=dict(
        arch=clip_arch,
        num_frames=_base_.num_frames,
        pretrained=None),  # every visual weight comes from the checkpoint
    cls_head=dict(
        num_classes=None,  # taken from the classifier: 51 here
        in_channels=768,
        classifier=dict(model=clip_arch, class_names=_base_.class_names)))
test_dataloader = dict(
    batch_size=16,
    dataset=dict(
        ann_file=_base_.ann_file_zero_shot,
        pipeline=_base_.test_pipeline))
# ZeroShotMetric: full-class top-1/top-5 over all 51 classes
# (zeroshot/full_top1) and half-class top-1/top-5, mean and population std
# over 10 random halves of the classes, seeds 0-9 (zeroshot/half_top1_mean,
# zeroshot/half_top1_std).
test_evaluator = dict(
    _delete_=True,
    type='RobustMetric',
    metric=dict(type='ZeroShotMetric', num_splits=10, topk=(1, 5)))
test_cfg = dict(type='TestLoop')
# nothing to train or validate
train_dataloader = None
train_cfg = None
val_dataloader = None
val_cfg = None
val_evaluator = None
