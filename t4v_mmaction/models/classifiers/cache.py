"""The on-disk cache of built classifiers (and of LDA video features).

Entries are keyed by a content hash of everything a build reads (see each
kind's ``inputs``), so an input changed in place gives a new entry. The
cache is best-effort: when the folder cannot be created, read or written
(a read-only file system, ``$T4V_CACHE_DIR`` pointing at a file), one
warning is logged and the classifier is built without it.
"""
import logging
import os
import os.path as osp
from typing import Callable, Optional, Tuple

import torch
from mmengine.logging import print_log

from .io import (ClassifierFile, ClassifierFormatError, make_classifier,
                 read_classifier, save_classifier)

__all__ = ['CACHE_ENV', 'default_cache_dir', 'cached_classifier',
           'usable_cache_dir']

CACHE_ENV = 'T4V_CACHE_DIR'
_WARNED = set()


def default_cache_dir() -> str:
    """``$T4V_CACHE_DIR``, else ``~/.cache/t4v_mmaction/classifiers``."""
    return os.environ.get(CACHE_ENV) or osp.join(
        osp.expanduser('~'), '.cache', 't4v_mmaction', 'classifiers')


def _warn_once(folder: str, err: BaseException) -> None:
    if folder in _WARNED:
        return
    _WARNED.add(folder)
    print_log(
        f'the classifier cache {folder} is not usable ({type(err).__name__}: '
        f'{err}); building without a cache (set ${CACHE_ENV} or cache_dir to '
        'a writable folder to keep builds)', 'current',
        level=logging.WARNING)


def usable_cache_dir(folder: Optional[str] = None) -> Optional[str]:
    """``folder`` (default :func:`default_cache_dir`) if it exists or can
    be created as a folder, else None (after one warning)."""
    folder = folder or default_cache_dir()
    try:
        os.makedirs(folder, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError('not writable')
    except OSError as err:
        _warn_once(folder, err)
        return None
    return folder


def cached_classifier(kind: str, key: str, cache_dir: Optional[str],
                      build: Callable[[], Tuple[torch.Tensor, dict]]
                      ) -> ClassifierFile:
    """Load ``kind``'s classifier with content key ``key`` from the cache,
    or ``build()`` it (``(weight, meta)``) and store it.

    Returns:
        ClassifierFile: With ``path`` set to the cache file, or None when
        the cache was not usable.
    """
    folder = usable_cache_dir(cache_dir)
    path = osp.join(folder, f'{kind}-{key[:24]}.pth') if folder else None
    if path is not None and osp.isfile(path):
        try:
            clf = read_classifier(path)
        except (ClassifierFormatError, OSError) as err:
            print_log(f'rebuilding the unreadable cached classifier: {err}',
                      'current', level=logging.WARNING)
        else:
            if clf.meta.get('cache_key') == key:
                print_log(f'loaded cached classifier {path}', 'current')
                return clf
            print_log(f'rebuilding {path}: its cache key does not match',
                      'current', level=logging.WARNING)
    weight, meta = build()
    if path is not None:
        try:
            return save_classifier(path, weight, meta)
        except OSError as err:
            _warn_once(folder, err)
    return make_classifier(weight, meta)
