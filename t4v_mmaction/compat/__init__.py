"""Fixes for upstream breakages, applied once on ``import t4v_mmaction``.

Each module absorbs one upstream bug and names it; none changes behaviour on
a stack where the bug is absent. The fixes that must hold whatever is
imported first (a module a wheel lacks, APIs that newer transformers and
setuptools removed) are registered at interpreter start by
``_t4v_mmaction_hooks`` (``t4v_mmaction-hooks.pth``), and here again.
"""
from .amp_optim_wrapper import patch_amp_optim_wrapper
from .cpu_distributed import patch_cpu_distributed
from .safe_checkpoint import (CheckpointReadError, UnsafeCheckpointError,
                              patch_safe_checkpoint,
                              trusted_checkpoint_loading)

__all__ = [
    'apply_all', 'install_import_hooks', 'patch_safe_checkpoint',
    'patch_cpu_distributed', 'patch_amp_optim_wrapper',
    'UnsafeCheckpointError', 'CheckpointReadError',
    'trusted_checkpoint_loading'
]


def install_import_hooks() -> None:
    """The import-time fixes (see ``_t4v_mmaction_hooks``)."""
    import _t4v_mmaction_hooks
    _t4v_mmaction_hooks.install()


def apply_all() -> None:
    """Apply every fix; safe to call more than once."""
    install_import_hooks()
    patch_safe_checkpoint()
    patch_cpu_distributed()
    patch_amp_optim_wrapper()
