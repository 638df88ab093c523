"""Build a recognizer for inference, optionally on a new set of class names.

Text4Vis classifies with a frozen matrix of class-name embeddings that is not
part of the checkpoint, so a trained model recognises any label set: the
model's own text encoder (its ``text`` or ``lm`` classifier: same model,
weights and templates) embeds the new names, with no retraining and no
checkpoint edit (``FrozenClassifierHead.set_classifier``).
"""
import copy
import os
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmaction.registry import MODELS

from t4v_mmaction.datasets.class_names import (ClassNamesType,
                                                resolve_class_names)

__all__ = ['init_recognizer', 'get_class_names', 'set_label_set']


def get_class_names(model: nn.Module) -> Optional[List[str]]:
    """The names of the model's classes, in score order, if known.

    Looks at ``model.class_names`` (set by :func:`init_recognizer`), then at
    the frozen classifier's (``cls_head.class_names``).
    """
    names = getattr(model, 'class_names', None)
    if names is None:
        names = getattr(getattr(model, 'cls_head', None), 'class_names',
                        None)
    return list(names) if names is not None else None


def set_label_set(model: nn.Module, class_names: ClassNamesType) -> None:
    """Recognise ``class_names`` from now on.

    A head whose classifier is built from class names (``text``, ``lm``)
    gets a new classifier from the same encoder; any other classifier is
    kept, and the names only label its rows (so their number must match).

    Raises:
        ValueError: If the names cannot label the model's classes.
    """
    names = resolve_class_names(class_names)
    head = getattr(model, 'cls_head', None)
    source = getattr(head, 'classifier_source', None)
    if source is not None and source.needs_classes:
        head.set_classifier(source.with_classes(names))
    else:
        num_classes = getattr(head, 'num_classes', None)
        if num_classes is not None and len(names) != num_classes:
            kind = source.kind if source is not None else type(head).__name__
            raise ValueError(
                f'{len(names)} class names were given but the model has '
                f'{num_classes} classes; only a classifier built from class '
                f"names ('text', 'lm') takes new ones (this model's is "
                f'{kind!r})')
    model.class_names = list(names)


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
    ``'lm'`` classifier, the model's classifier is rebuilt from these names
    with its own encoder settings (model, weights, templates) and the
    number of classes follows them; see :func:`set_label_set`.

    Args:
        config (str | os.PathLike | Config): Config file or object (the
            object is copied, not modified).
        checkpoint (str, optional): Weights to load; None keeps random
            weights. Defaults to None.
        device (str | torch.device): Where the model runs. Defaults to
            ``'cpu'``.
        class_names (str | list[str], optional): The label set: a list of
            free-text names, or a label map (``.txt``, one name per line) or
            ``id,name`` CSV (see :func:`set_label_set`). Defaults to None
            (the config's).
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
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu')
    model.cfg = cfg
    model.class_names = None
    if class_names is not None:
        set_label_set(model, class_names)
    model.class_names = get_class_names(model)
    model = model.to(device).eval()
    if precision != 'fp32':
        if not hasattr(model, 'set_inference_precision'):
            raise ValueError(f'precision={precision!r} needs a '
                             'Text4VisRecognizer, this config builds a '
                             f'{type(model).__name__}')
        model.set_inference_precision(precision)
    return model
