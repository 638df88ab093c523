"""TokenShift: a parameter-free temporal shift of the [class] token."""
import torch
from mmaction.registry import MODELS

from .class_token_mixer import ClassTokenMixer


@MODELS.register_module()
class TokenShift(ClassTokenMixer):
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
