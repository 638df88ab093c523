# Text4Vis with a CLIP ResNet: per-frame CLIP ResNet (optionally T1D in
# res4-5), temporal fusion, frozen text classifier.
model = dict(
    type='Text4VisRecognizer',
    backbone=dict(
        type='CLIPResNet',
        arch='RN50',
        pretrained='openai',
        num_frames=8,
        t1d_stages=()),
    cls_head=dict(
        type='FrozenClassifierHead',
        num_classes=None,  # follows the classifier (its class names)
        in_channels=1024,
        classifier=dict(
            type='text',
            class_names=None,
            model='RN50',
            pretrained='openai',
            templates=['a video of a person {}.']),
        # heads = CLIP text width // 64 = 8, as the original
        temporal=dict(type='TemporalTransformer', num_layers=6, num_heads=8),
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
