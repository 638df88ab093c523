"""Frozen classifiers of Text4Vis (section 2.2, Table 5).

Every builder returns a ``(C, D)`` tensor in the ``nn.Linear.weight``
orientation (one row per class); :func:`load_classifier` turns a file or a
dict spec into a :class:`ClassifierFile` for the frozen head.
"""
from .factory import build_classifier, classifier_cache_key, load_classifier
from .io import (ClassifierFile, ClassifierFormatError, make_classifier,
                 read_classifier, save_classifier)
from .language_model import build_lm_classifier, default_lm_path
from .lda import build_lda_classifier, sample_per_class
from .synthetic import build_orthogonal_classifier, build_random_classifier
from .templates import TEMPLATE_SETS, resolve_templates
from .text import build_text_classifier
from .video_features import extract_video_features

__all__ = [
    'load_classifier', 'build_classifier', 'classifier_cache_key',
    'save_classifier', 'read_classifier', 'make_classifier',
    'ClassifierFile', 'ClassifierFormatError', 'build_text_classifier',
    'build_lm_classifier', 'default_lm_path', 'build_lda_classifier',
    'sample_per_class', 'extract_video_features', 'build_random_classifier',
    'build_orthogonal_classifier', 'TEMPLATE_SETS', 'resolve_templates'
]
