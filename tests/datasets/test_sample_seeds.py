"""SampleSeeds: per-sample seeds from (seed, epoch, index, attempt), the
epoch shared with forked workers, copies with an epoch of their own."""
import copy
import multiprocessing
import pickle
import random

import numpy as np
import torch

from t4v_mmaction.datasets.sample_seeds import SampleSeeds


def _seeds(seed=3, epoch=2):
    seeds = SampleSeeds()
    seeds.seed = seed
    seeds.set_epoch(epoch)
    return seeds


def test_a_sample_draws_the_same_whatever_ran_before():
    seeds = _seeds()
    draws = []
    for draws_before in (0, 3):
        for _ in range(draws_before):
            random.random(), np.random.rand(), torch.rand(1)
        with seeds.sample(5):
            draws.append((random.random(), np.random.rand(),
                          torch.rand(1).item()))
    assert draws[0] == draws[1]
    assert seeds.value(5) != seeds.value(6) != seeds.value(5, attempt=1)


def test_the_generators_are_restored_after_a_sample():
    seeds = _seeds()
    random.seed(0)
    expected = random.random()
    random.seed(0)
    with seeds.sample(1):
        random.random()
    assert random.random() == expected


def _epoch_in_child(seeds, queue):
    queue.put(seeds.epoch)


def test_forked_workers_see_the_epoch_set_later():
    seeds = _seeds(epoch=0)
    ctx = multiprocessing.get_context('fork')
    queue = ctx.Queue()
    seeds.set_epoch(4)  # after construction, before the worker reads it
    proc = ctx.Process(target=_epoch_in_child, args=(seeds, queue))
    proc.start()
    proc.join(60)
    assert queue.get(timeout=10) == 4


def test_copies_have_an_epoch_of_their_own():
    seeds = _seeds(epoch=2)
    for clone in (copy.deepcopy(seeds), pickle.loads(pickle.dumps(seeds))):
        assert (clone.seed, clone.epoch) == (3, 2)
        clone.set_epoch(7)
        assert seeds.epoch == 2 and clone.value(1) != seeds.value(1)
