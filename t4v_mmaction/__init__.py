"""Text4Vis for mmaction2: CLIP video models with frozen classifiers.

Importing the package fixes the upstream breakages it knows about (see
:mod:`t4v_mmaction.compat`) and registers every component into mmaction2's
registries, so configs only need::

    custom_imports = dict(imports=['t4v_mmaction'], allow_failed_imports=False)
"""
from .compat import apply_all as _apply_compat
from .version import __version__


def _check_mmcv() -> None:
    try:
        import mmcv  # noqa: F401
    except ImportError as err:
        raise ImportError(
            't4v_mmaction needs mmcv (2.0.0rc4 <= version < 2.2.0); '
            'recognition needs no compiled ops, so `pip install '
            'mmcv-lite==2.1.0` is enough.') from err


_check_mmcv()
_apply_compat()

from . import datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__']
