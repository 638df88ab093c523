"""TokenT1D: a learned temporal convolution of the [class] token (the
paper's in-backbone temporal module)."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .class_token_mixer import ClassTokenMixer


@MODELS.register_module()
class TokenT1D(ClassTokenMixer):
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
