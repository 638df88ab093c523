from .temporal_conv import TemporalConv1d
from .temporal_pooling import TemporalAveragePooling
from .temporal_transformer import TemporalTransformer
from .token_t1d import TokenShift, TokenT1D

__all__ = [
    'TokenShift', 'TokenT1D', 'TemporalConv1d', 'TemporalAveragePooling',
    'TemporalTransformer'
]
