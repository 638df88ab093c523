"""Test-only hook: a training run that stops at an iteration the test
chooses, so a test can kill it at a known point (no race with a log line).

Every rank writes ``{ready_file}.rank{r}`` before the iteration and then
waits (sleeping) until it is killed. Imported through ``custom_imports`` by
the test's config, with tests/reliability on PYTHONPATH.
"""
import time

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmaction.registry import HOOKS


@HOOKS.register_module()
class StopAtIterationHook(Hook):
    """Wait for the kill before training iteration ``iteration`` (0-based,
    counted over the run)."""
    priority = 'LOWEST'  # after every other hook's before_train_iter

    def __init__(self, iteration: int, ready_file: str) -> None:
        self.iteration = iteration
        self.ready_file = ready_file

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter != self.iteration:
            return
        with open(f'{self.ready_file}.rank{get_rank()}', 'w') as f:
            f.write(str(runner.iter))
        while True:
            time.sleep(1)
