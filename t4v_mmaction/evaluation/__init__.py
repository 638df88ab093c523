from .functional import (half_class_splits, mean_average_precision,
                         mean_class_accuracy, split_accuracy)
from .metrics import (ClsMAPMetric, RobustAccMetric, RobustMetric,
                      ZeroShotMetric)

__all__ = [
    'ZeroShotMetric', 'ClsMAPMetric', 'RobustAccMetric', 'RobustMetric',
    'half_class_splits', 'split_accuracy', 'mean_average_precision',
    'mean_class_accuracy'
]
