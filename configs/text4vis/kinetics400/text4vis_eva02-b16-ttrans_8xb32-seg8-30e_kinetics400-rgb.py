_base_ = [
    '../../_base_/models/text4vis_clip-vit.py',
    '../../_base_/pipelines/clip_seg8-res224.py',
    '../../_base_/datasets/kinetics400.py',
    '../../_base_/schedules/text4vis_adamw-cosine_30e.py',
    '../../_base_/default_runtime.py'
]
# EVA-02-CLIP ViT-B/16, 224 px, with T-Trans and the frozen text
# classifier of the same model (CLIP normalisation, as the base). No
# Text4Vis result exists yet.
clip_arch = 'EVA02-B-16'
pretrained = 'merged2b_s8b_b131k'
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
            class_names=_base_.class_names)))
train_dataloader = dict(
    batch_size=32, dataset=dict(pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline))
