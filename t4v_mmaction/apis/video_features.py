"""Video embeddings of sampled training videos, the data side of the LDA.

Builds the recognizer of an mmengine config, runs its backbone (and neck)
over a class-balanced sample of a split, read with the config's *test*
pipeline, and pools the outputs into one embedding per video. Only
``MODELS.build(cfg.model)`` and ``model.extract_feat`` are relied on: the
head (and its frozen classifier, which may be this very LDA) is never used.
"""
import copy
import logging
import os
import os.path as osp
import tempfile
from typing import Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import print_log
from tqdm import tqdm

from t4v_mmaction.datasets.robust_video_dataset import FAILED_KEY
from t4v_mmaction.models.classifiers.cache import (default_cache_dir,
                                                   usable_cache_dir)
from t4v_mmaction.models.classifiers.lda import sample_per_class
from t4v_mmaction.models.utils.views import fuse_views
from t4v_mmaction.utils import content_key, file_sha256

__all__ = [
    'extract_video_features', 'video_features_key', 'pool_video_embeddings'
]


def pool_video_embeddings(feats: torch.Tensor,
                          num_videos: int) -> torch.Tensor:
    """Average a batch's backbone outputs into one embedding per video.

    Args:
        feats (torch.Tensor): ``(B*V, T, D)`` per-frame embeddings (V views
            per video), ``(B*V, D)`` view embeddings, or channel-first CNN
            maps ``(B*M, D, H, W)`` / ``(B*V, D, T, H, W)``.
        num_videos (int): B.

    Returns:
        torch.Tensor: ``(B, D)``: mean over frames/space, then over views.
    """
    if feats.ndim == 3:
        feats = feats.mean(dim=1)  # (B*V, D)
    elif feats.ndim in (4, 5):
        feats = feats.flatten(2).mean(dim=2)  # (B*V, D)
    elif feats.ndim != 2:
        raise ValueError(f'cannot pool backbone outputs of shape '
                         f'{list(feats.shape)} into video embeddings')
    return fuse_views(feats, num_videos)  # (B, D)


def _load_config(cfg, cfg_options: Optional[dict] = None):
    from mmengine.config import Config
    if isinstance(cfg, (str, os.PathLike)):
        cfg = Config.fromfile(os.fspath(cfg))
    else:
        cfg = copy.deepcopy(cfg)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _test_dataset_cfg(cfg, split: str):
    key = f'{split}_dataloader'
    if key not in cfg:
        raise ValueError(f'the config has no {key}')
    dataset = copy.deepcopy(cfg[key]['dataset'])
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset['dataset']  # unwrap e.g. RepeatDataset
    pipeline = cfg.get('test_pipeline') or cfg.get('val_pipeline')
    if not pipeline:
        raise ValueError('the config defines neither test_pipeline nor '
                         'val_pipeline')
    dataset['pipeline'] = pipeline
    dataset['test_mode'] = True
    return dataset


def _feature_model_cfg(cfg) -> dict:
    """``cfg.model`` without the head: the features never use it."""
    model = copy.deepcopy(dict(cfg['model']))
    model.pop('cls_head', None)
    return model


def _files_in(value, found: dict) -> dict:
    """``{path: sha256}`` of every existing file a config value names."""
    if isinstance(value, str) and osp.isfile(value):
        found[value] = file_sha256(value)
    elif isinstance(value, dict):
        for item in value.values():
            _files_in(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _files_in(item, found)
    return found


def _save_npz(path: str, **arrays) -> None:
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.npz')
    with os.fdopen(fd, 'wb') as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def _build_model(cfg, checkpoint, seed: int, device: str):
    from mmaction.registry import MODELS
    from mmengine.runner import load_checkpoint
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model)
        if checkpoint is None:
            model.init_weights()
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu',
                        logger='current')
    return model.eval().to(device)


def video_features_key(cfg,
                       checkpoint=None,
                       num_per_class: int = 60,
                       seed: int = 0,
                       split: str = 'train',
                       cfg_options: Optional[dict] = None) -> str:
    """The content key of :func:`extract_video_features`' result.

    It covers the model (without its head), dataset and test-pipeline
    configs, the content (sha256) of every file they name (video list,
    class names, pretrained weights) and of the checkpoint, and the
    sampling. The videos themselves are not hashed.

    Returns:
        str: 24 hex digits.
    """
    cfg = _load_config(cfg, cfg_options)
    model, dataset = _feature_model_cfg(cfg), _test_dataset_cfg(cfg, split)
    return content_key(
        dict(
            model=model,
            dataset=dataset,
            files=_files_in([model, dataset], {}),
            checkpoint=None if checkpoint is None else
            (file_sha256(checkpoint) if osp.isfile(checkpoint) else
             str(checkpoint)),
            num_per_class=num_per_class,
            seed=seed))[:24]


