"""Read a weights file without executing anything it contains.

One reader for every weights or checkpoint file a user passes (a backbone's
or a text classifier's ``pretrained``, an original Text4Vis checkpoint):

* OpenAI TorchScript archives: read by
  :func:`~.torchscript_archive.read_torchscript_state_dict`, never
  ``torch.jit.load``;
* ``.safetensors``: ``safetensors.torch.load_file``;
* anything else: ``torch.load(weights_only=True)``.

Errors name the file: a missing file, one that is truncated or not a
checkpoint (:class:`WeightsFileError`), one that holds pickled objects
(:class:`~t4v_mmaction.compat.UnsafeCheckpointError`), weights with NaN or
infinite values (:class:`~t4v_mmaction.utils.NonFiniteWeightsError`, naming
the tensor).
"""
import os
import os.path as osp
from typing import Dict

import torch

from t4v_mmaction.compat import UnsafeCheckpointError
from t4v_mmaction.compat.safe_checkpoint import load_error
from t4v_mmaction.utils import check_finite
from .state_dict import strip_wrapper_prefixes
from .torchscript_archive import (is_torchscript_archive,
                                  read_torchscript_state_dict)

__all__ = ['WeightsFileError', 'load_weights_file', 'read_state_dict']

#: Keys under which checkpoints of common trainers keep the model weights.
_STATE_DICT_KEYS = ('state_dict', 'model_state_dict', 'model', 'module')


class WeightsFileError(ValueError):
    """A file cannot be read as weights (truncated, not a checkpoint)."""


def load_weights_file(path: str) -> object:
    """What the file holds: a dict of tensors for TorchScript archives and
    safetensors, else the ``torch.load(weights_only=True)`` object.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        UnsafeCheckpointError: If it holds pickled objects outside
            ``weights_only``'s allow-list, or a TorchScript archive that only
            its own code could read. Nothing from the file was executed.
        WeightsFileError: If it is truncated or not a weights file.
    """
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'weights file not found: {path}')
    try:
        if is_torchscript_archive(path):
            return read_torchscript_state_dict(path)
        if path.endswith('.safetensors'):
            from safetensors.torch import load_file
            return load_file(path)
        return torch.load(path, map_location='cpu', weights_only=True)
    except UnsafeCheckpointError:
        raise
    except Exception as err:  # torch and zipfile raise many types
        unsafe, detail = load_error(err)
        if unsafe:
            raise UnsafeCheckpointError(
                f'{path}: refusing to load it: it holds Python objects '
                "outside torch's weights_only allow-list, and unpickling them "
                'could run code. Nothing from the file was executed. torch '
                f'said: {detail}') from err
        raise WeightsFileError(
            f'{path}: cannot read it as weights; the file is truncated, '
            f'corrupt or not a checkpoint ({type(err).__name__}: '
            f'{detail})') from err


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The state dict in a weights file, unwrapped and without DDP's
    ``module.`` prefix.

    Checkpoints that keep the weights under ``state_dict`` (mmengine),
    ``model_state_dict`` (original Text4Vis), ``model`` or ``module`` are
    unwrapped.

    Raises:
        WeightsFileError: If the file holds no dict of tensors; see
            :func:`load_weights_file` for the others.
    """
    obj = load_weights_file(path)
    for key in _STATE_DICT_KEYS:
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not obj:
        raise WeightsFileError(
            f'{path}: holds a {type(obj).__name__}, not a state dict')
    state_dict = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not state_dict:
        raise WeightsFileError(
            f'{path}: holds no tensors (keys {sorted(map(str, obj))[:6]})')
    check_finite(state_dict, path)
    return strip_wrapper_prefixes(state_dict)
