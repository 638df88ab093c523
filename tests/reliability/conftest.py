"""tests/reliability/ on sys.path for its helper modules (pytest runs with
``--import-mode=importlib``, which adds no test folder)."""
import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
