"""Video embeddings of sampled training videos, the data side of the LDA.

Builds the recognizer of an mmengine config, runs its backbone (and neck)
over a class-balanced sample of a split, read with the config's *test*
pipeline, and pools the outputs into one embedding per video. Only
``MODELS.build(cfg.model)`` and ``model.extract_feat`` are relied on.
"""
import copy
import hashlib
import os
import os.path as osp
import tempfile
from typing import Tuple, Union

import numpy as np
import torch
from mmengine.logging import print_log
from tqdm import tqdm

from .io import canonical_json, default_cache_dir
from .lda import sample_per_class

__all__ = [
    'extract_video_features', 'feature_cache_key', 'pool_video_embeddings'
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
    if feats.shape[0] % num_videos:
        raise ValueError(f'{feats.shape[0]} backbone outputs do not split '
                         f'evenly over {num_videos} videos')
    return feats.view(num_videos, -1, feats.shape[-1]).mean(dim=1)  # (B, D)


def _load_config(cfg):
    from mmengine.config import Config
    if isinstance(cfg, (str, os.PathLike)):
        return Config.fromfile(os.fspath(cfg))
    return copy.deepcopy(cfg)


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


def _model_cfg(cfg):
    """``cfg.model`` with a random placeholder instead of the classifier.

    The frozen classifier of the head may itself be this LDA; building it
    again here would recurse, and extract_feat never uses it.
    """
    model = copy.deepcopy(cfg['model'])
    head = model.get('cls_head')
    if head is not None and 'classifier' in head:
        if head.get('num_classes') is None or head.get('in_channels') is None:
            raise ValueError('cls_head needs num_classes and in_channels to '
                             'build a placeholder classifier')
        head['classifier'] = dict(
            type='random',
            num_classes=head['num_classes'],
            dim=head['in_channels'])
    if model.get('type') == 'Text4VisRecognizer':
        # the placeholder head may lack the checkpoint's projection; only
        # the backbone is used here
        model['strict_load'] = False
    return model


def _checkpoint_id(checkpoint) -> Union[str, list]:
    if checkpoint is None:
        return 'init_weights'
    if osp.isfile(checkpoint):
        stat = os.stat(checkpoint)
        return [osp.realpath(checkpoint), stat.st_size, stat.st_mtime_ns]
    return str(checkpoint)  # e.g. a URL


def _save_npz(path: str, **arrays) -> None:
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.npz')
    with os.fdopen(fd, 'wb') as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def _build_model(model_cfg, checkpoint, seed: int, device: str):
    from mmaction.registry import MODELS
    from mmengine.runner import load_checkpoint
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MODELS.build(model_cfg)
        if checkpoint is None:
            model.init_weights()
    if checkpoint is not None:
        load_checkpoint(
            model, checkpoint, map_location='cpu', strict=False,
            logger='current')
    return model.eval().to(device)


def feature_cache_key(cfg,
                      checkpoint=None,
                      num_per_class: int = 60,
                      seed: int = 0,
                      split: str = 'train') -> str:
    """The content key of :func:`extract_video_features`' result.

    It covers the model, dataset and test-pipeline configs (not the
    schedule), the checkpoint's path, size and mtime, and the sampling.

    Returns:
        str: 24 hex digits.
    """
    cfg = _load_config(cfg)
    key = canonical_json(
        dict(
            model=_model_cfg(cfg),
            dataset=_test_dataset_cfg(cfg, split),
            checkpoint=_checkpoint_id(checkpoint),
            num_per_class=num_per_class,
            seed=seed))
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def extract_video_features(cfg,
                           checkpoint=None,
                           num_per_class: int = 60,
                           seed: int = 0,
                           split: str = 'train',
                           cache_dir=None,
                           device: str = 'cpu',
                           batch_size: int = 8,
                           num_workers: int = 2,
                           progress: bool = True
                           ) -> Tuple[np.ndarray, np.ndarray]:
    """Embed ``num_per_class`` videos of each class with a config's model.

    The recognizer is built from ``cfg.model`` (with a placeholder in place
    of ``cls_head.classifier``), then loads ``checkpoint``, or, without one,
    runs ``init_weights()`` so the backbone gets its pretrained (e.g. CLIP)
    weights, as in the paper's recipe. The videos are read with the
    config's ``test_pipeline`` (else ``val_pipeline``) over
    ``{split}_dataloader.dataset``. Results are cached as ``.npz`` keyed by
    the model, dataset and pipeline configs, the checkpoint's path, size and
    mtime, and the sampling.

    Args:
        cfg (str | Config): The config file or object.
        checkpoint (str, optional): Recognizer checkpoint. Defaults to None.
        num_per_class (int): Videos per class. Defaults to 60.
        seed (int): Sampling (and model-init) seed. Defaults to 0.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        cache_dir (str, optional): Defaults to None, ``features/`` under
            :func:`~.io.default_cache_dir`.
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
    cfg = _load_config(cfg)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    dataset_cfg = _test_dataset_cfg(cfg, split)
    model_cfg = _model_cfg(cfg)
    digest = feature_cache_key(cfg, checkpoint, num_per_class, seed, split)
    cache_dir = cache_dir or osp.join(default_cache_dir(), 'features')
    cache_file = osp.join(cache_dir, f'video-features-{digest}.npz')
    if osp.isfile(cache_file):
        print_log(f'loaded cached video features {cache_file}', 'current')
        with np.load(cache_file) as data:
            return data['features'], data['labels']

    dataset = DATASETS.build(dataset_cfg)
    labels = np.array(
        [dataset.get_data_info(i)['label'] for i in range(len(dataset))])
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError('video features for LDA need single integer labels')
    num_classes = model_cfg.get('cls_head', {}).get('num_classes')
    indices = sample_per_class(labels, num_per_class, seed, num_classes)
    model = _build_model(model_cfg, checkpoint, seed, device)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, indices.tolist()),
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=pseudo_collate,
        shuffle=False)
    chunks = []
    with torch.inference_mode():
        for data in tqdm(loader, desc='video features', disable=not progress):
            data = model.data_preprocessor(data, False)
            feats = model.extract_feat(data['inputs'], test_mode=True)
            if isinstance(feats, tuple):
                feats = feats[0]
            pooled = pool_video_embeddings(feats, len(data['data_samples']))
            chunks.append(pooled.float().cpu().numpy())  # (B, D)
    features = np.concatenate(chunks).astype(np.float32)
    _save_npz(
        cache_file,
        features=features,
        labels=labels[indices].astype(np.int64),
        indices=indices)
    print_log(
        f'saved {len(features)} video features to {cache_file}', 'current')
    return features, labels[indices].astype(np.int64)
