"""Weights that are not numbers (NaN, infinite) are refused, by name."""
from typing import Mapping

import torch

__all__ = ['NonFiniteWeightsError', 'check_finite']


class NonFiniteWeightsError(ValueError):
    """A weights file holds NaN or infinite values."""


def check_finite(state_dict: Mapping, source: str) -> None:
    """Raise if a floating-point tensor of ``state_dict`` is not finite.

    Attention masks (a name whose last part holds ``mask``, as CLIP's
    ``attn_mask``) hold ``-inf`` by construction: only NaN and ``+inf`` are
    refused there.

    Args:
        state_dict (Mapping): Name -> tensor (other values are skipped).
        source (str): The file, for the message.

    Raises:
        NonFiniteWeightsError: Naming the file and the first bad tensor.
    """
    for name, value in state_dict.items():
        if not isinstance(value, torch.Tensor) \
                or not value.is_floating_point() \
                or value.device.type == 'meta':
            continue
        if 'mask' in str(name).rsplit('.', 1)[-1]:
            bad_values = torch.isnan(value) | (value == float('inf'))
        else:
            bad_values = ~torch.isfinite(value)
        if bad_values.any():
            bad = bad_values.sum().item()
            raise NonFiniteWeightsError(
                f'{source}: the tensor {name!r} holds {bad} NaN or infinite '
                f'value(s) of {value.numel()}; the weights are corrupt (or '
                'from a diverged run) and are not loaded')
