"""Shared test set-up: tests/ on sys.path for helper modules, the shared
reference data (skipped when absent), and the plugin registered."""
import os.path as osp
import sys

import pytest

TESTS_DIR = osp.dirname(osp.abspath(__file__))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

import t4v_mmaction  # noqa: E402,F401  (registers components, applies fixes)
from mmaction.utils import register_all_modules  # noqa: E402

register_all_modules()  # default scope 'mmaction', as mmaction2's tests

SHARED_DATA = osp.abspath(osp.join(TESTS_DIR, '..', '..', 'shared', 'data'))


@pytest.fixture
def shared_data():
    """Path of ../shared/data; skips the test when it is absent."""
    if not osp.isdir(SHARED_DATA):
        pytest.skip('../shared/data is not available')
    return SHARED_DATA
