"""Our package in a worker: imported from this or another source tree
(``--reference-tree``, which may be an older checkout), its model built
from the worker's spec, and this tree's benchmark helpers.
"""
import importlib
import importlib.util
import os.path as osp
import sys
import types
from typing import Optional

from .settings import REPO


def ours_model_cfg(spec: dict) -> dict:
    """Our recognizer's config for the worker's ``spec`` (see
    :class:`compare.worker.Worker`): the original's architecture, no
    pretrained weights, the classifier saved at ``classifier_path``."""
    temporal = spec['backbone_temporal']
    arch = spec['arch']
    return dict(
        type='Text4VisRecognizer',
        backbone=dict(
            type='CLIPViT',
            arch=dict(arch),
            pretrained=None,
            num_frames=spec['num_frames'],
            temporal=None if temporal is None else dict(
                type={'tokent1d': 'TokenT1D',
                      'tokenshift': 'TokenShift'}[temporal])),
        cls_head=dict(
            type='FrozenClassifierHead',
            num_classes=spec['num_classes'],
            in_channels=arch['embed_dim'],
            classifier=spec['classifier_path'],
            temporal=dict(type='TemporalTransformer' if spec['head'] ==
                          'transf' else 'TemporalAveragePooling')),
        data_preprocessor=dict(
            type='ActionDataPreprocessor', format_shape='NCTHW'))


def import_ours(package: Optional[str] = None) -> None:
    """Import ``t4v_mmaction`` and set mmaction's default scope.

    Args:
        package (str, optional): A source tree to import it from. Defaults
            to None: the installed one.

    Raises:
        RuntimeError: ``t4v_mmaction`` came from elsewhere than
            ``package``.
    """
    if package:
        sys.path.insert(0, package)
    import t4v_mmaction
    if package and not osp.abspath(t4v_mmaction.__file__).startswith(
            osp.abspath(package)):
        raise RuntimeError(f'imported {t4v_mmaction.__file__}, not the '
                           f'tree at {package}')
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')


def build_ours(spec: dict):
    """Our recognizer (after :func:`import_ours`), randomly initialised.

    Args:
        spec (dict): The worker's spec (see :class:`compare.worker.Worker`).

    Returns:
        nn.Module: The recognizer; ``cls_head(backbone(x))`` maps
        ``(B, 3, T, S, S)`` clips to ``(B, num_classes)`` logits.
    """
    from mmaction.registry import MODELS
    return MODELS.build(ours_model_cfg(spec))


def ours_module(name: str, before: str) -> types.ModuleType:
    """One of our modules, by its path in this tree or, in an older
    reference tree (``--reference-tree``), by its path there.

    Args:
        name (str): Its module path in this tree.
        before (str): Its module path in older trees.

    Returns:
        types.ModuleType: The module, from whichever tree was imported.
    """
    try:
        return importlib.import_module(name)
    except ImportError:
        return importlib.import_module(before)


def native_bf16(device) -> bool:
    """Whether bf16 runs natively on ``device`` (our package's rule)."""
    return ours_module(
        't4v_mmaction.models.utils.precision',
        't4v_mmaction.models.recognizers.inference_precision').native_bf16(
            device)


def benchmark_api() -> types.ModuleType:
    """This tree's :mod:`t4v_mmaction.apis.benchmark`, loaded from its file.

    Whichever tree a worker's model comes from (or none: the original's
    worker), every worker is timed and its memory read by this same code;
    loading the file does not import our package (only torch).

    Returns:
        types.ModuleType: The module (``memory_mib``,
        ``reset_peak_memory``, ``measure_train_step``, ...).
    """
    path = osp.join(REPO, 't4v_mmaction', 'apis', 'benchmark.py')
    spec = importlib.util.spec_from_file_location('_t4v_benchmark', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
