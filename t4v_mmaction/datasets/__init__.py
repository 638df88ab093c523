from .annotation import (AnnotationError, VideoAnnotation, find_missing_videos,
                         write_annotation_list, write_class_names)
from .class_names import load_class_names
from .few_shot_dataset import FewShotDataset
from .robust_video_dataset import BrokenVideoLimitError, RobustVideoDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'FewShotDataset', 'load_class_names', 'AnnotationError', 'VideoAnnotation',
    'find_missing_videos', 'write_annotation_list', 'write_class_names',
    'RobustVideoDataset', 'BrokenVideoLimitError'
]
