"""Fixes for upstream breakages that must hold whatever is imported first.

Python runs this at start-up (``t4v_mmaction-hooks.pth``, installed with
t4v-mmaction), and ``import t4v_mmaction`` runs it again, so mmaction2's own
tools (which import ``mmaction.models`` before any config names the plugin)
work too. It imports only the standard library: for each module that an
upstream bug lives in, it registers a fix from ``t4v_mmaction/compat/``,
which runs when that module is imported (after it, or, for a module a wheel
lacks, instead of it). Nothing else is imported or changed.
``T4V_MMACTION_NO_HOOKS=1`` skips the start-up registration (``import
t4v_mmaction`` still registers them).
"""
import importlib.abc
import importlib.machinery
import importlib.util
import os
import os.path as osp
import sys

#: module -> (fix in ``t4v_mmaction/compat/``, function(module)), run right
#: after the module has been executed
AFTER_IMPORT = {
    'transformers.modeling_utils': ('transformers_api',
                                    'restore_modeling_utils_exports'),
    'mmengine.utils.package_utils': ('package_utils',
                                     'patch_package_utils'),
}
#: module a distribution lacks -> (fix, function(name) -> module)
MISSING = {
    'mmaction.models.localizers.drn': ('mmaction_wheel', 'drn_stand_in'),
    'mmaction.models.localizers.drn.drn': ('mmaction_wheel',
                                           'drn_stand_in'),
}


#: The fixes shipped with this file (not with whichever ``t4v_mmaction``
#: comes first on ``sys.path``, e.g. an older checkout being compared).
COMPAT_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 't4v_mmaction',
                      'compat')


def compat_module(name: str):
    """``t4v_mmaction/compat/<name>.py``, loaded from its file as
    ``_t4v_mmaction_hooks.<name>`` without importing the ``t4v_mmaction``
    package (which imports mmaction2)."""
    full = f'{__name__}.{name}'
    if full not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            full, osp.join(COMPAT_DIR, f'{name}.py'))
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
    return sys.modules[full]


def _fix(table: dict, name: str):
    module, function = table[name]
    return getattr(compat_module(module), function)


def _safely(fix, name: str):
    """A fix that fails warns; the module it fixes stays usable."""

    def apply(*args):
        try:
            return fix(*args)
        except Exception as err:  # a fix must never break the import
            import warnings
            warnings.warn(f't4v_mmaction could not fix {name} ({err!r})')

    return apply


class _AfterImport(importlib.abc.Loader):
    """Runs the original loader, then the fix."""

    def __init__(self, loader, fix):
        self.loader, self.fix = loader, fix

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.fix(module)


class _StandIn(importlib.abc.Loader):
    """Builds a module that the installed distribution lacks."""

    def __init__(self, fix):
        self.fix = fix

    def create_module(self, spec):
        return self.fix(spec.name)

    def exec_module(self, module):
        pass


class _FixingFinder(importlib.abc.MetaPathFinder):

    def find_spec(self, name, path, target=None):
        if name in AFTER_IMPORT:
            spec = _real_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _AfterImport(
                    spec.loader, _safely(_fix(AFTER_IMPORT, name), name))
            return spec
        return None


class _MissingFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: answers only when no one else can."""

    def find_spec(self, name, path, target=None):
        if name not in MISSING:
            return None
        return importlib.machinery.ModuleSpec(
            name, _StandIn(_fix(MISSING, name)),
            is_package=name.count('.') == 3)


def _real_spec(name, path, target):
    for finder in sys.meta_path:
        if isinstance(finder, _FixingFinder):
            continue
        find = getattr(finder, 'find_spec', None)
        spec = find(name, path, target) if find else None
        if spec is not None:
            return spec
    return None


def install() -> None:
    """Register the finders once; fix modules that are already imported."""
    if not any(isinstance(f, _FixingFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _FixingFinder())
        sys.meta_path.append(_MissingFinder())
    for name in AFTER_IMPORT:
        if name in sys.modules:
            _safely(_fix(AFTER_IMPORT, name), name)(sys.modules[name])


if not os.environ.get('T4V_MMACTION_NO_HOOKS') and osp.isdir(COMPAT_DIR):
    install()
