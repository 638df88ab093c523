"""Temporal mixing of the [class] token inside a ViT (the paper's TokenT1D).

Both modules act on ``(B*T, L, D)`` token tensors inside a transformer block
and touch only token 0 ([class]); patch tokens pass through unchanged.
"""
import torch
import torch.nn as nn
from mmaction.registry import MODELS


class _ClassTokenMixer(nn.Module):
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


@MODELS.register_module()
class TokenShift(_ClassTokenMixer):
    """Parameter-free temporal shift of the [class] token.

    Channels ``[0, D/4)`` take the next frame's value, ``[D/4, D/2)`` the
    previous frame's, the rest stay; ends are zero-filled.
    """

    def mix(self, cls: torch.Tensor) -> torch.Tensor:
        f = self.fold
        out = torch.zeros_like(cls)
        out[:, :-1, :f] = cls[:, 1:, :f]  # out_t = x_{t+1}
        out[:, 1:, f:2 * f] = cls[:, :-1, f:2 * f]  # out_t = x_{t-1}
        out[:, :, 2 * f:] = cls[:, :, 2 * f:]
        return out


@MODELS.register_module()
class TokenT1D(_ClassTokenMixer):
    """TokenT1D: a learnable depthwise temporal conv (kernel 3) on [class].

    Initialised as :class:`TokenShift` (the original's ``mode='shift'``), so
    at init both modules compute the same function; then it is learned.
    """

    def __init__(self, width: int, num_frames: int, fold_div: int = 4):
        super().__init__(width, num_frames, fold_div)
        self.conv = nn.Conv1d(
            width, width, kernel_size=3, padding=1, groups=width, bias=False)
        f = self.fold
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[:f, 0, 2] = 1  # out_t = x_{t+1}
            self.conv.weight[f:2 * f, 0, 0] = 1  # out_t = x_{t-1}
            self.conv.weight[2 * f:, 0, 1] = 1  # identity

    def mix(self, cls: torch.Tensor) -> torch.Tensor:
        # (B, T, D) -> (B, D, T) -> conv over T -> (B, T, D)
        return self.conv(cls.transpose(1, 2)).transpose(1, 2)
