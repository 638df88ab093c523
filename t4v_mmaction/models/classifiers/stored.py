"""A classifier stored in a file: one written by ``tools/build_classifier.py``
or :func:`~.io.save_classifier`, or a ``torch.save``-d ``[K, D]`` tensor such
as the original code's ``text_feats_*.pt``."""
import argparse
import os
import os.path as osp
from typing import Optional

import torch

from t4v_mmaction.datasets.class_names import ClassNames
from t4v_mmaction.registry import CLASSIFIERS
from .base import BaseClassifier
from .io import ClassifierFile, read_classifier

__all__ = ['StoredClassifier']


@CLASSIFIERS.register_module(name='file')
class StoredClassifier(BaseClassifier):
    """``dict(type='file', path='k400_vitb16.pth')``, or just the path.

    The file is read at construction (it is small and holds K, D and the
    class names); a file that does not exist (yet) is read when first used,
    and the error then names it. ``classes`` may name the rows of a file
    that has no names; for a file that has them, they must be the same.

    Args:
        path (str): The classifier file.
        classes: See :class:`~.base.BaseClassifier`.
    """
    kind = 'file'
    cacheable = False
    lazy = False

    def __init__(self, path: str, classes=None, cache: bool = True,
                 cache_dir: Optional[str] = None):
        super().__init__(classes, cache, cache_dir)
        self.path = os.fspath(path)
        self.file: Optional[ClassifierFile] = None
        self.lazy = not osp.exists(self.path)
        if not self.lazy:
            self._read()

    def _read(self) -> ClassifierFile:
        self.file = read_classifier(self.path)
        stored = self.file.class_names
        if stored is not None and self.class_names is not None and \
                list(stored) != list(self.class_names):
            raise ValueError(
                f'{self.path} holds the classifier of other classes than '
                f'{self.class_names.describe()}')
        if self.class_names is None and stored is not None:
            self.class_names = ClassNames(stored, self.path)
        if self.class_names is not None and \
                len(self.class_names) != self.file.num_classes:
            raise ValueError(
                f'{self.path} has {self.file.num_classes} rows but '
                f'{self.class_names.describe()} has '
                f'{len(self.class_names)} class names')
        return self.file

    @property
    def num_classes(self) -> Optional[int]:
        return self.file.num_classes if self.file else super().num_classes

    def dim(self) -> Optional[int]:
        return self.file.dim if self.file else None

    @property
    def templates(self):
        return self.file.meta.get('templates') if self.file else None

    def describe(self) -> str:
        return f'classifier file {self.path}'

    def compute(self) -> torch.Tensor:
        return self.load().weight

    def load(self) -> ClassifierFile:
        return self.file or self._read()

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        raise NotImplementedError('a classifier file is already built')
