"""Temporal fusers of the video heads: frame embeddings ``(B, T, D)`` ->
one video embedding ``(B, D)`` (TAP, T-Trans)."""
from .temporal_pooling import TemporalAveragePooling
from .temporal_transformer import TemporalTransformer

__all__ = ['TemporalAveragePooling', 'TemporalTransformer']
