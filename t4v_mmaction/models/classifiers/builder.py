"""From a classifier spec to a classifier: the one entry point.

A spec is a classifier file (a path), a dict naming a kind of
:data:`~t4v_mmaction.registry.CLASSIFIERS` with its options, a built
:class:`~.base.BaseClassifier` or a :class:`~.io.ClassifierFile`::

    'k400_vitb16.pth'
    dict(type='text', classes='k400.csv', model='ViT-B-16', pretrained='openai')
    dict(type='lm', classes='k400.csv', pooling='mean')
    dict(type='lda', config='configs/x.py', num_per_class=60)
    dict(type='random', dim=512, seed=0)       # K, D may come from the head
    dict(type='orthogonal', seed=0)

Besides its own options every kind takes ``classes`` (``class_names`` is
accepted as another name for it), ``cache`` and ``cache_dir``.
"""
import inspect
import os
from typing import Mapping, Optional, Union

from t4v_mmaction.registry import CLASSIFIERS
from .base import BaseClassifier
from .io import ClassifierFile

__all__ = [
    'SpecType', 'make_classifier_source', 'load_classifier',
    'build_classifier', 'classifier_cache_key'
]

SpecType = Union[str, os.PathLike, Mapping, BaseClassifier, ClassifierFile]


class _GivenClassifier(BaseClassifier):
    """A :class:`ClassifierFile` already in memory."""
    kind = 'given'
    cacheable = False
    lazy = False

    def __init__(self, clf: ClassifierFile):
        super().__init__(clf.class_names)
        self.file = clf

    @property
    def num_classes(self) -> int:
        return self.file.num_classes

    def dim(self) -> int:
        return self.file.dim

    def describe(self) -> str:
        return self.file.path or 'the given classifier'

    def load(self) -> ClassifierFile:
        return self.file


def _kinds() -> list:
    return sorted(CLASSIFIERS.module_dict)


def make_classifier_source(spec: SpecType,
                           num_classes: Optional[int] = None,
                           dim: Optional[int] = None) -> BaseClassifier:
    """The classifier a spec describes, not built yet (cheap).

    Args:
        spec (str | dict | BaseClassifier | ClassifierFile): See the module
            docstring.
        num_classes (int, optional): K for kinds that take it from the head
            when the spec leaves it out. Defaults to None.
        dim (int, optional): D likewise (the head's ``in_channels``).

    Raises:
        ValueError: For an unknown kind, an unknown or missing option.
        TypeError: For a spec of another type.
    """
    if isinstance(spec, BaseClassifier):
        source = spec
    elif isinstance(spec, ClassifierFile):
        source = _GivenClassifier(spec)
    elif isinstance(spec, (str, os.PathLike)):
        source = CLASSIFIERS.get('file')(os.fspath(spec))
    elif isinstance(spec, Mapping):
        options = dict(spec)
        kind = options.pop('type', None)
        cls = CLASSIFIERS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise ValueError(f'classifier spec type must be one of '
                             f'{_kinds()}, got {kind!r}')
        if 'class_names' in options:
            if 'classes' in options:
                raise ValueError('give classes or class_names, not both')
            options['classes'] = options.pop('class_names')
        allowed = [p for p in inspect.signature(cls).parameters
                   if p not in ('self', )]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(f'unknown option(s) {unknown} for a {kind!r} '
                             f'classifier; allowed: {sorted(allowed)}')
        source = cls(**options)
    else:
        raise TypeError('a classifier spec must be a file path or a dict, '
                        f'got {type(spec).__name__}')
    source.complete(num_classes, dim)
    return source


def load_classifier(spec: SpecType,
                    num_classes: Optional[int] = None) -> ClassifierFile:
    """Load or build (and cache) a frozen classifier.

    Args:
        spec: See the module docstring.
        num_classes (int, optional): The expected K; also fills in specs
            that lack it. Defaults to None (no check).

    Returns:
        ClassifierFile: ``weight`` ``(K, D)`` float32 (rows not
        normalised) and ``meta``.

    Raises:
        ValueError: If K differs from ``num_classes``, the spec is invalid,
            or a file is not a valid classifier
            (:class:`~.io.ClassifierFormatError`).
    """
    source = make_classifier_source(spec, num_classes)
    clf = source.load()
    if num_classes is not None and clf.num_classes != num_classes:
        where = clf.path or f'the {source.describe()}'
        raise ValueError(f'{where} has {clf.num_classes} classes (rows) but '
                         f'num_classes={num_classes}')
    return clf


def build_classifier(spec: SpecType,
                     num_classes: Optional[int] = None) -> ClassifierFile:
    """Build a spec now, without reading or writing the cache."""
    source = make_classifier_source(spec, num_classes)
    source.cache = False
    return source.load()


def classifier_cache_key(spec: SpecType,
                         num_classes: Optional[int] = None) -> str:
    """The content hash (hex) a spec is cached under."""
    return make_classifier_source(spec, num_classes).cache_key()