def extract_video_features(cfg,
                           checkpoint=None,
                           num_per_class: int = 60,
                           seed: int = 0,
                           split: str = 'train',
                           cfg_options: Optional[dict] = None,
                           cache_dir: Union[None, bool, str] = None,
                           device: str = 'cpu',
                           batch_size: int = 8,
                           num_workers: int = 2,
                           progress: bool = True
                           ) -> Tuple[np.ndarray, np.ndarray]:
    """Embed ``num_per_class`` videos of each class with a config's model.

    The recognizer is built from ``cfg.model`` (its head is never used),
    then loads ``checkpoint``, or, without one, runs ``init_weights()`` so
    the backbone gets its pretrained (e.g. CLIP) weights, as in the paper's
    recipe. The videos are read with the config's ``test_pipeline`` (else
    ``val_pipeline``) over ``{split}_dataloader.dataset``. Results are
    cached as ``.npz`` under :func:`video_features_key`.

    Args:
        cfg (str | Config): The config file or object.
        checkpoint (str, optional): Recognizer checkpoint. Defaults to None.
        num_per_class (int): Videos per class. Defaults to 60.
        seed (int): Sampling (and model-init) seed. Defaults to 0.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        cfg_options (dict, optional): Overrides merged into the config.
        cache_dir (str | bool, optional): Defaults to None, ``features/``
            under the classifier cache; False disables the cache.
        device (str): Defaults to ``'cpu'``.
        batch_size (int): Videos per batch. Defaults to 8.
        num_workers (int): DataLoader workers. Defaults to 2.
        progress (bool): Show a tqdm bar. Defaults to True.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(N, D)`` float32 video embeddings
        and their ``(N,)`` int64 labels, in dataset order.
    """
    from mmaction.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    cfg = _load_config(cfg, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    cache_file = None
    if cache_dir is not False:
        folder = usable_cache_dir(
            cache_dir or osp.join(default_cache_dir(), 'features'))
        if folder is not None:
            digest = video_features_key(cfg, checkpoint, num_per_class, seed,
                                        split)
            cache_file = osp.join(folder, f'video-features-{digest}.npz')
    if cache_file is not None and osp.isfile(cache_file):
        print_log(f'loaded cached video features {cache_file}', 'current')
        with np.load(cache_file) as data:
            return data['features'], data['labels']

    dataset = DATASETS.build(_test_dataset_cfg(cfg, split))
    labels = np.array(
        [dataset.get_data_info(i)['label'] for i in range(len(dataset))])
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError('video features for LDA need single integer labels')
    num_classes = cfg.model.get('cls_head', {}).get('num_classes')
    indices = sample_per_class(labels, num_per_class, seed, num_classes)
    model = _build_model(cfg, checkpoint, seed, device)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, indices.tolist()),
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=pseudo_collate,
        shuffle=False)
    chunks, readable = [], []
    with torch.inference_mode():
        for data in tqdm(loader, desc='video features', disable=not progress):
            readable += [not s.get(FAILED_KEY, False)
                         for s in data['data_samples']]
            data = model.data_preprocessor(data, False)
            feats = model.extract_feat(data['inputs'], test_mode=True)
            if isinstance(feats, tuple):
                feats = feats[0]
            pooled = pool_video_embeddings(feats, len(data['data_samples']))
            chunks.append(pooled.float().cpu().numpy())  # (B, D)
    readable = np.array(readable, dtype=bool)
    if not readable.all():  # placeholders of unreadable videos: left out
        print_log(f'video features: {int((~readable).sum())} of '
                  f'{len(readable)} sampled videos could not be read and '
                  'are left out', 'current', logging.WARNING)
    if not readable.any():
        raise RuntimeError('video features: none of the sampled videos '
                           'could be read')
    features = np.concatenate(chunks).astype(np.float32)[readable]
    indices = indices[readable]
    labels = labels[indices].astype(np.int64)
    if cache_file is not None:
        try:
            _save_npz(cache_file, features=features, labels=labels,
                      indices=indices)
            print_log(f'saved {len(features)} video features to '
                      f'{cache_file}', 'current')
        except OSError as err:
            print_log(f'could not cache the video features ({err})',
                      'current')
    return features, labels
