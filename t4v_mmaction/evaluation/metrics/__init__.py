from .cls_map_metric import ClsMAPMetric
from .robust_acc_metric import RobustAccMetric
from .robust_metric import RobustMetric
from .zero_shot_metric import ZeroShotMetric

__all__ = [
    'ZeroShotMetric', 'ClsMAPMetric', 'RobustAccMetric', 'RobustMetric'
]
