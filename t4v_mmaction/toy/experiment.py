"""Running the toy experiments (``tools/toy_demo.py``,
``tools/toy_ablation.py``): point a toy config at a data root, and evaluate
a trained model zero-shot on the unseen compositions by giving its head the
classifier of their names."""
import copy
import os.path as osp
from typing import Union

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

__all__ = ['use_data_root', 'zero_shot_config', 'run_zero_shot']


def use_data_root(cfg: Config, root: str) -> None:
    """Point the config's lists, videos and class names at ``root``.

    The head's classifier spec, when it names classes (``class_names``),
    is pointed at ``<root>/classes_seen.txt``; heads without one (e.g. the
    linear head) are left alone.
    """
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        dataset = loader.dataset
        dataset.ann_file = osp.join(root, osp.basename(dataset.ann_file))
        dataset.data_prefix = dict(video=osp.join(root, 'videos'))
        if 'class_names' in dataset:  # labels are checked against them
            dataset.class_names = osp.join(root, 'classes_seen.txt')
    classifier = cfg.model.cls_head.get('classifier')
    if isinstance(classifier, dict) and 'class_names' in classifier:
        classifier.class_names = osp.join(root, 'classes_seen.txt')


def zero_shot_config(cfg: Config, data_root: str, checkpoint: str,
                     work_dir: str) -> Config:
    """The trained model's config, tested single-view on the unseen
    classes (the model itself is unchanged; see :func:`run_zero_shot`)."""
    cfg = copy.deepcopy(cfg)
    dataset = cfg.test_dataloader.dataset
    dataset.ann_file = f'{data_root}/zeroshot_list.txt'
    if 'class_names' in dataset:
        dataset.class_names = f'{data_root}/classes_unseen.txt'
    dataset.pipeline = cfg.test_pipeline
    cfg.load_from = checkpoint
    cfg.work_dir = work_dir
    return cfg


def run_zero_shot(cfg: Config, classifier: Union[str, dict]) -> dict:
    """Test a zero-shot config with ``classifier`` given to the head.

    Args:
        cfg (Config): From :func:`zero_shot_config`.
        classifier (str | dict): Any classifier spec, or ``'text'``: the
            model's own classifier on the unseen class names (the same
            encoder, weights and templates).

    Returns:
        dict: The test metrics.
    """
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else \
        runner.model
    head = model.cls_head
    if classifier == 'text':
        classifier = head.classifier_source.with_classes(
            cfg.test_dataloader.dataset.class_names)
    head.set_classifier(classifier)
    return runner.test()
