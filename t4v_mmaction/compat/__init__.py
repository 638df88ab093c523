"""Fixes for upstream breakages, applied once on ``import t4v_mmaction``.

Each module absorbs one upstream bug and names it; none changes behaviour on a
stack where the bug is absent.
"""
from .cpu_distributed import patch_cpu_distributed
from .mmaction_wheel import patch_missing_drn
from .safe_checkpoint import (UnsafeCheckpointError, patch_safe_checkpoint,
                              trusted_checkpoint_loading)

__all__ = [
    'apply_all', 'patch_missing_drn', 'patch_safe_checkpoint',
    'patch_cpu_distributed', 'UnsafeCheckpointError',
    'trusted_checkpoint_loading'
]


def apply_all() -> None:
    """Apply every fix; safe to call more than once."""
    patch_missing_drn()
    patch_safe_checkpoint()
    patch_cpu_distributed()
