"""The contract of a frozen-classifier kind.

A kind (``'text'``, ``'lm'``, ``'lda'``, ``'random'``, ``'orthogonal'``,
``'file'``) is a class registered in :data:`t4v_mmaction.registry.CLASSIFIERS`
whose constructor arguments are its options. It owns:

* the cheap facts a head needs at construction, without building anything:
  :attr:`~BaseClassifier.class_names`, :attr:`~BaseClassifier.num_classes`,
  :meth:`~BaseClassifier.dim`;
* :meth:`~BaseClassifier.compute`, the build of the ``(K, D)`` matrix;
* :meth:`~BaseClassifier.options` (what defines the result) and
  :meth:`~BaseClassifier.inputs` (content hashes of every file it reads),
  which make the cache key;
* :meth:`~BaseClassifier.add_arguments`, its command-line options for
  ``tools/build_classifier.py``.

:meth:`~BaseClassifier.load` is the same for every kind: cache lookup,
build, checks, metadata. Adding a kind means writing one such class in one
file (see ``docs/architecture.md``).
"""
import argparse
import copy
import os
import os.path as osp
import time
from typing import List, Optional

import torch

from t4v_mmaction.datasets.class_names import ClassNames, resolve_class_names
from t4v_mmaction.utils import content_key
from t4v_mmaction.version import __version__
from .cache import cached_classifier
from .io import ClassifierFile, make_classifier

__all__ = ['BaseClassifier']

_CACHE_FORMAT = 2


class BaseClassifier:
    """A frozen classifier kind; see the module docstring.

    Args:
        classes (str | list[str], optional): Class names: a list, or a label
            map (``.txt``) / ``id,name`` CSV file. Kinds that embed names need
            them; for the others they label the rows. Defaults to None.
        cache (bool): Cache the built matrix (for kinds worth caching).
            Defaults to True.
        cache_dir (str, optional): Defaults to ``$T4V_CACHE_DIR``, else
            ``~/.cache/t4v_mmaction/classifiers``.
    """
    #: The registry name (``CLASSIFIERS.register_module(name=kind)``).
    kind: str = ''
    #: Whether the kind needs ``classes`` (it embeds the names).
    needs_classes = False
    #: Whether building is worth a cache entry.
    cacheable = True
    #: Whether a head builds it on first use (it reads weights or data);
    #: cheap kinds are built with the head.
    lazy = True

    def __init__(self,
                 classes=None,
                 cache: bool = True,
                 cache_dir: Optional[str] = None):
        if self.needs_classes and classes is None:
            raise ValueError(f'a {self.kind!r} classifier spec needs classes '
                             '(a list of names or a label-map / CSV file)')
        self._classes = classes
        self._names: Optional[ClassNames] = None
        self.cache = cache
        self.cache_dir = cache_dir

    @property
    def class_names(self) -> Optional[ClassNames]:
        """The class names; a class-name file is read when it exists (one
        that does not exist yet is an error only when the classifier is
        built)."""
        if self._names is None and self._classes is not None and not (
                isinstance(self._classes, (str, os.PathLike))
                and not osp.exists(self._classes)):
            self._names = resolve_class_names(self._classes)
        return self._names

    @class_names.setter
    def class_names(self, names) -> None:
        self._classes = names
        self._names = None if names is None else resolve_class_names(names)

    def require_class_names(self) -> ClassNames:
        """The class names, reading the file now (errors name it)."""
        if self.class_names is None and self._classes is not None:
            self._names = resolve_class_names(self._classes)
        return self._names

    # ---- cheap facts -------------------------------------------------------
    @property
    def num_classes(self) -> Optional[int]:
        """K, when known before building."""
        return None if self.class_names is None else len(self.class_names)

    def dim(self) -> Optional[int]:
        """D, the width of the rows, when known before building."""
        return None

    def complete(self, num_classes: Optional[int] = None,
                 dim: Optional[int] = None) -> None:
        """Fill in K and D from the head (its ``num_classes`` and
        ``in_channels``) where the kind takes them and the spec left them
        out. Does nothing by default."""

    @property
    def templates(self) -> Optional[List[str]]:
        """The prompt templates, for kinds that embed prompts."""
        return None

    def describe_classes(self) -> Optional[str]:
        """The class-name file, or ``'a list of K names'``."""
        if self.class_names is not None:
            return self.class_names.describe()
        return None if self._classes is None else os.fspath(self._classes)

    def describe(self) -> str:
        """Where the rows come from, for messages and the file's meta."""
        names = self.describe_classes()
        return f'{self.kind} classifier' + (f' of {names}' if names else '')

    def with_classes(self, classes) -> 'BaseClassifier':
        """The same kind and options on other class names (zero-shot)."""
        clone = copy.copy(self)
        clone.class_names = classes
        return clone

    # ---- the build ---------------------------------------------------------
    def compute(self) -> torch.Tensor:
        """Build the ``(K, D)`` float32 matrix (``nn.Linear.weight``
        orientation; rows need not be normalised)."""
        raise NotImplementedError

    def options(self) -> dict:
        """The options that define the result (JSON-like): stored in the
        meta and hashed into the cache key."""
        return {}

    def inputs(self) -> dict:
        """Content hashes of everything the build reads beyond
        :meth:`options` (weights, configs, lists); hashed into the key."""
        return {}

    def cache_key(self) -> str:
        """The content hash this classifier is cached under."""
        names = self.require_class_names()
        return content_key(
            dict(format=_CACHE_FORMAT, type=self.kind,
                 class_names=None if names is None else list(names),
                 templates=self.templates, options=self.options(),
                 inputs=self.inputs()))

    def _build(self, key: Optional[str]):
        start = time.perf_counter()
        self.require_class_names()
        weight = self.compute()
        meta = dict(
            kind=self.kind,
            source=self.describe(),
            class_names=None if self.class_names is None else list(
                self.class_names),
            templates=self.templates,
            options=self.options(),
            cache_key=key,
            t4v_mmaction=__version__,
            build_seconds=round(time.perf_counter() - start, 3))
        return weight, meta

    def load(self) -> ClassifierFile:
        """The classifier: from the cache, or built (and cached).

        Raises:
            ValueError: If the built matrix does not have the K rows or D
                columns known beforehand.
        """
        if self.cacheable and self.cache:
            key = self.cache_key()
            clf = cached_classifier(self.kind, key, self.cache_dir,
                                    lambda: self._build(key))
        else:
            clf = make_classifier(*self._build(None))
        self._check(clf)
        return clf

    def _check(self, clf: ClassifierFile) -> None:
        expected = (self.num_classes, self.dim())
        if expected[0] is not None and clf.num_classes != expected[0]:
            raise ValueError(f'the {self.describe()} has {clf.num_classes} '
                             f'rows, expected {expected[0]} classes')
        if expected[1] is not None and clf.dim != expected[1]:
            raise ValueError(f'the {self.describe()} is {clf.dim}-d, '
                             f'expected {expected[1]}')

    # ---- command line ------------------------------------------------------
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add this kind's options to ``tools/build_classifier.py``; each
        ``dest`` is a constructor argument. ``--classes`` is common."""
        parser.add_argument(
            '--classes',
            required=cls.needs_classes,
            help='class names: a label-map .txt (one per line) or an id,name '
            'CSV' + ('' if cls.needs_classes else
                     ' (stored as the rows\' labels)'))
