"""mmengine finds installed packages with ``pkg_resources``, which
setuptools 82 removed.

Upstream: mmengine 0.10.7 ``mmengine/utils/package_utils.py`` implements
``is_installed``, ``get_installed_path`` and ``package2module`` with
``pkg_resources`` (open-mmlab/mmcv#3325; mmengine's unreleased main uses
``importlib.metadata``, PR #1676). Configs with ``_base_ =
'mmaction::...'`` resolve through them, so with setuptools >= 82 they fail
with ``No module named 'pkg_resources'``. Run right after that module is
imported (see ``_t4v_mmaction_hooks``), this replaces the three functions
with ``importlib.metadata`` equivalents, and rebinds them in the mmengine
modules that imported them by name. Where ``pkg_resources`` is importable it
does nothing.
"""
import importlib.util
import os.path as osp
import sys

__all__ = ['patch_package_utils']

#: mmengine modules that bind the functions with ``from ... import``
_USERS = ('mmengine.utils', 'mmengine.config.config', 'mmengine.config.utils',
          'mmengine.hub.hub')


def _distribution(package: str):
    from importlib import metadata
    try:
        return metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None


def package2module(package: str) -> str:
    """The top-level module of an installed distribution."""
    dist = _distribution(package)
    if dist is None:
        raise ValueError(f'{package} is not installed')
    top_level = (dist.read_text('top_level.txt') or '').split()
    if top_level:
        return top_level[0]
    raise ValueError(f'can not infer the module name of {package}')


def is_installed(package: str) -> bool:
    """Whether a distribution, or an importable module, of that name
    exists."""
    if _distribution(package) is not None:
        return True
    spec = importlib.util.find_spec(package)
    return spec is not None and spec.origin is not None


def get_installed_path(package: str) -> str:
    """The folder of a distribution's (or a module's) importable package;
    e.g. ``'mmaction2'`` -> ``.../site-packages/mmaction``."""
    module = package2module(package) if _distribution(package) else package
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise ModuleNotFoundError(f'{package} is not installed')
    if spec.origin is None:
        raise RuntimeError(f'{package} is a namespace package, which is '
                           'invalid for `get_install_path`')
    return osp.dirname(spec.origin)


def patch_package_utils(package_utils) -> None:
    """Replace the ``pkg_resources`` functions where it is missing."""
    if importlib.util.find_spec('pkg_resources') is not None:
        return
    replaced = dict(is_installed=is_installed,
                    get_installed_path=get_installed_path,
                    package2module=package2module)
    originals = {name: getattr(package_utils, name, None)
                 for name in replaced}
    for name, function in replaced.items():
        setattr(package_utils, name, function)
    for user in _USERS:
        module = sys.modules.get(user)
        for name, function in replaced.items():
            if module is not None and getattr(module, name, None) is \
                    originals[name] and originals[name] is not None:
                setattr(module, name, function)
