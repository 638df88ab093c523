"""The embedded default: a generated toy video dataset and the paper's
experiments in miniature (``make demo``, ``tools/toy_ablation.py``)."""
from .experiment import run_zero_shot, use_data_root, zero_shot_config
from .videos import make_toy_dataset, toy_classes

__all__ = [
    'make_toy_dataset', 'toy_classes', 'use_data_root', 'zero_shot_config',
    'run_zero_shot'
]
