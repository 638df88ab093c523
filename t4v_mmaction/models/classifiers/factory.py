"""``load_classifier``: files and on-the-fly builds behind one call.

A spec is a classifier file, a plain ``[C, D]`` tensor file, or a dict::

    dict(type='text', classes='k400.csv', model='ViT-B-16',
         pretrained='ViT-B-16.pt')
    dict(type='lm', classes='k400.csv', pooling='mean')
    dict(type='lda', config='configs/x.py', num_per_class=60, solver='svd')
    dict(type='lda', features='feats.npz')   # keys 'features', 'labels'
    dict(type='random', num_classes=400, dim=512, seed=0)
    dict(type='orthogonal', dim=512, seed=0)  # num_classes from the head

Besides the builder's own options a dict may hold ``classes`` (a list of
names or a label-map / CSV path, see
:func:`~t4v_mmaction.datasets.class_names.load_class_names`; ``class_names``
is accepted as another name for it), ``cache`` (bool) and ``cache_dir``. Built
``text``, ``lm`` and ``lda`` classifiers are cached in ``cache_dir`` (else
``$T4V_CACHE_DIR``, else ``~/.cache/t4v_mmaction/classifiers``) under a
content hash of the type, the options (runtime ones such as ``device``
excluded), the class names, and the weights / templates / config they read,
so a second call loads the file instead of recomputing. ``random`` and
``orthogonal`` are cheaper to rebuild than to hash and are never cached.
"""
import hashlib
import inspect
import json
import logging
import os
import os.path as osp
import time
from typing import Mapping, Optional, Union

import numpy as np
from mmengine.logging import print_log

from t4v_mmaction.datasets.class_names import resolve_class_names
from t4v_mmaction.version import __version__
from .io import (ClassifierFile, ClassifierFormatError, canonical_json,
                 default_cache_dir, make_classifier, path_sha256,
                 read_classifier, save_classifier)
from .language_model import build_lm_classifier, default_lm_path
from .lda import build_lda_classifier
from .synthetic import build_orthogonal_classifier, build_random_classifier
from .templates import resolve_templates
from .text import build_text_classifier

__all__ = ['load_classifier', 'build_classifier', 'classifier_cache_key']

SpecType = Union[str, os.PathLike, Mapping, ClassifierFile]

# Options that change how a classifier is computed, not what it is.
_RUNTIME_KEYS = ('device', 'batch_size', 'num_workers', 'progress')
_SPEC_KEYS = ('type', 'classes', 'class_names', 'cache', 'cache_dir')
_UNCACHED = ('random', 'orthogonal')
_CACHE_FORMAT = 1


def _lda_from_spec(config: Optional[str] = None,
                   features: Optional[str] = None,
                   checkpoint: Optional[str] = None,
                   num_per_class: int = 60,
                   seed: int = 0,
                   split: str = 'train',
                   solver: str = 'svd',
                   shrinkage: Optional[Union[float, str]] = None,
                   l2_normalize: bool = False,
                   num_classes: Optional[int] = None,
                   device: str = 'cpu',
                   batch_size: int = 8,
                   num_workers: int = 2,
                   progress: bool = True):
    """LDA on a config's video features, or on an ``.npz`` of features."""
    from .video_features import extract_video_features
    if (config is None) == (features is None):
        raise ValueError("an 'lda' spec needs exactly one of config= (a "
                         'model config to embed videos with) or features= '
                         "(an .npz with 'features' and 'labels')")
    if features is not None:
        with np.load(features, allow_pickle=False) as data:
            x, y = data['features'], data['labels']
    else:
        x, y = extract_video_features(
            config,
            checkpoint=checkpoint,
            num_per_class=num_per_class,
            seed=seed,
            split=split,
            device=device,
            batch_size=batch_size,
            num_workers=num_workers,
            progress=progress)
    return build_lda_classifier(x, y, solver, shrinkage, num_classes,
                                l2_normalize)


