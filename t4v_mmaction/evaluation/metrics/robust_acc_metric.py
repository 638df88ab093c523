from collections import OrderedDict
from typing import Any, Dict, List, Sequence

from mmaction.evaluation import AccMetric
from mmaction.registry import METRICS
from ._read_failures import (check_scores, failure_record, is_failed,
                             report_failed, split_failed)


@METRICS.register_module()
class RobustAccMetric(AccMetric):
    """``AccMetric`` that leaves out the videos the dataset could not read.

    :class:`~t4v_mmaction.datasets.RobustVideoDataset` marks an unreadable
    test video ``read_failed`` instead of dropping it. Such samples are not
    scored: the accuracies are over the readable videos only, and the
    metrics add ``num_scored`` and ``num_failed``; the failed files and the
    reasons are logged. Other samples are handled exactly as by
    ``AccMetric``.

    Args:
        **kwargs: ``AccMetric`` arguments (``metric_list``,
            ``metric_options``, ``collect_device``, ``prefix``).
    """

    def process(self, data_batch: Any, data_samples: Sequence[Dict]) -> None:
        """Store one record per sample, in order.

        Args:
            data_batch (Any): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs with ``pred_score``
                and ``gt_label``; failed reads also with ``read_failed``.
        """
        for sample in data_samples:
            if is_failed(sample):
                self.results.append(failure_record(sample))
                continue
            check_scores(sample)
            super().process(data_batch, [sample])

    def compute_metrics(self, results: List) -> Dict:
        """AccMetric's metrics over the scored videos, plus the counts.

        Args:
            results (list): Records from :meth:`process`.

        Returns:
            dict: ``top{k}``, ``mean1`` (as configured), ``num_scored`` and
            ``num_failed``. With no readable video only the counts.
        """
        scored, failed = split_failed(results)
        metrics = OrderedDict(super().compute_metrics(scored) if scored else
                              {})
        metrics['num_scored'] = len(scored)
        metrics['num_failed'] = len(failed)
        report_failed(type(self).__name__, len(scored), failed)
        return metrics
