from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from mmaction.evaluation.functional import top_k_accuracy
from mmaction.registry import METRICS
from ..functional import mean_average_precision, mean_class_accuracy
from ._single_label import single_label_results, stack_results


@METRICS.register_module()
class ClsMAPMetric(BaseMetric):
    """Class-wise mAP plus accuracies for single-label lists (ActivityNet).

    mmaction2's ``AccMetric`` computes mAP only for multi-hot labels; this
    metric takes the usual single-label lists, treats each class as a binary
    ranking problem and averages the per-class average precision over the
    classes that have videos (:func:`mean_average_precision`, no extra
    softmax). All values are fractions in [0, 1].

    Reported keys (with the prefix): ``mAP``, ``top{k}``,
    ``mean_class_accuracy`` and ``num_samples`` (videos scored).

    Args:
        topk (Sequence[int]): The k values of top-k accuracy. Defaults to
            ``(1, 5)``.
        collect_device (str): Device to gather results on. Defaults to
            ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to ``'cls'``.
    """
    default_prefix: Optional[str] = 'cls'

    def __init__(self,
                 topk: Sequence[int] = (1, 5),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(topk, int):
            topk = (topk, )
        if any(int(k) < 1 for k in topk):
            raise ValueError(f'topk must be positive ints, got {topk}')
        self.topk = tuple(int(k) for k in topk)

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
        """Compute the metrics from all stored samples.

        Args:
            results (list[dict]): Records from :meth:`process`.

        Returns:
            dict[str, float]: The metrics (see the class docstring).
        """
        scores, labels = stack_results(results)
        metrics = OrderedDict(mAP=mean_average_precision(scores, labels))
        for k, acc in zip(self.topk, top_k_accuracy(scores, labels,
                                                    self.topk)):
            metrics[f'top{k}'] = float(acc)
        metrics['mean_class_accuracy'] = mean_class_accuracy(scores, labels)
        metrics['num_samples'] = len(results)
        return metrics
