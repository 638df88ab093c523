"""What is compared: architectures, measured settings and the comparisons
(pairs of runs) reported."""
import os.path as osp

# the source tree this tool belongs to
REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

ARCHS = {
    'ViT-B-16':
    dict(embed_dim=512, image_size=224, layers=12, width=768, patch_size=16),
    'ViT-B-32':
    dict(embed_dim=512, image_size=224, layers=12, width=768, patch_size=32),
    'ViT-L-14':
    dict(embed_dim=768, image_size=224, layers=24, width=1024, patch_size=14),
    # for tests and a quick look: a few seconds per setting
    'tiny':
    dict(embed_dim=32, image_size=32, layers=2, width=64, patch_size=8),
}
INFER_SETTINGS = ('infer-fp32', 'infer-bf16', 'infer-fast', 'infer-compiled')
TRAIN_SETTINGS = ('train-cp', 'train-nocp')
SETTINGS = INFER_SETTINGS + TRAIN_SETTINGS
OURS_ONLY = ('infer-fast', 'infer-compiled')
FAST_MODES = ('auto', 'bf16-weights', 'autocast', 'fp32')
# which runs are compared, per setting of the numerator (ours)
COMPARISONS = (
    ('infer-fp32', 'infer-fp32', 'inference fp32'),
    ('infer-bf16', 'infer-bf16', 'inference bf16 autocast (both)'),
    ('infer-fast', 'infer-fp32', 'inference: ours fast vs original fp32'),
    ('infer-fast', 'infer-bf16', 'inference: ours fast vs original bf16'),
    ('infer-compiled', 'infer-fp32',
     'inference: ours compiled vs original fp32'),
    ('train-nocp', 'train-cp',
     'train step: ours (no ckpt) vs original as shipped'),
    ('train-nocp', 'train-nocp',
     'train step: no ckpt (original: outer level off)'),
    ('train-cp', 'train-cp', 'train step: checkpointing on (both)'),
)
