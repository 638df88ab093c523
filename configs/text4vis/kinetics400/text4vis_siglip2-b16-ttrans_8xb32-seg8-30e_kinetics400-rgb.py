_base_ = [
    '../../_base_/models/text4vis_clip-vit.py',
    '../../_base_/pipelines/clip_seg8-res224.py',
    '../../_base_/datasets/kinetics400.py',
    '../../_base_/schedules/text4vis_adamw-cosine_30e.py',
    '../../_base_/default_runtime.py'
]
# SigLIP 2 ViT-B/16, 224 px, with T-Trans and the frozen text classifier
# of the same model. Its text tokenizer comes from the Hugging Face Hub;
# offline, give a local copy of it:
#   --cfg-options model.cls_head.classifier.tokenizer=FOLDER
# The tower pools by attention and has no [class] token: in-backbone
# TokenT1D does not apply. No Text4Vis result exists yet.
clip_arch = 'ViT-B-16-SigLIP2'
pretrained = 'webli'
model = dict(
    backbone=dict(
        type='OpenCLIPVisual',  # open_clip's own tower
        arch=clip_arch,
        pretrained=pretrained,
        num_frames=_base_.num_frames),
    cls_head=dict(
        in_channels=768,
        classifier=dict(
            model=clip_arch,
            pretrained=pretrained,
            class_names=_base_.class_names)),
    # the normalisation the weights were trained with (0.5, 0.5)
    data_preprocessor=dict(mean=[127.5] * 3, std=[127.5] * 3))
train_dataloader = dict(
    batch_size=32, dataset=dict(pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline))
