# The Text4Vis recipe: AdamW (wd 0.2 on every parameter), lr 5e-5 for new
# modules and 5e-6 (x0.1) for the CLIP visual encoder and the logit scale,
# 5 linear warm-up epochs then cosine to 0 at epoch 30, AMP, batch 256.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=30, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-5, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.2),
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.1),
            # TokenT1D / T1D convs sit inside the backbone but are new
            'temporal.conv': dict(lr_mult=1.0),
            'cls_head.logit_scale': dict(lr_mult=0.1),
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=25,
        eta_min=0,
        by_epoch=True,
        begin=5,
        end=30,
        convert_to_iter_based=True)
]

# lr is for a total batch of 256 videos; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(enable=False, base_batch_size=256)
