"""Model utilities: where CLIP weights come from and how they are read
(never executed), state-dict fitting, checkpoint conversion, inference
precision, view fusion."""
from .clip_source import CLIPSource, normalize_arch_name, resolve_clip_source
from .precision import native_bf16, resolve_precision
from .state_dict import (checkpoint_mismatch, load_state_dict_exactly,
                         state_shapes, strip_prefix, strip_wrapper_prefixes)
from .torchscript_archive import (UnsafeArchiveError, is_torchscript_archive,
                                  read_torchscript_state_dict)
from .views import fuse_views
from .weights_file import WeightsFileError, load_weights_file, read_state_dict

__all__ = [
    'CLIPSource', 'resolve_clip_source', 'normalize_arch_name',
    'native_bf16', 'resolve_precision', 'checkpoint_mismatch',
    'load_state_dict_exactly', 'state_shapes', 'strip_prefix',
    'strip_wrapper_prefixes', 'UnsafeArchiveError', 'is_torchscript_archive',
    'read_torchscript_state_dict', 'fuse_views', 'WeightsFileError',
    'load_weights_file', 'read_state_dict'
]
