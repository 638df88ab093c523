"""LDA classifier: the paper's "visual statistic knowledge" row of Table 5.

The maintainers' recipe (Text4Vis issue #17): sample 60 training videos per
class, embed them with the pretrained CLIP visual encoder, fit LDA on
(embedding, label) and use the LDA coefficients as the frozen classifier.
The solver, shrinkage and feature normalisation were not published, so they
are options. The video side lives in :mod:`.video_features`.
"""
import warnings
from typing import Optional, Union

import numpy as np
import torch

__all__ = ['build_lda_classifier', 'sample_per_class']

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
