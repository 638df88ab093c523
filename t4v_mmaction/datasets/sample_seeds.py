"""Randomness of a training sample that depends only on (seed, epoch,
index): the augmentation of a video is the same in an uninterrupted run and
in a killed and resumed one, for any number of DataLoader workers, with
persistent workers, and on any rank.

mmengine seeds each DataLoader worker once, when it starts; a resumed run
starts new workers, so with random augmentation every later sample differs
from the uninterrupted run's. Here Python's, NumPy's and torch's (CPU)
generators are seeded for each sample and restored afterwards (in the main
process, with ``num_workers=0``, the model's own randomness is untouched).
The epoch reaches workers through shared memory, which a hook sets at the
start of every epoch (``ExactResumeHook``); a copy of the object (pickled
or deep-copied other than to start a worker) has memory of its own.
"""
import contextlib
import multiprocessing
import random
from multiprocessing.context import get_spawning_popen
from typing import Iterator, Optional

import numpy as np
import torch

__all__ = ['SampleSeeds', 'derive_seed']


def derive_seed(*keys: int) -> int:
    """A 32-bit seed that depends only on the non-negative integer ``keys``
    (NumPy's ``SeedSequence``)."""
    return int(np.random.SeedSequence(
        [int(k) % 2**63 for k in keys]).generate_state(1)[0])


class SampleSeeds:
    """Seeds per (seed, epoch, index, attempt); the epoch is shared with
    the DataLoader's worker processes.

    ``seed`` None (the dataset used outside a seeded ``Runner``) leaves the
    generators alone.
    """

    def __init__(self):
        self.seed: Optional[int] = None
        self._epoch = multiprocessing.RawValue('q', 0)

    def __getstate__(self):
        state = self.__dict__.copy()
        if get_spawning_popen() is None:  # a copy, not a worker starting:
            state['_epoch'] = self.epoch  # memory of its own
        return state

    def __setstate__(self, state):
        if isinstance(state['_epoch'], int):
            state['_epoch'] = multiprocessing.RawValue('q', state['_epoch'])
        self.__dict__.update(state)

    @property
    def epoch(self) -> int:
        return int(self._epoch.value)

    def set_epoch(self, epoch: int) -> None:
        self._epoch.value = int(epoch)

    def value(self, index: int, attempt: int = 0) -> Optional[int]:
        """The 32-bit seed of one sample (None without ``seed``)."""
        if self.seed is None:
            return None
        return derive_seed(self.seed, self.epoch, index, attempt)

    @contextlib.contextmanager
    def sample(self, index: int, attempt: int = 0) -> Iterator[None]:
        """Within the block, the generators run from the sample's seed."""
        seed = self.value(index, attempt)
        if seed is None:
            yield
            return
        states = (random.getstate(), np.random.get_state(),
                  torch.get_rng_state())
        random.seed(seed)
        np.random.seed(seed)
        torch.default_generator.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])

    def another(self, index: int, attempt: int, size: int) -> int:
        """The index tried instead of a broken video (mmengine's refetch
        draws it from the worker's generator)."""
        seed = self.value(index, attempt)
        if seed is None:
            return int(np.random.randint(0, size))
        return int(np.random.default_rng(seed).integers(0, size))
