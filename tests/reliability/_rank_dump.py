"""Test-only hook: every rank writes what it drew for few-shot training and
zero-shot evaluation, so a test can compare the ranks.

Imported through ``custom_imports`` by the distributed test's config (with
tests/reliability on PYTHONPATH).
"""
import json
import os.path as osp

from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook

from mmaction.registry import HOOKS
from t4v_mmaction.datasets import FewShotDataset
from t4v_mmaction.evaluation import half_class_splits


def draws(ann_file: str, shots: int, num_classes: int,
          num_splits: int) -> dict:
    """The few-shot subset of ``ann_file`` and the half-class splits."""
    subset = FewShotDataset(
        dict(type='RobustVideoDataset', ann_file=ann_file, pipeline=[]),
        shots=shots,
        seed=0)
    return dict(
        subset=[int(i) for i in subset.subset_indices],
        splits=[[int(c) for c in split]
                for split in half_class_splits(num_classes, num_splits)])


@HOOKS.register_module()
class RankDumpHook(Hook):
    """Write ``rank{r}.json`` with :func:`draws` before testing."""

    def __init__(self, out_dir: str, ann_file: str, shots: int,
                 num_classes: int, num_splits: int) -> None:
        self.out_dir = out_dir
        self.args = (ann_file, shots, num_classes, num_splits)

    def before_test(self, runner) -> None:
        record = dict(rank=get_rank(), world_size=get_world_size(),
                      **draws(*self.args))
        with open(osp.join(self.out_dir, f'rank{get_rank()}.json'), 'w') as f:
            json.dump(record, f)
