# Vendored from mmaction2 1.2.0 `configs/_base_/default_runtime.py`
# (Apache-2.0) rather than inherited as `mmaction::_base_/...`: that lookup
# needs pkg_resources, which setuptools >= 81 no longer ships.
# Differences from upstream: `custom_imports` (registers t4v_mmaction and
# applies its compat fixes in every process that parses a config), this
# package's hooks, a fixed seed and a disabled `visualization` hook (so
# `tools/test.py --show-dir` works).
# `dist_cfg.backend='nccl'` stays: without CUDA, t4v_mmaction uses gloo.
# Keep this file free of `import` statements (mmengine would misread it as a
# lazy-import config on Python >= 3.11).
default_scope = 'mmaction'

custom_imports = dict(imports=['t4v_mmaction'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
    visualization=dict(type='VisualizationHook', enable=False))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

# skipped-video counts across workers and ranks, labels and class names vs
# the model; an exact --resume (per-sample augmentation seeds, the random
# generators saved in checkpoints)
custom_hooks = [dict(type='VideoDataHook'), dict(type='ExactResumeHook')]
# a fixed seed: a resumed run continues exactly (a random one would differ);
# deterministic=True as well for bit-identical GPU runs (slower)
randomness = dict(seed=0, deterministic=False)

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
