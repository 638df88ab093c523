_base_ = [
    '../../_base_/models/text4vis_clip-vit.py',
    '../../_base_/pipelines/clip_seg8-res224.py',
    '../../_base_/datasets/kinetics400.py',
    '../../_base_/schedules/text4vis_adamw-cosine_30e.py',
    '../../_base_/default_runtime.py'
]
# Paper: 86.4 top-1 (8x3x4 views); the zero-shot model.
clip_arch = 'ViT-L-14'
model = dict(
    backbone=dict(
        arch=clip_arch,
        num_frames=_base_.num_frames,
        grad_checkpointing=True),  # fits 40-80 GB GPUs at this batch
    cls_head=dict(
        in_channels=768,
        classifier=dict(model=clip_arch, class_names=_base_.class_names)))
train_dataloader = dict(
    batch_size=8, dataset=dict(pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline))
