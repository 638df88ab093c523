_base_ = [
    '../../_base_/models/text4vis_clip-vit.py',
    '../../_base_/pipelines/clip_seg16-res224.py',
    '../../_base_/datasets/kinetics400.py',
    '../../_base_/schedules/text4vis_adamw-cosine_30e.py',
    '../../_base_/default_runtime.py'
]
# The 16-frame K400 model the UCF101/HMDB51/ActivityNet fine-tunes start
# from (not in the original zoo; its recipe is presumably the 8-frame one).
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
    batch_size=4, dataset=dict(pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline))
# 32 GPUs x 4 videos x 2 accumulation steps = 256
optim_wrapper = dict(accumulative_counts=2)
