"""The paper's orthogonal classifier (Table 5): orthonormal rows, no
inter-class correlation at all."""
import torch

from t4v_mmaction.registry import CLASSIFIERS
from ._synthetic import SyntheticClassifier, check_size, seeded_generator

__all__ = ['OrthogonalClassifier', 'build_orthogonal_classifier']


def build_orthogonal_classifier(num_classes: int,
                                dim: int,
                                seed: int = 0) -> torch.Tensor:
    """The first C rows of Q, where Q R is the QR of a seeded D x D Gaussian.

    The rows are orthonormal (``W @ W.T == I_C``). The QR runs in float64.

    Args:
        num_classes (int): C, the number of rows; must not exceed ``dim``.
        dim (int): D, the embedding width.
        seed (int): Seed of a private ``torch.Generator``. Defaults to 0.

    Returns:
        torch.Tensor: ``(C, D)`` float32 (``nn.Linear.weight`` orientation).

    Raises:
        ValueError: If ``num_classes > dim`` (no C orthogonal rows exist).
    """
    check_size(num_classes, dim)
    if num_classes > dim:
        raise ValueError(
            f'an orthogonal classifier needs num_classes <= dim, got '
            f'num_classes={num_classes} > dim={dim}')
    gaussian = torch.randn(
        int(dim), int(dim), generator=seeded_generator(seed),
        dtype=torch.float64)
    q, _ = torch.linalg.qr(gaussian)  # (D, D), orthogonal
    return q[:int(num_classes)].to(torch.float32)  # (C, D)


@CLASSIFIERS.register_module(name='orthogonal')
class OrthogonalClassifier(SyntheticClassifier):
    """``dict(type='orthogonal', num_classes=None, dim=None, seed=0)``; K and
    D default to the head's; see :func:`build_orthogonal_classifier`."""
    kind = 'orthogonal'

    def compute(self) -> torch.Tensor:
        return build_orthogonal_classifier(*self._size(), self.seed)
