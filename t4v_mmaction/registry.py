"""This package's own registry. Every other component registers into
mmaction2's registries (``mmaction.registry.MODELS``, ``DATASETS``, ...).

``CLASSIFIERS`` holds the kinds of frozen classifier a head's
``classifier=dict(type=...)`` names (``'text'``, ``'lm'``, ``'lda'``,
``'random'``, ``'orthogonal'``, ``'file'``); see
:mod:`t4v_mmaction.models.classifiers`.
"""
from mmengine.registry import Registry

CLASSIFIERS = Registry(
    'frozen classifier',
    scope='t4v_mmaction',
    locations=['t4v_mmaction.models.classifiers'])
