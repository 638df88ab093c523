"""Read the tensors of a TorchScript archive without running any of its code.

OpenAI distributes CLIP weights as TorchScript archives (``ViT-B-16.pt``).
``torch.jit.load`` compiles the archive's ``code/`` and runs it (a module's
``__setstate__`` included), and ``torch.load(weights_only=True)`` refuses the
format. An archive is a zip: ``data.pkl`` pickles the module tree (each
module's attributes in a dict, tensors as references to ``data/<key>``) and
``code/`` declares, per class, which attributes are parameters and buffers.
Here ``data.pkl`` is unpickled with a closed list of globals (tensor
rebuilding, storage types, ``OrderedDict``; the archive's own classes become
inert records), storages are read from the zip as raw bytes, and the class
declarations are parsed as text. Anything else in the pickle is refused with
:class:`UnsafeArchiveError` before it is used.
"""
import pickle
import re
import zipfile
from collections import OrderedDict
from typing import Dict, Optional, Set

import torch

from t4v_mmaction.compat import UnsafeCheckpointError

__all__ = ['UnsafeArchiveError', 'is_torchscript_archive',
           'read_torchscript_state_dict']

_STORAGE_DTYPES = {
    'DoubleStorage': torch.float64,
    'FloatStorage': torch.float32,
    'HalfStorage': torch.float16,
    'BFloat16Storage': torch.bfloat16,
    'LongStorage': torch.int64,
    'IntStorage': torch.int32,
    'ShortStorage': torch.int16,
    'CharStorage': torch.int8,
    'ByteStorage': torch.uint8,
    'BoolStorage': torch.bool,
}
_DECLARATION = re.compile(r'^  __(parameters|buffers)__ = \[(.*)\]', re.M)


class UnsafeArchiveError(UnsafeCheckpointError):
    """A TorchScript archive holds objects that only its code can build."""


def is_torchscript_archive(path: str) -> bool:
    """Whether ``path`` is a TorchScript archive (a zip with
    ``constants.pkl`` and ``code/``), as OpenAI's CLIP ``.pt`` files are."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any(n.endswith('/constants.pkl') for n in names) and any(
        '/code/' in n for n in names)


class _ScriptObject:
    """An inert record of one pickled TorchScript object (a module)."""
    qualname = ''

    def __setstate__(self, state) -> None:
        self.state = state


def _rebuild_tensor(storage: torch.Tensor, offset: int, size, stride, *_):
    """``torch._utils._rebuild_tensor_v2`` on a flat tensor of the storage."""
    return storage.as_strided(tuple(size), tuple(stride), offset)


def _restore_type_tag(value, _type_str):
    return value


_ALLOWED = {
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor,
    ('collections', 'OrderedDict'): OrderedDict,
    ('torch.jit._pickle', 'restore_type_tag'): _restore_type_tag,
    ('torch.jit._pickle', 'build_intlist'): list,
    ('torch.jit._pickle', 'build_doublelist'): list,
    ('torch.jit._pickle', 'build_boollist'): list,
    ('torch.jit._pickle', 'build_tensorlist'): list,
}


class _ArchiveUnpickler(pickle.Unpickler):

    def __init__(self, file, archive: zipfile.ZipFile, root: str,
                 path: str):
        super().__init__(file)
        self.archive, self.root, self.path = archive, root, path
        self.storages: Dict[str, torch.Tensor] = {}
        self.classes: Dict[str, type] = {}

    def find_class(self, module: str, name: str):
        if module.startswith('__torch__.') or module == '__torch__':
            qualname = f'{module}.{name}'
            if qualname not in self.classes:
                self.classes[qualname] = type(name, (_ScriptObject, ),
                                              dict(qualname=qualname))
            return self.classes[qualname]
        if module == 'torch' and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        raise UnsafeArchiveError(
            f'{self.path}: refusing to read this TorchScript archive: its '
            f'data.pkl references {module}.{name}, which is not part of a '
            "module's weights. Nothing from the file was executed.")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 3
                and pid[0] == 'storage'):
            raise UnsafeArchiveError(
                f'{self.path}: unexpected persistent id {pid!r} in data.pkl')
        dtype, key = pid[1], str(pid[2])
        if not isinstance(dtype, torch.dtype):
            raise UnsafeArchiveError(
                f'{self.path}: storage {key} has no known tensor type')
        if key not in self.storages:
            raw = bytearray(self.archive.read(f'{self.root}/data/{key}'))
            self.storages[key] = torch.frombuffer(raw, dtype=dtype) if raw \
                else torch.empty(0, dtype=dtype)
        return self.storages[key]


def _declared(archive: zipfile.ZipFile, root: str,
              qualname: str) -> Optional[Set[str]]:
    """Parameter and buffer names that ``code/`` declares for a class (None
    when the archive does not say)."""
    module, _, name = qualname.rpartition('.')
    member = f'{root}/code/{module.replace(".", "/")}.py'
    try:
        source = archive.read(member).decode('utf-8')
    except KeyError:
        return None
    match = re.search(rf'^class {re.escape(name)}\(', source, re.M)
    if match is None:
        return None
    body = source[match.end():]
    end = re.search(r'^class ', body, re.M)
    body = body[:end.start()] if end else body
    names = set()
    for _, items in _DECLARATION.findall(body):
        names.update(re.findall(r'"([^"]+)"', items))
    return names


def _collect(obj: _ScriptObject, prefix: str, archive, root: str, path: str,
             out: Dict[str, torch.Tensor],
             declared: Dict[str, Optional[Set[str]]]) -> None:
    state = getattr(obj, 'state', None)
    if not isinstance(state, dict):
        raise UnsafeArchiveError(
            f'{path}: {obj.qualname} is stored through a custom '
            '__setstate__, so its weights cannot be read without running '
            "the archive's code. Nothing from the file was executed; export "
            'a state dict from a trusted environment instead.')
    if obj.qualname not in declared:
        declared[obj.qualname] = _declared(archive, root, obj.qualname)
    names = declared[obj.qualname]
    for attr, value in state.items():
        if isinstance(value, torch.Tensor):
            if names is None or attr in names:
                out[prefix + attr] = value
        elif isinstance(value, _ScriptObject):
            _collect(value, f'{prefix}{attr}.', archive, root, path, out,
                     declared)


def read_torchscript_state_dict(path: str) -> 'OrderedDict[str, torch.Tensor]':
    """The parameters and buffers of a TorchScript archive, by their names
    in the scripted module (as ``torch.jit.load(path).state_dict()``), read
    without compiling or running anything the archive contains.

    Raises:
        UnsafeArchiveError: If ``data.pkl`` holds anything besides modules,
            tensors and plain values, or a module with a custom
            ``__setstate__``.
    """
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith('/data.pkl')
                   and n.count('/') == 1]
        if not pickles:
            raise UnsafeArchiveError(f'{path}: no data.pkl in the archive')
        root = pickles[0].split('/')[0]
        try:
            order = archive.read(f'{root}/byteorder').decode().strip()
        except KeyError:
            order = 'little'
        if order != 'little':
            raise UnsafeArchiveError(
                f'{path}: a {order}-endian archive is not supported')
        with archive.open(pickles[0]) as f:
            tree = _ArchiveUnpickler(f, archive, root, path).load()
        if not isinstance(tree, _ScriptObject):
            raise UnsafeArchiveError(
                f'{path}: data.pkl does not hold a scripted module')
        out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
        _collect(tree, '', archive, root, path, out, {})
    return out
