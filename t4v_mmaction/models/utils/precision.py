"""Which inference precision a device runs fastest without losing top-1."""
import re

import torch

PRECISIONS = ('fp32', 'bf16', 'auto')


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 matrix products run natively: CUDA GPUs with bf16, and
    CPUs with AVX512-BF16 or AMX. Elsewhere CPU bf16 is emulated and slower
    than fp32."""
    device = torch.device(device)
    if device.type == 'cuda':
        return torch.cuda.is_bf16_supported()
    if device.type != 'cpu':
        return False
    try:
        with open('/proc/cpuinfo') as f:
            flags = f.read()
    except OSError:  # not Linux: no way to tell cheaply, stay exact
        return False
    return bool(re.search(r'\b(avx512_bf16|amx_bf16)\b', flags))


def resolve_precision(precision: str, device: torch.device) -> str:
    """``'auto'`` -> ``'bf16'`` where :func:`native_bf16`, else ``'fp32'``;
    ``'fp32'`` and ``'bf16'`` unchanged."""
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got '
                         f'{precision!r}')
    if precision == 'auto':
        return 'bf16' if native_bf16(device) else 'fp32'
    return precision
