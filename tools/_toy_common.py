"""Helpers shared by the toy-dataset tools (``toy_demo.py``,
``toy_ablation.py``): point a toy config at a data root and derive the
zero-shot evaluation config of a trained model."""
import copy
import os.path as osp

from mmengine.config import Config


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


def zero_shot_config(cfg: Config, classifier: dict, data_root: str,
                     checkpoint: str, work_dir: str) -> Config:
    """The trained model, evaluated single-view on the unseen classes."""
    cfg = copy.deepcopy(cfg)
    cfg.model.cls_head.classifier = classifier
    cfg.model.cls_head.num_classes = None  # the classifier defines K
    cfg.test_dataloader.dataset.ann_file = f'{data_root}/zeroshot_list.txt'
    if 'class_names' in cfg.test_dataloader.dataset:
        cfg.test_dataloader.dataset.class_names = \
            f'{data_root}/classes_unseen.txt'
    cfg.test_dataloader.dataset.pipeline = cfg.test_pipeline
    cfg.load_from = checkpoint
    cfg.work_dir = work_dir
    return cfg
