"""Tiny architectures shared by the model tests."""
import torch

TINY_VIT = dict(embed_dim=32, image_size=32, layers=2, width=64,
                patch_size=8, head_width=32)
TINY_RN = dict(embed_dim=32, image_size=32, layers=(1, 1, 1, 1), width=16,
               heads=2)


def seeded_video(*shape: int, seed: int = 0) -> torch.Tensor:
    """A reproducible float video tensor, e.g. ``(B, 3, T, H, W)``."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def save_classifier_tensor(path, num_classes: int, dim: int,
                           seed: int = 0) -> str:
    """A plain ``[K, D]`` tensor file, like the original's text caches."""
    weight = torch.randn(num_classes, dim,
                         generator=torch.Generator().manual_seed(seed))
    torch.save(weight, str(path))
    return str(path)
