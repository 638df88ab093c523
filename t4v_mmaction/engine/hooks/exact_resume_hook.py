"""Resuming a killed run to exactly the weights of an uninterrupted one."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from mmaction.registry import HOOKS
from t4v_mmaction.datasets.robust_video_dataset import find_robust_datasets
from t4v_mmaction.datasets.sample_seeds import derive_seed


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Make ``--resume`` continue a run exactly.

    mmengine restores the weights, the optimizer, the schedulers and the
    sampler's epoch, but not the randomness: a resumed run starts new
    DataLoader workers (with their initial seeds) and the main process's
    generators from the config's seed; and creating a DataLoader iterator
    draws from the main generator, which a run with persistent workers does
    once and its resumed run once more. Here the randomness depends only on
    the run's seed and the position in the run:

    * every training sample of a ``RobustVideoDataset`` draws its
      augmentation from its own seed, ``(run seed, epoch, index)`` (see
      :class:`~t4v_mmaction.datasets.sample_seeds.SampleSeeds`), whatever
      the number of workers, persistent or not, and ranks;
    * before each training iteration the main process's Python, NumPy and
      torch (CPU and CUDA) generators are seeded from ``(run seed,
      iteration)``: dropout, drop path and anything else a model draws.

    Resuming needs the config's ``randomness.seed`` (a random seed differs
    between the two runs); the shipped ``default_runtime.py`` sets one.
    """
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Give the datasets the run's seed, before workers start."""
        for dataset in find_robust_datasets(runner.train_dataloader.dataset):
            dataset.set_seed(runner.seed)

    def before_train_epoch(self, runner) -> None:
        for dataset in find_robust_datasets(runner.train_dataloader.dataset):
            dataset.set_epoch(runner.epoch)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        seed_generators(runner.seed, runner.iter)


def seed_generators(seed: int, step: int) -> None:
    """Seed Python's, NumPy's and torch's generators from ``(seed, step)``."""
    value = derive_seed(seed, step)
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)  # every device's generator too
