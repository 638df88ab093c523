"""Frozen classifiers of Text4Vis (section 2.2, Table 5).

Every kind returns a ``(K, D)`` matrix in the ``nn.Linear.weight``
orientation (one row per class). A spec (a file, or ``dict(type=kind,
...)``) becomes a classifier through :func:`make_classifier_source` (cheap:
K, D and the class names are known, nothing is built) and is built, or read
from the content-addressed cache, by its ``load()``; :func:`load_classifier`
does both.
"""
from .base import BaseClassifier
from .builder import (build_classifier, classifier_cache_key, load_classifier,
                      make_classifier_source)
from .cache import default_cache_dir
from .gaussian import RandomClassifier, build_random_classifier
from .io import (ClassifierFile, ClassifierFormatError, make_classifier,
                 read_classifier, save_classifier)
from .language_model import (LanguageModelClassifier, LMTextEncoder,
                             build_lm_classifier, default_lm_path)
from .lda import LDAClassifier, build_lda_classifier, sample_per_class
from .orthogonal import OrthogonalClassifier, build_orthogonal_classifier
from .stored import StoredClassifier
from .templates import TEMPLATE_SETS, ensemble_templates, resolve_templates
from .text import TextClassifier, build_text_classifier

__all__ = [
    'BaseClassifier', 'TextClassifier', 'LanguageModelClassifier',
    'LDAClassifier', 'RandomClassifier', 'OrthogonalClassifier',
    'StoredClassifier', 'LMTextEncoder', 'make_classifier_source',
    'load_classifier', 'build_classifier', 'classifier_cache_key',
    'default_cache_dir', 'save_classifier', 'read_classifier',
    'make_classifier', 'ClassifierFile', 'ClassifierFormatError',
    'build_text_classifier', 'build_lm_classifier', 'default_lm_path',
    'build_lda_classifier', 'sample_per_class', 'build_random_classifier',
    'build_orthogonal_classifier', 'TEMPLATE_SETS', 'resolve_templates',
    'ensemble_templates'
]
