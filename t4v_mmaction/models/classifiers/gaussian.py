"""The paper's random classifier (Table 5): i.i.d. Gaussian rows, whose
inter-class correlation is trivial and accidental."""
import torch

from t4v_mmaction.registry import CLASSIFIERS
from ._synthetic import SyntheticClassifier, check_size, seeded_generator

__all__ = ['RandomClassifier', 'build_random_classifier']


def build_random_classifier(num_classes: int,
                            dim: int,
                            seed: int = 0) -> torch.Tensor:
    """Rows drawn i.i.d. from N(0, I_D) with a seeded generator.

    Args:
        num_classes (int): C, the number of rows.
        dim (int): D, the embedding width.
        seed (int): Seed of a private ``torch.Generator``; the global RNG is
            untouched. Defaults to 0.

    Returns:
        torch.Tensor: ``(C, D)`` float32 (``nn.Linear.weight`` orientation).
    """
    check_size(num_classes, dim)
    return torch.randn(int(num_classes), int(dim),
                       generator=seeded_generator(seed))


@CLASSIFIERS.register_module(name='random')
class RandomClassifier(SyntheticClassifier):
    """``dict(type='random', num_classes=None, dim=None, seed=0)``; K and D
    default to the head's; see :func:`build_random_classifier`."""
    kind = 'random'

    def compute(self) -> torch.Tensor:
        return build_random_classifier(*self._size(), self.seed)