_BUILDERS = {
    'text': build_text_classifier,
    'lm': build_lm_classifier,
    'lda': _lda_from_spec,
    'random': build_random_classifier,
    'orthogonal': build_orthogonal_classifier,
}


def _split_spec(spec: Mapping, num_classes: Optional[int]):
    """(kind, builder options with defaults, class names or None, spec)."""
    spec = json.loads(canonical_json(dict(spec)))  # plain, JSON-safe copy
    kind = spec.get('type')
    if kind not in _BUILDERS:
        raise ValueError(f"classifier spec type must be one of "
                         f'{sorted(_BUILDERS)}, got {kind!r}')
    params = inspect.signature(_BUILDERS[kind]).parameters
    options = {k: v for k, v in spec.items() if k not in _SPEC_KEYS}
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ValueError(
            f'unknown option(s) {unknown} for a {kind!r} classifier; '
            f'allowed: {sorted(set(params) - {"class_names"})} and '
            f'{list(_SPEC_KEYS[1:])}')
    if 'classes' in spec and 'class_names' in spec:
        raise ValueError("give classes or class_names, not both")
    names = spec.get('classes', spec.get('class_names'))
    if names is not None:
        names = resolve_class_names(names)
    if 'num_classes' in params and options.get('num_classes') is None:
        options['num_classes'] = (
            num_classes if num_classes is not None else
            (len(names) if names is not None else None))
    if 'class_names' in params:
        if names is None:
            raise ValueError(f'a {kind!r} classifier spec needs classes (a '
                             'list of names or a label-map / CSV file)')
        options['class_names'] = names
    missing = [
        k for k, p in params.items()
        if p.default is inspect.Parameter.empty and options.get(k) is None
    ]
    if missing:
        raise ValueError(f'a {kind!r} classifier spec needs {missing}')
    full = {
        k: p.default
        for k, p in params.items()
        if p.default is not inspect.Parameter.empty
    }
    full.update(options)
    return kind, full, names, spec


def _fingerprint(kind: str, options: dict) -> dict:
    """What a cached classifier depends on, beyond its options."""
    extra = {}
    if kind in ('text', 'lm'):
        extra['templates'] = resolve_templates(options['templates'])
    if kind == 'text':
        import open_clip
        for key in ('model', 'pretrained'):
            value = options[key]
            if value is not None and osp.isfile(value):
                extra[f'{key}_sha256'] = path_sha256(value)
        if options['pretrained'] is None:  # the init scheme may change
            extra['open_clip'] = open_clip.__version__
    elif kind == 'lm':
        model = options['model'] or default_lm_path()
        if osp.exists(model):
            extra['model_sha256'] = path_sha256(model)
    elif kind == 'lda':
        if options['features'] is not None:
            extra['features_sha256'] = path_sha256(options['features'])
        else:
            from .video_features import feature_cache_key
            extra['video_features'] = feature_cache_key(
                options['config'], options['checkpoint'],
                options['num_per_class'], options['seed'], options['split'])
    return extra


def classifier_cache_key(spec: Mapping,
                         num_classes: Optional[int] = None) -> str:
    """The content hash (hex) a dict spec is cached under."""
    kind, options, names, _ = _split_spec(spec, num_classes)
    return _cache_key(kind, options, names)


def _cache_key(kind: str, options: dict, names) -> str:
    content = dict(
        format=_CACHE_FORMAT,
        type=kind,
        class_names=names,
        options={
            k: v
            for k, v in options.items() if k not in _RUNTIME_KEYS
        },
        depends=_fingerprint(kind, options))
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def _source(kind: str, options: dict) -> str:
    if kind == 'text':
        weights = options['pretrained'] or f'random init, seed ' \
                                           f'{options["seed"]}'
        return f'open_clip {options["model"]} ({weights})'
    if kind == 'lm':
        return options['model'] or default_lm_path()
    if kind == 'lda':
        return options['config'] or options['features']
    return f'{kind} (seed {options["seed"]})'


