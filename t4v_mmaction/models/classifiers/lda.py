"""LDA classifier: the paper's "visual statistic knowledge" row of Table 5.

The maintainers' recipe (Text4Vis issue #17): sample 60 training videos per
class, embed them with the pretrained CLIP visual encoder, fit LDA on
(embedding, label) and use the LDA coefficients as the frozen classifier.
The solver, shrinkage and feature normalisation were not published, so they
are options. The video side (building a config's model and dataset) is
:func:`t4v_mmaction.apis.extract_video_features`.
"""
import argparse
import os.path as osp
import warnings
from typing import Optional, Union

import numpy as np
import torch

from t4v_mmaction.registry import CLASSIFIERS
from t4v_mmaction.utils import file_sha256
from .base import BaseClassifier

__all__ = ['LDAClassifier', 'build_lda_classifier', 'sample_per_class']

ArrayLike = Union[np.ndarray, torch.Tensor]


def _to_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def build_lda_classifier(features: ArrayLike,
                         labels: ArrayLike,
                         solver: str = 'svd',
                         shrinkage: Optional[Union[float, str]] = None,
                         num_classes: Optional[int] = None,
                         l2_normalize: bool = False) -> torch.Tensor:
    """Fit scikit-learn's LDA and return its coefficients as the classifier.

    The intercept is dropped: the frozen head scores by cosine similarity.
    For two classes scikit-learn returns a single row ``w`` (positive means
    class 1); it is returned as the rows ``[-w, w]`` so that each class
    still has its own row.

    Args:
        features (np.ndarray | torch.Tensor): ``(N, D)`` video embeddings;
            fitted in float64.
        labels (np.ndarray | torch.Tensor): ``(N,)`` integer labels.
        solver (str): ``'svd'``, ``'lsqr'`` or ``'eigen'``. Defaults to
            ``'svd'``.
        shrinkage (float | str, optional): ``None``, ``'auto'``
            (Ledoit-Wolf) or a float in [0, 1]; not with ``'svd'``.
            Defaults to None.
        num_classes (int, optional): C. Every class ``0..C-1`` must have
            samples. Defaults to None, ``max(labels) + 1``.
        l2_normalize (bool): L2-normalise the features before fitting.
            Defaults to False.

    Returns:
        torch.Tensor: ``(C, D)`` float32 (``nn.Linear.weight``
        orientation), row ``c`` = ``coef_[c]``.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    x = _to_numpy(features).astype(np.float64)
    y = _to_numpy(labels)
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f'features must be (N, D) and labels (N,), got '
                         f'{list(x.shape)} and {list(y.shape)}')
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f'labels must be integers, got dtype {y.dtype}')
    if solver not in ('svd', 'lsqr', 'eigen'):
        raise ValueError(f"solver must be 'svd', 'lsqr' or 'eigen', got "
                         f'{solver!r}')
    if solver == 'svd' and shrinkage is not None:
        raise ValueError("shrinkage needs solver='lsqr' or 'eigen'; the "
                         "'svd' solver does not support it")
    num_classes = int(y.max()) + 1 if num_classes is None else num_classes
    missing = sorted(set(range(num_classes)) - set(y.tolist()))
    if missing or y.min() < 0 or y.max() >= num_classes:
        raise ValueError(
            f'LDA needs samples of every class 0..{num_classes - 1}; '
            f'classes without samples: {missing[:20]}, label range '
            f'[{y.min()}, {y.max()}]')
    if num_classes < 2:
        raise ValueError('LDA needs at least 2 classes')
    if l2_normalize:
        x = x / np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)
    lda = LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage)
    coef = lda.fit(x, y).coef_  # (C, D), or (1, D) for 2 classes
    if num_classes == 2:
        coef = np.concatenate([-coef, coef])
    return torch.from_numpy(np.ascontiguousarray(coef)).to(torch.float32)


def sample_per_class(labels: ArrayLike,
                     num_per_class: int = 60,
                     seed: int = 0,
                     num_classes: Optional[int] = None) -> np.ndarray:
    """Draw up to ``num_per_class`` indices of each class, deterministically.

    Classes with fewer videos contribute all they have; they are listed in a
    warning (as are classes below ``num_classes`` with no video at all).

    Args:
        labels (np.ndarray | torch.Tensor): ``(N,)`` integer labels.
        num_per_class (int): Videos per class. Defaults to 60.
        seed (int): Seed of ``np.random.default_rng``. Defaults to 0.
        num_classes (int, optional): C, to report empty classes. Defaults
            to None.

    Returns:
        np.ndarray: Sorted int64 indices into ``labels``.
    """
    y = _to_numpy(labels).astype(np.int64)
    if num_per_class < 1:
        raise ValueError(f'num_per_class must be >= 1, got {num_per_class}')
    rng = np.random.default_rng(seed)
    order = np.argsort(y, kind='stable')
    classes, starts, counts = np.unique(
        y[order], return_index=True, return_counts=True)
    chosen, short = [], []
    for cls, start, count in zip(classes, starts, counts):
        members = order[start:start + count]
        if count <= num_per_class:
            chosen.append(members)
            if count < num_per_class:
                short.append(f'{cls} ({count})')
        else:
            chosen.append(rng.choice(members, num_per_class, replace=False))
    if num_classes is not None:
        short += [f'{c} (0)' for c in sorted(set(range(num_classes)) -
                                             set(classes.tolist()))]
    if short:
        warnings.warn(
            f'{len(short)} classes have fewer than {num_per_class} videos and '
            f'contribute all they have (class (count)): '
            f'{", ".join(short[:30])}{" ..." if len(short) > 30 else ""}')
    if not chosen:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def _shrinkage(value: str):
    return value if value == 'auto' else float(value)


@CLASSIFIERS.register_module(name='lda')
class LDAClassifier(BaseClassifier):
    """``dict(type='lda', config='CFG.py', num_per_class=60)`` or
    ``dict(type='lda', features='feats.npz')``.

    Args:
        config (str, optional): A recognizer config: its model (after
            ``init_weights``, i.e. the pretrained backbone, or ``checkpoint``)
            embeds ``num_per_class`` videos of each class of its
            ``{split}_dataloader`` read with its test pipeline.
        features (str, optional): Or an ``.npz`` with ``features (N, D)`` and
            ``labels (N,)``.
        checkpoint (str, optional): Recognizer weights for ``config``.
        cfg_options (dict, optional): Overrides merged into ``config``.
        num_per_class (int): Videos per class. Defaults to 60.
        seed (int): Sampling seed. Defaults to 0.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        solver, shrinkage, l2_normalize: See :func:`build_lda_classifier`.
        num_classes (int, optional): K; defaults to the names or the head's.
        device, batch_size, num_workers, progress: How the videos are
            embedded (they do not change the result).
        classes: See :class:`~.base.BaseClassifier`.
    """
    kind = 'lda'

    def __init__(self,
                 config: Optional[str] = None,
                 features: Optional[str] = None,
                 checkpoint: Optional[str] = None,
                 cfg_options: Optional[dict] = None,
                 num_per_class: int = 60,
                 seed: int = 0,
                 split: str = 'train',
                 solver: str = 'svd',
                 shrinkage: Optional[Union[float, str]] = None,
                 l2_normalize: bool = False,
                 num_classes: Optional[int] = None,
                 device: str = 'cpu',
                 batch_size: int = 8,
                 num_workers: int = 2,
                 progress: bool = True,
                 classes=None,
                 cache: bool = True,
                 cache_dir: Optional[str] = None):
        super().__init__(classes, cache, cache_dir)
        if (config is None) == (features is None):
            raise ValueError("an 'lda' spec needs exactly one of config= (a "
                             'model config to embed videos with) or '
                             "features= (an .npz with 'features' and "
                             "'labels')")
        self.config, self.features, self.checkpoint = (config, features,
                                                       checkpoint)
        self.cfg_options = dict(cfg_options or {})
        self.num_per_class, self.seed, self.split = num_per_class, seed, split
        self.solver, self.shrinkage = solver, shrinkage
        self.l2_normalize = l2_normalize
        self._num_classes = num_classes
        self.device, self.batch_size = device, batch_size
        self.num_workers, self.progress = num_workers, progress

    @property
    def num_classes(self) -> Optional[int]:
        return self._num_classes if self._num_classes is not None else \
            super().num_classes

    def complete(self, num_classes=None, dim=None) -> None:
        if self.num_classes is None:
            self._num_classes = num_classes

    def dim(self) -> Optional[int]:
        if self.features is None or not osp.isfile(self.features):
            return None
        with np.load(self.features, allow_pickle=False) as data:
            return int(data['features'].shape[1])

    def options(self) -> dict:
        return dict(
            config=self.config, features=self.features,
            checkpoint=self.checkpoint, cfg_options=self.cfg_options,
            num_per_class=self.num_per_class, seed=self.seed,
            split=self.split, solver=self.solver, shrinkage=self.shrinkage,
            l2_normalize=self.l2_normalize, num_classes=self.num_classes)

    def inputs(self) -> dict:
        if self.features is not None:
            return dict(features_sha256=file_sha256(self.features))
        from t4v_mmaction.apis.video_features import video_features_key
        return dict(video_features=video_features_key(
            self.config, self.checkpoint, self.num_per_class, self.seed,
            self.split, self.cfg_options))

    def describe(self) -> str:
        return f'lda classifier of {self.config or self.features}'

    def _data(self):
        if self.features is not None:
            with np.load(self.features, allow_pickle=False) as data:
                return data['features'], data['labels']
        from t4v_mmaction.apis.video_features import extract_video_features
        return extract_video_features(
            self.config, checkpoint=self.checkpoint,
            num_per_class=self.num_per_class, seed=self.seed,
            split=self.split, cfg_options=self.cfg_options,
            device=self.device, batch_size=self.batch_size,
            num_workers=self.num_workers, progress=self.progress,
            cache_dir=self.cache_dir if self.cache else False)

    def compute(self) -> torch.Tensor:
        x, y = self._data()
        return build_lda_classifier(x, y, self.solver, self.shrinkage,
                                    self.num_classes, self.l2_normalize)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        from mmengine.config import DictAction
        super().add_arguments(parser)
        parser.add_argument('--config', help='recognizer config to embed '
                            'videos with')
        parser.add_argument(
            '--features', help="or an .npz with 'features' and 'labels'")
        parser.add_argument(
            '--checkpoint',
            help='recognizer checkpoint (default: init_weights, i.e. the '
            'pretrained backbone)')
        parser.add_argument(
            '--cfg-options', nargs='+', action=DictAction,
            help='overrides of --config, key=value pairs')
        parser.add_argument('--num-per-class', type=int)
        parser.add_argument('--seed', type=int, help='sampling seed (0)')
        parser.add_argument('--split', choices=['train', 'val', 'test'])
        parser.add_argument('--solver', choices=['svd', 'lsqr', 'eigen'])
        parser.add_argument('--shrinkage', type=_shrinkage,
                            help="a float in [0, 1] or 'auto'")
        parser.add_argument('--l2-normalize', action='store_true',
                            default=None)
        parser.add_argument('--num-classes', type=int)
        parser.add_argument('--device', help="e.g. 'cuda' (default 'cpu')")
        parser.add_argument('--batch-size', type=int)
        parser.add_argument('--num-workers', type=int)
