"""The mmaction2 1.2.0 wheel lacks ``mmaction.models.localizers.drn``.

Upstream bug: open-mmlab/mmaction2#2714. ``drn/`` has no ``__init__.py``, so
``find_packages`` leaves it out of the wheel and ``import mmaction.models``
fails with ``ModuleNotFoundError``. A source install is unaffected. We register
an importable stand-in whose ``DRN`` explains itself when someone builds it;
nothing else in mmaction2 depends on it.
"""
import importlib.util
import os.path as osp
import sys
import types

_PKG = 'mmaction.models.localizers.drn'


class DRN:
    """Placeholder for the DRN localizer that the mmaction2 wheel omits."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            'DRN is missing from the mmaction2 1.2.0 wheel '
            '(open-mmlab/mmaction2#2714); install mmaction2 from source '
            'to use it.')


def patch_missing_drn() -> None:
    """Make ``mmaction.models.localizers.drn.drn.DRN`` importable."""
    if _PKG in sys.modules:
        return
    # Look on disk: find_spec(_PKG) would import the broken parent package.
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return  # mmaction itself is not installed: nothing to fix
    root = list(spec.submodule_search_locations)[0]
    if osp.exists(osp.join(root, 'models', 'localizers', 'drn', 'drn.py')):
        return  # a source install ships the real package
    package = types.ModuleType(_PKG)
    package.__path__ = []
    module = types.ModuleType(_PKG + '.drn')
    module.DRN = DRN
    package.drn = module
    sys.modules[_PKG] = package
    sys.modules[_PKG + '.drn'] = module
    # registered like the real class, so building DRN from a config also
    # explains itself instead of raising "not in the registry"
    from mmaction.registry import MODELS
    MODELS.register_module(name='DRN', module=DRN, force=False)