def _build(kind: str, options: dict, names, key: Optional[str]):
    start = time.perf_counter()
    weight = _BUILDERS[kind](**options)
    meta = dict(
        kind=kind,
        source=_source(kind, options),
        class_names=names,
        templates=(resolve_templates(options['templates'])
                   if kind in ('text', 'lm') else None),
        options={
            k: v
            for k, v in options.items()
            if k not in _RUNTIME_KEYS and k != 'class_names'
        },
        cache_key=key,
        t4v_mmaction=__version__,
        build_seconds=round(time.perf_counter() - start, 3))
    return weight, meta


def build_classifier(spec: Mapping,
                     num_classes: Optional[int] = None) -> ClassifierFile:
    """Build a dict spec now, without reading or writing the cache.

    Args:
        spec (Mapping): See the module docstring.
        num_classes (int, optional): C for specs that need it and lack it
            (``random``, ``orthogonal``, ``lda``). Defaults to None.

    Returns:
        ClassifierFile: The classifier (``path`` is None).
    """
    kind, options, names, _ = _split_spec(spec, num_classes)
    weight, meta = _build(kind, options, names, None)
    return make_classifier(weight, meta)


def _load_or_build(spec: Mapping, num_classes: Optional[int]):
    kind, options, names, spec = _split_spec(spec, num_classes)
    if kind in _UNCACHED or not spec.get('cache', True):
        return make_classifier(*_build(kind, options, names, None))
    key = _cache_key(kind, options, names)
    cache_dir = spec.get('cache_dir') or default_cache_dir()
    path = osp.join(cache_dir, f'{kind}-{key[:24]}.pth')
    if osp.isfile(path):
        try:
            clf = read_classifier(path)
        except ClassifierFormatError as err:
            print_log(f'rebuilding the unreadable cached classifier: {err}',
                      'current', level=logging.WARNING)
        else:
            if clf.meta.get('cache_key') == key:
                print_log(f'loaded cached classifier {path}', 'current')
                return clf
            print_log(f'rebuilding {path}: its cache key does not match',
                      'current', level=logging.WARNING)
    weight, meta = _build(kind, options, names, key)
    clf = save_classifier(path, weight, meta)
    print_log(
        f'built {kind} classifier {list(clf.weight.shape)} in '
        f'{meta["build_seconds"]:.1f} s, cached as {path}', 'current')
    return clf


def load_classifier(spec: SpecType,
                    num_classes: Optional[int] = None) -> ClassifierFile:
    """Load or build a frozen classifier.

    Args:
        spec (str | dict | ClassifierFile): A file written by
            :func:`~.io.save_classifier`, a ``torch.save``-d ``[C, D]``
            tensor, or a dict spec (module docstring) that is built on the
            fly and cached.
        num_classes (int, optional): The expected C; also fills in specs
            that lack ``num_classes``. Defaults to None (no check).

    Returns:
        ClassifierFile: ``weight`` ``(C, D)`` float32 (rows not normalised)
        and ``meta``.

    Raises:
        ValueError: If C differs from ``num_classes``, the spec is invalid,
            or the file is not a valid classifier
            (:class:`~.io.ClassifierFormatError`).
    """
    if isinstance(spec, ClassifierFile):
        clf, source = spec, spec.path or 'the classifier'
    elif isinstance(spec, (str, os.PathLike)):
        clf, source = read_classifier(spec), os.fspath(spec)
    elif isinstance(spec, Mapping):
        clf = _load_or_build(spec, num_classes)
        source = f"the {spec.get('type')!r} classifier " \
                 f"{clf.path or '(not cached)'}"
    else:
        raise TypeError('a classifier spec must be a file path or a dict, '
                        f'got {type(spec).__name__}')
    if num_classes is not None and clf.num_classes != num_classes:
        raise ValueError(
            f'{source} has {clf.num_classes} classes (rows) but '
            f'num_classes={num_classes}')
    return clf
