"""In-backbone temporal mixers: ``(B*T, ...) -> (B*T, ...)`` inside a
per-frame encoder (tokens of a ViT block, feature maps of a ResNet block)."""
from .class_token_mixer import ClassTokenMixer
from .temporal_conv import TemporalConv1d
from .token_shift import TokenShift
from .token_t1d import TokenT1D

__all__ = ['ClassTokenMixer', 'TokenShift', 'TokenT1D', 'TemporalConv1d']
