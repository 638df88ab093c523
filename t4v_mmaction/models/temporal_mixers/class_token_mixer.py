"""The contract of the in-backbone token mixers (TokenShift, TokenT1D).

They act on the ``(B*T, L, D)`` token tensors of a transformer's residual
stream and touch only token 0 ([class]); patch tokens pass through unchanged.
"""
import torch
import torch.nn as nn


class ClassTokenMixer(nn.Module):
    """Applies ``mix`` to the class token of each video across its frames.

    Args:
        width (int): Token width D; must be divisible by ``fold_div``.
        num_frames (int): Frames per video T.
        fold_div (int): 1/fold_div of the channels shift each way.
            Defaults to 4, as the original.
    """

    def __init__(self, width: int, num_frames: int, fold_div: int = 4):
        super().__init__()
        if width % fold_div:
            raise ValueError(f'width {width} is not divisible by fold_div '
                             f'{fold_div}')
        self.num_frames = num_frames
        self.fold = width // fold_div

    def mix(self, cls: torch.Tensor) -> torch.Tensor:
        """cls: ``(B, T, D)`` -> ``(B, T, D)``."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B*T, L, D)`` -> ``(B*T, L, D)``."""
        BT, _, D = x.shape
        cls = x[:, 0].reshape(BT // self.num_frames, self.num_frames, D)
        cls = self.mix(cls).reshape(BT, 1, D)
        return torch.cat([cls, x[:, 1:]], dim=1)
