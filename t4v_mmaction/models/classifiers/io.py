"""The classifier file format: reading and writing.

A classifier file is a ``torch.save`` of a plain dict::

    {'weight': Tensor[C, D],          # nn.Linear.weight orientation
     'meta': {'kind': 'text', 'class_names': [...], 'sha256': '...', ...}}

``meta`` holds only str/int/float/bool/None, lists and dicts, so the file
loads with ``torch.load(..., weights_only=True)``. A plain ``[C, D]`` tensor
saved with ``torch.save`` (the original code's ``text_feats_*.pt``) is read
too. Nothing here ever unpickles with ``weights_only=False``.
"""
import os
import os.path as osp
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from t4v_mmaction.utils import tensor_sha256

__all__ = [
    'ClassifierFile', 'ClassifierFormatError', 'make_classifier',
    'save_classifier', 'read_classifier'
]


class ClassifierFormatError(ValueError):
    """A file is not a readable ``[C, D]`` classifier."""


@dataclass
class ClassifierFile:
    """A frozen classifier and what it was built from.

    Args:
        weight (torch.Tensor): ``(C, D)`` float32, one row per class (the
            ``nn.Linear.weight`` orientation). Rows are not necessarily
            L2-normalised; the head normalises them.
        meta (dict): ``kind``, ``source``, ``class_names`` (list or None),
            ``templates``, ``dim``, ``num_classes``, ``sha256`` and the
            build options.
        path (str, optional): The file it was read from or cached in.
            Defaults to None.
    """
    weight: torch.Tensor
    meta: Dict[str, Any] = field(default_factory=dict)
    path: Optional[str] = None

    @property
    def num_classes(self) -> int:
        return self.weight.shape[0]

    @property
    def dim(self) -> int:
        return self.weight.shape[1]

    @property
    def class_names(self) -> Optional[List[str]]:
        return self.meta.get('class_names')


def _check_json_safe(value, where: str = 'meta') -> None:
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json_safe(item, f'{where}[{i}]')
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f'{where}: keys must be str, got {key!r}')
            _check_json_safe(item, f'{where}[{key!r}]')
    else:
        raise TypeError(f'{where} is a {type(value).__name__}; classifier '
                        'meta may hold only str/int/float/bool/None, lists '
                        'and dicts (so that weights_only loading works)')


def _check_weight(weight, source: str) -> torch.Tensor:
    if isinstance(weight, np.ndarray):
        try:
            weight = torch.from_numpy(weight)
        except TypeError:  # str, object, ... arrays
            raise ClassifierFormatError(
                f'{source}: the classifier is a numpy array of dtype '
                f'{weight.dtype}, expected a floating-point [C, D] '
                'matrix') from None
    if not isinstance(weight, torch.Tensor):
        raise ClassifierFormatError(
            f'{source}: the classifier is a {type(weight).__name__}, '
            'expected a [C, D] tensor')
    if weight.layout != torch.strided:
        raise ClassifierFormatError(
            f'{source}: the classifier is a {weight.layout} tensor; save it '
            'dense (weight.to_dense())')
    if weight.device.type == 'meta':
        raise ClassifierFormatError(
            f'{source}: the classifier is a meta tensor (shape only, no '
            'values); save the materialised weights')
    if weight.ndim != 2 or 0 in weight.shape:
        raise ClassifierFormatError(
            f'{source}: the classifier has shape {list(weight.shape)}, '
            'expected [C, D] with C, D >= 1')
    if not weight.is_floating_point():
        raise ClassifierFormatError(
            f'{source}: the classifier has dtype {weight.dtype}, expected a '
            'floating-point tensor')
    weight = weight.detach().to(torch.float32).cpu().contiguous()
    if not torch.isfinite(weight).all():
        raise ClassifierFormatError(
            f'{source}: the classifier holds NaN or infinite values')
    norms = weight.double().norm(dim=1)
    overflow = torch.nonzero(~torch.isfinite(norms.float())).flatten()
    if overflow.numel():
        raise ClassifierFormatError(
            f'{source}: rows {overflow[:10].tolist()} are too large to '
            'L2-normalise in float32 (norm > 3.4e38)')
    zero_rows = torch.nonzero(norms == 0).flatten().tolist()
    if zero_rows:
        raise ClassifierFormatError(
            f'{source}: rows {zero_rows[:10]} are all zero and cannot be '
            'L2-normalised')
    return weight


