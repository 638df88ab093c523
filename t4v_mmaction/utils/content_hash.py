"""Content hashes: of files, folders, tensors and JSON-like values.

Caches (frozen classifiers, LDA video features) are keyed by the content of
everything they were computed from, never by a path alone, so a file
rewritten in place gives a new key.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict

import numpy as np
import torch

__all__ = [
    'tensor_sha256', 'file_sha256', 'path_sha256', 'canonical_json',
    'content_key'
]

_FILE_HASHES: Dict[tuple, str] = {}


def tensor_sha256(weight: torch.Tensor) -> str:
    """sha256 of a tensor's float32 values and shape (hex)."""
    array = np.ascontiguousarray(
        weight.detach().cpu().to(torch.float32).numpy())
    digest = hashlib.sha256(repr(tuple(array.shape)).encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def file_sha256(path: str) -> str:
    """sha256 of a file's bytes (remembered for the process per path, size
    and modification time, so a rewritten file is hashed again)."""
    stat = os.stat(path)
    key = (osp.realpath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_HASHES:
        digest = hashlib.sha256()
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 22), b''):
                digest.update(chunk)
        _FILE_HASHES[key] = digest.hexdigest()
    return _FILE_HASHES[key]


def path_sha256(path: str) -> str:
    """sha256 of a file, or of every file in a folder (names included)."""
    if osp.isfile(path):
        return file_sha256(path)
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = osp.join(root, name)
            digest.update(osp.relpath(full, path).encode())
            digest.update(file_sha256(full).encode())
    return digest.hexdigest()


def canonical_json(value) -> str:
    """Deterministic JSON text (sorted keys) used for content hashes."""
    return json.dumps(value, sort_keys=True, separators=(',', ':'),
                      default=str)


def content_key(value) -> str:
    """sha256 (hex) of :func:`canonical_json` of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
