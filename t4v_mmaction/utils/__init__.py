from .content_hash import (canonical_json, content_key, file_sha256,
                           path_sha256, tensor_sha256)
from .finite import NonFiniteWeightsError, check_finite

__all__ = [
    'NonFiniteWeightsError', 'check_finite', 'canonical_json', 'content_key',
    'file_sha256', 'path_sha256', 'tensor_sha256'
]
