# Text4Vis with a CLIP ViT: per-frame CLIP encoder, T-Trans temporal fusion,
# frozen text classifier (CLIP text embeddings of the class names).
# Leaves set the architecture, the frame count and the class-name file.
model = dict(
    type='Text4VisRecognizer',
    backbone=dict(
        type='CLIPViT',
        arch='ViT-B-16',
        pretrained='openai',
        num_frames=8,
        grad_checkpointing=False),
    cls_head=dict(
        type='FrozenClassifierHead',
        num_classes=None,  # follows the classifier (its class names)
        in_channels=512,
        classifier=dict(
            type='text',
            class_names=None,  # class-name file, set by the dataset part
            model='ViT-B-16',
            pretrained='openai',
            templates=['a video of a person {}.']),
        temporal=dict(type='TemporalTransformer', num_layers=6),
        logit_scale=100.,
        learnable_scale=True,
        test_logit_scale=100.,
        view_fusion='embedding',
        average_clips='prob',
        loss_cls=dict(type='CrossEntropyLoss')),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.771, 116.746, 104.093],
        std=[68.500, 66.632, 70.323],
        format_shape='NCTHW'))
