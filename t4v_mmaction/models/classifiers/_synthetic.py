"""The shared part of the classifiers without semantics (``random``,
``orthogonal``): K and D from the spec or the head, a seeded generator."""
import argparse
from typing import Optional

import torch

from .base import BaseClassifier

__all__ = ['SyntheticClassifier', 'seeded_generator', 'check_size']


def seeded_generator(seed: int) -> torch.Generator:
    """A private generator: the global RNG is untouched."""
    return torch.Generator().manual_seed(int(seed))


def check_size(num_classes: int, dim: int) -> None:
    if int(num_classes) < 1 or int(dim) < 1:
        raise ValueError(f'num_classes ({num_classes}) and dim ({dim}) must '
                         'be positive')


class SyntheticClassifier(BaseClassifier):
    """Rows drawn from a seeded generator; cheaper to rebuild than to cache.

    Args:
        num_classes (int, optional): K; defaults to the number of
            ``classes`` or the head's ``num_classes``.
        dim (int, optional): D; defaults to the head's ``in_channels``.
        seed (int): Seed of a private generator. Defaults to 0.
        classes: See :class:`~.base.BaseClassifier`.
    """
    cacheable = False
    lazy = False

    def __init__(self,
                 num_classes: Optional[int] = None,
                 dim: Optional[int] = None,
                 seed: int = 0,
                 classes=None,
                 cache: bool = True,
                 cache_dir: Optional[str] = None):
        super().__init__(classes, cache, cache_dir)
        if num_classes is not None and self.class_names is not None and \
                num_classes != len(self.class_names):
            raise ValueError(
                f'num_classes={num_classes} but {self.class_names.describe()}'
                f' has {len(self.class_names)} names')
        self._num_classes = num_classes
        self._dim = dim
        self.seed = seed

    @property
    def num_classes(self) -> Optional[int]:
        return self._num_classes if self._num_classes is not None else \
            super().num_classes

    def dim(self) -> Optional[int]:
        return self._dim

    def complete(self, num_classes=None, dim=None) -> None:
        if self.num_classes is None:
            self._num_classes = num_classes
        if self._dim is None:
            self._dim = dim

    def _size(self) -> tuple:
        missing = [name for name, value in (('num_classes', self.num_classes),
                                            ('dim', self._dim))
                   if value is None]
        if missing:
            raise ValueError(f'a {self.kind!r} classifier spec needs '
                             f'{missing} (or a head that provides them)')
        check_size(self.num_classes, self._dim)
        return int(self.num_classes), int(self._dim)

    def options(self) -> dict:
        return dict(num_classes=self.num_classes, dim=self._dim,
                    seed=self.seed)

    def describe(self) -> str:
        return f'{super().describe()} (seed {self.seed})'

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument('--num-classes', type=int, help='K (default: '
                            'the number of --classes)')
        parser.add_argument('--dim', type=int, required=True, help='D')
        parser.add_argument('--seed', type=int, help='random seed (0)')
