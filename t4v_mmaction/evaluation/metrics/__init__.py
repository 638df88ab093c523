# Copyright (c) OpenMMLab. All rights reserved.
from .cls_map_metric import ClsMAPMetric
from .zero_shot_metric import ZeroShotMetric

__all__ = ['ZeroShotMetric', 'ClsMAPMetric']
