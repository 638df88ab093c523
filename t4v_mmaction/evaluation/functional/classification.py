"""Single-label classification metrics as pure numpy functions."""
import numpy as np

__all__ = ['mean_average_precision', 'mean_class_accuracy']


def _check(scores: np.ndarray, labels: np.ndarray):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim != 2 or labels.shape != (scores.shape[0], ):
        raise ValueError(f'scores must be (N, K) and labels (N, ); got '
                         f'{scores.shape} and {labels.shape}')
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f'labels must be integers, got {labels.dtype}')
    if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError(f'labels must lie in [0, {scores.shape[1]}), got '
                         f'[{labels.min()}, {labels.max()}]')
    return scores, labels


def _average_precision(score: np.ndarray, positive: np.ndarray) -> float:
    """Non-interpolated AP of one class; tied scores form one threshold."""
    order = np.argsort(-score, kind='mergesort')
    score, positive = score[order], positive[order]
    # last index of every run of equal scores
    last = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    tp = np.cumsum(positive)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0, tp]) / tp[-1]
    return float(np.sum(recall_gain * precision))


def mean_average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Class-wise mean average precision for single-label data.

    Each class is a binary ranking problem (its videos are the positives);
    AP = sum over thresholds of (recall gain x precision), the definition of
    ``sklearn.metrics.average_precision_score``, and the mean is taken over
    the classes with at least one positive. No softmax is applied (Text4Vis
    applies one on top of already softmaxed scores, which can change AP).

    Args:
        scores (np.ndarray): Scores of shape ``(N, K)``.
        labels (np.ndarray): Integer labels of shape ``(N, )``.

    Returns:
        float: mAP in [0, 1]; NaN when ``N == 0``.
    """
    scores, labels = _check(scores, labels)
    aps = [
        _average_precision(scores[:, c], labels == c)
        for c in np.unique(labels)
    ]
    return float(np.mean(aps)) if aps else float('nan')


def mean_class_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy averaged over the classes that have videos.

    Unlike ``mmaction.evaluation.mean_class_accuracy``, classes that are
    predicted but have no ground-truth video do not count as zero.

    Args:
        scores (np.ndarray): Scores of shape ``(N, K)``.
        labels (np.ndarray): Integer labels of shape ``(N, )``.

    Returns:
        float: Mean class accuracy in [0, 1]; NaN when ``N == 0``.
    """
    scores, labels = _check(scores, labels)
    if not labels.size:
        return float('nan')
    correct = scores.argmax(axis=1) == labels
    return float(
        np.mean([correct[labels == c].mean() for c in np.unique(labels)]))
