"""tests/reliability/ on sys.path for its helper modules (pytest runs with
``--import-mode=importlib``, which adds no test folder), and every test
turns off again torch's deterministic-algorithms switch that the
recipes turn on."""
import os.path as osp
import sys

import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(autouse=True)
def _nondeterministic_after():
    yield  # the recipe sets torch.use_deterministic_algorithms(True)
    torch.use_deterministic_algorithms(False)
