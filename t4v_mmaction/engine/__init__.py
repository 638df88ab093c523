from .fsdp import residual_block_wrap_policy
from .hooks import ExactResumeHook, VideoDataHook

__all__ = ['VideoDataHook', 'ExactResumeHook', 'residual_block_wrap_policy']
