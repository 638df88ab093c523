"""Load mmengine checkpoints on torch >= 2.6 without disabling safe loading.

Upstream: torch 2.6 made ``torch.load(weights_only=True)`` the default, and
mmengine 0.10.7 checkpoints hold a ``message_hub`` with
``mmengine.logging.HistoryBuffer`` objects and numpy arrays, so ``resume``,
``load_from`` and ``tools/test.py CKPT`` fail with "Unsupported global"
(open-mmlab/mmengine#1655; mmengine's fix, PR #1670, passes
``weights_only=False`` everywhere). We keep ``weights_only=True`` and
allow-list exactly the types such checkpoints hold. ``HistoryBuffer`` is
given a ``__reduce__`` that rebuilds it from plain lists, so new checkpoints
no longer need ``builtins.getattr`` (which must never be allow-listed).

A checkpoint that holds anything else, e.g. a pickled object whose
``__reduce__`` runs code, is refused with :class:`UnsafeCheckpointError`
before any of its code runs. A file that cannot be read (truncated,
corrupt) raises :class:`CheckpointReadError` naming it, and weights with NaN
or infinite values are refused by name
(:class:`~t4v_mmaction.utils.NonFiniteWeightsError`).
"""
import functools
import pickle
from typing import Tuple

import numpy as np
import torch

_PATCHED = '_t4v_safe_patched'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects outside the safe-loading allow-list."""


class CheckpointReadError(RuntimeError):
    """A checkpoint file cannot be read (truncated, corrupt, not one)."""


def load_error(err: BaseException) -> Tuple[bool, str]:
    """What a failed ``torch.load(weights_only=True)`` says: whether the file
    holds Python objects outside the allow-list (code could run: unsafe),
    and the informative line of torch's message, without its boilerplate."""
    text = str(err)
    unsafe = isinstance(err, pickle.UnpicklingError) and \
        'Unsupported global' in text
    text = text.split('WeightsUnpickler error:', 1)[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return unsafe, lines[0] if lines else type(err).__name__


def _history_buffer_reduce(self):
    return (type(self), (self._log_history.tolist(),
                         self._count_history.tolist(), self.max_length))


def safe_globals() -> list:
    """The exact non-tensor types that mmengine checkpoints contain."""
    from mmengine.logging import HistoryBuffer
    multiarray = np._core.multiarray if hasattr(np, '_core') else \
        np.core.multiarray
    dtype_classes = {
        type(np.dtype(name))
        for name in ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                     'uint16', 'uint32', 'uint64', 'float16', 'float32',
                     'float64', 'complex64', 'complex128', 'str', 'object')
    }
    return [
        HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct,
        multiarray.scalar, *sorted(dtype_classes, key=str)
    ]


def _refuse_unsafe(load):

    @functools.wraps(load)
    def wrapper(filename, *args, **kwargs):
        from t4v_mmaction.utils import check_finite
        try:
            checkpoint = load(filename, *args, **kwargs)
        except (FileNotFoundError, UnsafeCheckpointError):
            raise
        except Exception as err:  # torch raises many types for bad files
            unsafe, detail = load_error(err)
            if unsafe:
                raise UnsafeCheckpointError(
                    f'Refusing to load {filename!r}: it holds Python objects '
                    'outside the safe-loading allow-list, and unpickling '
                    'them could run arbitrary code. Nothing from the file '
                    'was executed. If it is an older mmengine checkpoint you '
                    'trust, convert it once with '
                    '`python tools/misc/trust_checkpoint.py SRC DST '
                    f'--yes-i-trust-this-file`.\ntorch said: {detail}'
                ) from err
            raise CheckpointReadError(
                f'{filename}: cannot read this checkpoint; the file is '
                'truncated, corrupt or not a checkpoint '
                f'({type(err).__name__}: {detail})') from err
        weights = checkpoint.get('state_dict', checkpoint) if isinstance(
            checkpoint, dict) else {}
        check_finite(weights if isinstance(weights, dict) else {},
                     str(filename))
        return checkpoint

    wrapper._t4v_wrapped = True
    return wrapper


def patch_safe_checkpoint() -> None:
    """Allow-list mmengine checkpoint types; refuse others clearly."""
    from mmengine.logging import HistoryBuffer
    from mmengine.runner import checkpoint as ckpt

    if getattr(ckpt, _PATCHED, False):
        return
    HistoryBuffer.__reduce__ = _history_buffer_reduce
    torch.serialization.add_safe_globals(safe_globals())
    loaders = ckpt.CheckpointLoader._schemes
    for prefix, loader in list(loaders.items()):
        if not getattr(loader, '_t4v_wrapped', False):
            loaders[prefix] = _refuse_unsafe(loader)
    setattr(ckpt, _PATCHED, True)


def trusted_checkpoint_loading(filename: str, map_location='cpu'):
    """Load a checkpoint the user has explicitly vouched for.

    Only for files that predate the safe format (or come from a source the
    user trusts); never called implicitly.
    """
    return torch.load(filename, map_location=map_location, weights_only=False)
