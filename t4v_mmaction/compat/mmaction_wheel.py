"""The mmaction2 1.2.0 wheel lacks ``mmaction.models.localizers.drn``.

Upstream bug: open-mmlab/mmaction2#2714. ``drn/`` has no ``__init__.py``, so
``find_packages`` leaves it out of the wheel and ``import mmaction.models``
fails with ``ModuleNotFoundError``. ``_t4v_mmaction_hooks`` asks for the
stand-in below only when no installed package provides the module (a source
install ships the real one). Its ``DRN`` is registered like the real class
and explains itself when someone builds it; nothing else in mmaction2
depends on it.
"""
import types

__all__ = ['DRN', 'drn_stand_in']

PACKAGE = 'mmaction.models.localizers.drn'


class DRN:
    """Placeholder for the DRN localizer that the mmaction2 wheel omits."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            'DRN is missing from the mmaction2 1.2.0 wheel '
            '(open-mmlab/mmaction2#2714); install mmaction2 from source '
            'to use it.')


def drn_stand_in(name: str) -> types.ModuleType:
    """The stand-in package ``drn`` or its module ``drn.drn``."""
    module = types.ModuleType(name)
    if name == PACKAGE:
        module.__path__ = []
    else:
        module.DRN = DRN
        # registered like the real class, so building DRN from a config
        # also explains itself instead of raising "not in the registry"
        from mmaction.registry import MODELS
        MODELS.register_module(name='DRN', module=DRN, force=False)
    return module
