from .exact_pyav import ExactPyAVDecode, ExactPyAVInit
from .full_res_three_crop import FullResThreeCrop
from .segment_sample import SegmentSampleFrames

__all__ = [
    'ExactPyAVDecode', 'ExactPyAVInit', 'FullResThreeCrop',
    'SegmentSampleFrames'
]
