"""Conversion of predicted samples shared by the single-label metrics."""
from typing import Dict, List, Sequence, Tuple

import numpy as np


def single_label_results(data_samples: Sequence[Dict]) -> List[Dict]:
    """Turn predicted samples into CPU numpy records.

    Args:
        data_samples (Sequence[dict]): ``ActionDataSample.to_dict()`` outputs
            with ``pred_score`` (shape ``(K, )``) and ``gt_label`` (shape
            ``(1, )``).

    Returns:
        list[dict]: ``dict(pred=np.ndarray (K, ), label=int)`` per sample.
    """
    results = []
    for sample in data_samples:
        label = sample['gt_label']
        if label.numel() != 1:
            raise ValueError(
                'expected single-label ground truth (gt_label of size 1), '
                f'got shape {tuple(label.shape)}; build the dataset with '
                'multi_class=False')
        results.append(
            dict(
                pred=sample['pred_score'].detach().float().cpu().numpy(),
                label=int(label.item())))
    return results


def stack_results(results: Sequence[Dict]) -> Tuple[np.ndarray, np.ndarray]:
    """Stack records into ``scores (N, K)`` and ``labels (N, )``."""
    if not results:
        raise ValueError('no sample was evaluated')
    scores = np.stack([r['pred'] for r in results])
    labels = np.array([r['label'] for r in results], dtype=np.int64)
    return scores, labels
