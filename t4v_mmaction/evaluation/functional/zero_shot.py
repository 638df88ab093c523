"""Text4Vis' half-class zero-shot protocol as pure numpy functions."""
from typing import Iterable, List, Optional, Sequence

import numpy as np

__all__ = ['half_class_splits', 'split_accuracy']


def half_class_splits(num_classes: int,
                      num_splits: int = 10,
                      seeds: Optional[Iterable[int]] = None
                      ) -> List[np.ndarray]:
    """Class subsets of the half-class zero-shot evaluation.

    Split ``s`` is ``permutation(num_classes)[:num_classes // 2]`` of a numpy
    generator seeded with ``s``, the same classes as Text4Vis'
    ``np.random.seed(s); np.random.permutation(C)[:C // 2]``, but from a local
    ``RandomState`` so the global numpy state is untouched.

    Args:
        num_classes (int): Number of classes ``C``.
        num_splits (int): Number of splits. Defaults to 10.
        seeds (Iterable[int], optional): One seed per split; None means
            ``range(num_splits)``. Defaults to None.

    Returns:
        list[np.ndarray]: Per split, the ``C // 2`` selected class indices in
        permutation order (not sorted).
    """
    if num_classes < 2:
        raise ValueError(f'need at least 2 classes, got {num_classes}')
    seeds = list(range(num_splits) if seeds is None else seeds)
    if len(seeds) != num_splits:
        raise ValueError(f'got {len(seeds)} seeds for num_splits={num_splits}')
    return [
        np.random.RandomState(s).permutation(num_classes)[:num_classes // 2]
        for s in seeds
    ]


def split_accuracy(scores: np.ndarray,
                   labels: np.ndarray,
                   classes: Sequence[int],
                   topk: Sequence[int] = (1, )) -> List[float]:
    """Top-k accuracy restricted to a subset of classes.

    As Text4Vis: keep the videos whose label is in ``classes``; the scored
    classes are the sorted distinct labels of those videos (a selected class
    without videos is not scored); labels become 0..k-1 in that order.
    Restricting the columns of any row-wise monotone score (logits or
    softmax over all classes) gives the same ranking as re-scoring on the
    subset.

    Args:
        scores (np.ndarray): Scores of shape ``(N, K)``.
        labels (np.ndarray): Integer labels of shape ``(N, )``.
        classes (Sequence[int]): Selected class indices.
        topk (Sequence[int]): The k values. Defaults to ``(1, )``.

    Returns:
        list[float]: Accuracy in [0, 1] for each k; NaN when no video
        belongs to ``classes``.
    """
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2 or labels.shape != (scores.shape[0], ):
        raise ValueError(f'scores must be (N, K) and labels (N, ); got '
                         f'{scores.shape} and {labels.shape}')
    keep = np.isin(labels, np.asarray(classes))
    if not keep.any():
        return [float('nan')] * len(topk)
    subclasses = np.unique(labels[keep])
    sub_scores = scores[keep][:, subclasses]  # (n, k)
    sub_labels = np.searchsorted(subclasses, labels[keep])  # 0..k-1
    order = np.argsort(-sub_scores, axis=1, kind='stable')
    hits = order == sub_labels[:, None]  # (n, k)
    return [float(hits[:, :k].any(axis=1).mean()) for k in topk]
