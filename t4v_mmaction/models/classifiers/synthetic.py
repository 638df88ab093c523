"""Classifiers without semantics: the paper's random and orthogonal rows.

Text4Vis section 2.2 / Table 5: a random Gaussian matrix gives trivial,
accidental inter-class correlation; a random orthogonal one gives none.
"""
import torch

__all__ = ['build_random_classifier', 'build_orthogonal_classifier']


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def _check_size(num_classes: int, dim: int) -> None:
    if int(num_classes) < 1 or int(dim) < 1:
        raise ValueError(f'num_classes ({num_classes}) and dim ({dim}) must '
                         'be positive')


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
    _check_size(num_classes, dim)
    return torch.randn(int(num_classes), int(dim), generator=_generator(seed))


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
    _check_size(num_classes, dim)
    if num_classes > dim:
        raise ValueError(
            f'an orthogonal classifier needs num_classes <= dim, got '
            f'num_classes={num_classes} > dim={dim}')
    gaussian = torch.randn(
        int(dim), int(dim), generator=_generator(seed), dtype=torch.float64)
    q, _ = torch.linalg.qr(gaussian)  # (D, D), orthogonal
    return q[:int(num_classes)].to(torch.float32)  # (C, D)
