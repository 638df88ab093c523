from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from mmaction.registry import METRICS
from ._read_failures import (check_scores, failure_record, is_failed,
                             report_failed, split_failed)


@METRICS.register_module()
class RobustMetric(BaseMetric):
    """Run any metric on the videos that could be read; count the others.

    Wraps a metric (e.g. ``ZeroShotMetric`` or ``ClsMAPMetric``) so that
    samples marked ``read_failed`` by
    :class:`~t4v_mmaction.datasets.RobustVideoDataset` are not scored; the
    wrapped metric's results gain ``num_scored`` and ``num_failed``, and the
    failed files are logged. For ``AccMetric`` use
    :class:`RobustAccMetric`.

    Args:
        metric (dict): Config of the wrapped metric.
        collect_device (str): Device to gather results on. Defaults to
            ``'cpu'``.
        prefix (str, optional): Key prefix; None uses the wrapped metric's.
            Defaults to None.
    """

    def __init__(self,
                 metric: dict,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.metric = METRICS.build(metric)
        if prefix is None:
            self.prefix = self.metric.prefix

    def process(self, data_batch: Any, data_samples: Sequence[Dict]) -> None:
        """Store one record per sample, in order.

        Args:
            data_batch (Any): A batch from the dataloader, passed on.
            data_samples (Sequence[dict]): Model outputs.
        """
        inner = self.metric.results
        for sample in data_samples:
            if is_failed(sample):
                self.results.append(failure_record(sample))
                continue
            check_scores(sample)
            start = len(inner)
            self.metric.process(data_batch, [sample])
            self.results.append(dict(records=inner[start:]))
            del inner[start:]

    def compute_metrics(self, results: List) -> Dict:
        """The wrapped metric on the scored videos, plus the counts.

        Args:
            results (list): Records from :meth:`process`.

        Returns:
            dict: The wrapped metric's results, ``num_scored`` and
            ``num_failed``.
        """
        scored, failed = split_failed(results)
        records = [r for item in scored for r in item['records']]
        metrics = dict(self.metric.compute_metrics(records) if records else
                       {})
        metrics['num_scored'] = len(scored)
        metrics['num_failed'] = len(failed)
        report_failed(type(self.metric).__name__, len(scored), failed)
        return metrics
