"""Paths the tests share: the repository, the tests folder, ../shared."""
import os.path as osp

TESTS_DIR = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(TESTS_DIR)
CONFIGS = osp.join(REPO, 'configs')
TOOLS = osp.join(REPO, 'tools')
SHARED_DATA = osp.abspath(osp.join(REPO, '..', 'shared', 'data'))
