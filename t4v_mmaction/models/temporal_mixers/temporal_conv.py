"""T1D: channel-wise temporal 1D convolution for per-frame CNN features."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS


@MODELS.register_module()
class TemporalConv1d(nn.Module):
    """Depthwise temporal convolution over the frames of each video (T1D).

    Inserted before a residual block's first convolution (the residual
    branch), identity-initialised so a pretrained CNN is unchanged at init.

    Args:
        channels (int): Feature channels C.
        num_frames (int): Frames per video T.
        kernel_size (int): Temporal kernel size. Defaults to 3.
    """

    def __init__(self, channels: int, num_frames: int, kernel_size: int = 3):
        super().__init__()
        self.num_frames = num_frames
        self.conv = nn.Conv1d(
            channels,
            channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=channels,
            bias=False)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[:, 0, kernel_size // 2] = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: ``(B*T, C, H, W)`` -> ``(B*T, C, H, W)``."""
        BT, C, H, W = x.shape
        T = self.num_frames
        y = x.view(BT // T, T, C, H * W).permute(0, 3, 2, 1)  # (B, HW, C, T)
        y = self.conv(y.reshape(-1, C, T))  # (B*HW, C, T)
        y = y.view(BT // T, H * W, C, T).permute(0, 3, 2, 1)  # (B, T, C, HW)
        return y.reshape(BT, C, H, W)

    def pre_hook(self, module: nn.Module, args: tuple) -> tuple:
        """Forward pre-hook form: mixes the input of the hooked module."""
        return (self(args[0]), )