def _complete_meta(weight: torch.Tensor, meta: Optional[dict],
                   source: str) -> dict:
    meta = dict(meta or {})
    _check_json_safe(meta)
    names = meta.get('class_names')
    if names is not None and len(names) != weight.shape[0]:
        raise ClassifierFormatError(
            f'{source}: meta has {len(names)} class names but the weight has '
            f'{weight.shape[0]} rows')
    meta.update(num_classes=weight.shape[0], dim=weight.shape[1])
    meta.setdefault('class_names', None)
    return meta


def make_classifier(weight: torch.Tensor,
                    meta: Optional[dict] = None,
                    path: Optional[str] = None) -> ClassifierFile:
    """Validate a weight and complete its meta, without writing anything.

    Args:
        weight (torch.Tensor): ``(C, D)`` classifier rows.
        meta (dict, optional): JSON-like metadata. ``num_classes``, ``dim``
            and ``sha256`` are filled in. Defaults to None.
        path (str, optional): Recorded as :attr:`ClassifierFile.path` and
            used in error messages. Defaults to None.

    Returns:
        ClassifierFile: float32 weight and completed meta.
    """
    source = path or 'classifier'
    weight = _check_weight(weight, source)
    meta = _complete_meta(weight, meta, source)
    meta['sha256'] = tensor_sha256(weight)
    return ClassifierFile(weight, meta, path)


def save_classifier(path: str,
                    weight: torch.Tensor,
                    meta: Optional[dict] = None) -> ClassifierFile:
    """Write a classifier file atomically.

    Args:
        path (str): Output ``.pth`` file; parent folders are created.
        weight (torch.Tensor): ``(C, D)`` classifier rows.
        meta (dict, optional): JSON-like metadata (``kind``, ``source``,
            ``class_names``, ...). ``num_classes``, ``dim`` and ``sha256``
            are filled in. Defaults to None.

    Returns:
        ClassifierFile: What was written, with the completed meta.
    """
    path = os.fspath(path)
    clf = make_classifier(weight, meta, path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # Write then rename: concurrent builders (e.g. DDP ranks) never see a
    # half-written file.
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save({'weight': clf.weight, 'meta': clf.meta}, f)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return clf


def _torch_load(path: str):
    """The file's object, read as any weights file is
    (:func:`~t4v_mmaction.models.utils.weights_file.load_weights_file`),
    with its errors as :class:`ClassifierFormatError`."""
    from t4v_mmaction.compat import UnsafeCheckpointError
    from ..utils.weights_file import WeightsFileError, load_weights_file
    try:
        return load_weights_file(path)
    except UnsafeCheckpointError as err:
        raise ClassifierFormatError(
            f'{err} Save the classifier as a tensor or with '
            'save_classifier.') from err
    except WeightsFileError as err:
        raise ClassifierFormatError(
            str(err).replace('cannot read it as weights',
                             'not a torch.save file', 1)) from err


def read_classifier(path: str) -> ClassifierFile:
    """Read a classifier file or a plain ``[C, D]`` tensor file.

    Args:
        path (str): A file written by :func:`save_classifier`, or by
            ``torch.save`` of a ``[C, D]`` floating tensor (or array).

    Returns:
        ClassifierFile: The float32 weight and its meta (a minimal meta with
        ``kind='tensor'`` for plain tensors).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ClassifierFormatError: If the file is not a torch file, holds unsafe
            pickles, or does not hold a finite ``[C, D]`` float matrix.
    """
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'classifier file not found: {path}')
    obj = _torch_load(path)
    if isinstance(obj, dict):
        if 'weight' not in obj:
            raise ClassifierFormatError(
                f'{path}: holds a dict with keys {sorted(map(str, obj))[:8]} '
                "but no 'weight'; expected a classifier file or a [C, D] "
                'tensor (for a model checkpoint, extract the matrix first)')
        meta = obj.get('meta') or {}
        if not isinstance(meta, dict):
            raise ClassifierFormatError(
                f"{path}: 'meta' is a {type(meta).__name__}, expected a dict")
        weight = _check_weight(obj['weight'], path)
        stored_hash = meta.get('sha256')
        if stored_hash and stored_hash != tensor_sha256(weight):
            raise ClassifierFormatError(
                f'{path}: the weight does not match the sha256 stored in its '
                'meta; the file is corrupt or was edited')
    else:
        weight = _check_weight(obj, path)
        meta = {'kind': 'tensor', 'source': path}
    try:
        meta = _complete_meta(weight, meta, path)
    except TypeError as err:
        raise ClassifierFormatError(f'{path}: {err}') from err
    meta.setdefault('sha256', tensor_sha256(weight))
    return ClassifierFile(weight, meta, path)
