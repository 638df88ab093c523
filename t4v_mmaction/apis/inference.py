"""Build a recognizer for inference, optionally on a new set of class names.

Text4Vis classifies with a frozen matrix of class-name embeddings that is not
part of the checkpoint, so a trained model recognises any label set: the
config's own text encoder (``cls_head.classifier``, type ``'text'`` or
``'lm'``, same model, weights and templates) embeds the new names at
construction, with no retraining and no checkpoint edit.
"""
import copy
import os
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmaction.registry import MODELS

from t4v_mmaction.datasets.class_names import load_class_names

__all__ = ['init_recognizer', 'resolve_class_names', 'get_class_names']

ClassNamesType = Optional[Union[str, os.PathLike, Sequence[str]]]

# Classifier specs that are built from class names, so can take new ones.
TEXT_SPECS = ('text', 'lm')
_NAME_KEYS = ('classes', 'class_names')


def resolve_class_names(class_names: ClassNamesType) -> Optional[List[str]]:
    """A list of names, or a label map (``.txt``) / ``id,name`` CSV path.

    Raises:
        ValueError: If the list is empty, holds a non-string, an empty or a
            duplicated name.
    """
    if class_names is None:
        return None
    if isinstance(class_names, (str, os.PathLike)):
        return load_class_names(os.fspath(class_names))
    names = [n.strip() if isinstance(n, str) else n for n in class_names]
    if not names:
        raise ValueError('class_names is empty')
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise ValueError(f'class_names[{i}] must be a non-empty string, '
                             f'got {name!r}')
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f'duplicate class names: {duplicates}')
    return names


def _spec_names(spec) -> Optional[List[str]]:
    if isinstance(spec, dict):
        for key in _NAME_KEYS:
            if spec.get(key) is not None:
                return resolve_class_names(spec[key])
    return None


def _set_label_set(head: dict, names: Optional[List[str]]) -> None:
    """Point a head config at ``names`` (in place) when its classifier is
    built from class names; fill a missing ``num_classes``."""
    spec = head.get('classifier')
    if names is not None and isinstance(spec, dict) and \
            spec.get('type') in TEXT_SPECS:
        spec = {k: v for k, v in spec.items() if k not in _NAME_KEYS}
        head['classifier'] = dict(spec, class_names=names)
        head['num_classes'] = len(names)
    elif head.get('num_classes') is None:
        spec_names = names or _spec_names(spec)
        if spec_names is not None:
            head['num_classes'] = len(spec_names)


def get_class_names(model: nn.Module) -> Optional[List[str]]:
    """The names of the model's classes, in score order, if known.

    Looks at ``model.class_names`` (set by :func:`init_recognizer`), then at
    the frozen classifier's meta (``cls_head.classifier_meta``).
    """
    names = getattr(model, 'class_names', None)
    if names is None:
        meta = getattr(getattr(model, 'cls_head', None), 'classifier_meta',
                       None) or {}
        names = meta.get('class_names')
    return list(names) if names is not None else None


def init_recognizer(config: Union[str, os.PathLike, Config],
                    checkpoint: Optional[str] = None,
                    device: Union[str, torch.device] = 'cpu',
                    class_names: ClassNamesType = None,
                    cfg_options: Optional[dict] = None,
                    precision: str = 'fp32') -> nn.Module:
    """Build a recognizer from a config, load weights, switch to eval.

    As mmaction2's ``init_recognizer``: ``Config.fromfile`` (which runs the
    config's ``custom_imports``), the default scope, ``MODELS.build``, a
    non-strict ``load_checkpoint`` and ``model.cfg = cfg``; ``init_weights``
    is not called, so without a checkpoint the weights are random (the
    backbone's ``pretrained`` CLIP weights are not loaded).

    Open-vocabulary recognition: with ``class_names`` and a ``'text'`` or
    ``'lm'`` classifier spec in ``cfg.model.cls_head.classifier``, the
    classifier is rebuilt from these names with the config's own encoder
    settings (model, weights, templates) and ``num_classes`` follows them.
    Any other classifier is kept; the names then only label its rows and
    must match their number.

    Args:
        config (str | os.PathLike | Config): Config file or object (the
            object is copied, not modified).
        checkpoint (str, optional): Weights to load; None keeps random
            weights. Defaults to None.
        device (str | torch.device): Where the model runs. Defaults to
            ``'cpu'``.
        class_names (str | list[str], optional): The label set: a list of
            free-text names, or a label map (``.txt``, one name per line) or
            ``id,name`` CSV. Defaults to None (the config's).
        cfg_options (dict, optional): Config overrides merged before
            building, as ``--cfg-options``. Defaults to None.
        precision (str): ``'fp32'``, ``'bf16'`` or ``'auto'`` (bf16 where
            the device runs it natively), see
            ``Text4VisRecognizer.set_inference_precision``; other
            recognizers support only ``'fp32'``. Defaults to ``'fp32'``.

    Returns:
        nn.Module: The recognizer in eval mode, with ``cfg`` and
        ``class_names`` (list or None) attributes.

    Raises:
        TypeError: If ``config`` is neither a path nor a Config.
        ValueError: If ``class_names`` cannot label the model's classes.
    """
    if isinstance(config, (str, os.PathLike)):
        cfg = Config.fromfile(os.fspath(config))
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError('config must be a file path or a Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    names = resolve_class_names(class_names)
    if 'cls_head' in cfg.model:
        _set_label_set(cfg.model.cls_head, names)
    model = MODELS.build(cfg.model)
    num_classes = getattr(getattr(model, 'cls_head', None), 'num_classes',
                          None)
    if names is not None and num_classes is not None and \
            len(names) != num_classes:
        spec = cfg.model.cls_head.get('classifier')
        kind = spec.get('type') if isinstance(spec, dict) else spec
        raise ValueError(
            f'{len(names)} class names were given but the model has '
            f'{num_classes} classes; only a classifier spec of type '
            f'{list(TEXT_SPECS)} is rebuilt for new names (this config has '
            f'classifier={kind!r})')
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu')
    model.cfg = cfg
    if names is None:
        names = get_class_names(model)
    model.class_names = names
    model = model.to(device).eval()
    if precision != 'fp32':
        if not hasattr(model, 'set_inference_precision'):
            raise ValueError(f'precision={precision!r} needs a '
                             'Text4VisRecognizer, this config builds a '
                             f'{type(model).__name__}')
        model.set_inference_precision(precision)
    return model
