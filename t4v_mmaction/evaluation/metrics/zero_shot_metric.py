import logging
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmaction.evaluation.functional import top_k_accuracy
from mmaction.registry import METRICS
from ..functional import half_class_splits, split_accuracy
from ._single_label import single_label_results, stack_results


@METRICS.register_module()
class ZeroShotMetric(BaseMetric):
    """Full-class and half-class zero-shot accuracy of Text4Vis.

    `Revisiting Classifier: Transferring Vision-Language Models for Video
    Recognition <https://arxiv.org/abs/2207.01297>`_

    Full class: top-k accuracy over all classes. Half class: for split
    seeds ``0 .. num_splits - 1``, the top-k accuracy of the videos of a
    random half of the classes scored against that half only
    (:func:`half_class_splits`, :func:`split_accuracy`); reported as the mean
    and population standard deviation (``ddof=0``) over the splits. All
    accuracies are fractions in [0, 1].

    Reported keys (with the prefix): ``full_top{k}``, ``half_top{k}_mean``,
    ``half_top{k}_std`` and ``num_samples`` (videos scored).

    Args:
        num_splits (int): Number of half-class splits. Defaults to 10.
        topk (Sequence[int]): The k values. Defaults to ``(1, 5)``.
        full_class (bool): Report full-class accuracy. Defaults to True.
        half_class (bool): Report half-class accuracy. Defaults to True.
        collect_device (str): Device to gather results on. Defaults to
            ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to ``'zeroshot'``.
    """
    default_prefix: Optional[str] = 'zeroshot'

    def __init__(self,
                 num_splits: int = 10,
                 topk: Sequence[int] = (1, 5),
                 full_class: bool = True,
                 half_class: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not (full_class or half_class):
            raise ValueError('enable full_class, half_class or both')
        if isinstance(topk, int):
            topk = (topk, )
        if not topk or any(int(k) < 1 for k in topk):
            raise ValueError(f'topk must be positive ints, got {topk}')
        if num_splits < 1:
            raise ValueError(f'num_splits must be >= 1, got {num_splits}')
        self.num_splits = num_splits
        self.topk = tuple(int(k) for k in topk)
        self.full_class = full_class
        self.half_class = half_class

    def process(self, data_batch: Sequence,
                data_samples: Sequence[Dict]) -> None:
        """Store the scores ``(K, )`` and label of every sample.

        Args:
            data_batch (Sequence): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs with ``pred_score``
                and ``gt_label``.
        """
        self.results.extend(single_label_results(data_samples))

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        """Compute the accuracies from all stored samples.

        Args:
            results (list[dict]): Records from :meth:`process`.

        Returns:
            dict[str, float]: The metrics (see the class docstring).
        """
        scores, labels = stack_results(results)
        metrics = OrderedDict()
        if self.full_class:
            accs = top_k_accuracy(scores, labels, self.topk)
            for k, acc in zip(self.topk, accs):
                metrics[f'full_top{k}'] = float(acc)
        if self.half_class:
            splits = half_class_splits(scores.shape[1], self.num_splits)
            per_split = np.array([
                split_accuracy(scores, labels, c, self.topk) for c in splits
            ])  # (num_splits, len(topk))
            if np.isnan(per_split).any():
                print_log(
                    'ZeroShotMetric: some half-class splits have no video; '
                    'their mean and std are NaN',
                    logger='current',
                    level=logging.WARNING)
            for j, k in enumerate(self.topk):
                metrics[f'half_top{k}_mean'] = float(per_split[:, j].mean())
                metrics[f'half_top{k}_std'] = float(per_split[:, j].std())
            print_log(
                f'ZeroShotMetric: half-class top-{self.topk[0]} per split '
                f'{np.round(per_split[:, 0], 4).tolist()}',
                logger='current')
        metrics['num_samples'] = len(results)
        return metrics
