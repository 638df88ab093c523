from .classification import mean_average_precision, mean_class_accuracy
from .zero_shot import half_class_splits, split_accuracy

__all__ = [
    'half_class_splits', 'split_accuracy', 'mean_average_precision',
    'mean_class_accuracy'
]
