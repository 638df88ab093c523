from .base_video_head import BaseVideoHead
from .contrastive_head import VideoTextContrastiveHead
from .frozen_classifier_head import FrozenClassifierHead
from .linear_video_head import LinearVideoHead

__all__ = [
    'BaseVideoHead', 'FrozenClassifierHead', 'LinearVideoHead',
    'VideoTextContrastiveHead'
]
