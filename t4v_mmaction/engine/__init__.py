from .fsdp import residual_block_wrap_policy
from .hooks import VideoDataHook

__all__ = ['VideoDataHook', 'residual_block_wrap_policy']
