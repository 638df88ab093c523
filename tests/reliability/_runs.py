"""Starting ``tools/train.py`` / ``tools/dist_train.sh`` runs from tests:
the environment (this Python, tests/reliability importable for test-only
hooks, a free port) and a run stopped at an iteration the test chooses
(:mod:`_stop_point`) and killed there."""
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time
from typing import Dict, List, Sequence

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
DEADLINE_S = 600  # only a hang: every wait below ends on an event


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_env() -> Dict[str, str]:
    env = dict(os.environ)
    env['PYTHON'] = sys.executable
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PYTHONPATH'] = os.pathsep.join(
        [HERE, REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    env['PORT'] = str(free_port())
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    return env


def train_command(config: str, work_dir: str, options: Dict[str, object],
                  nproc: int = 1, extra: Sequence[str] = ()) -> List[str]:
    """``tools/train.py`` (one process) or ``tools/dist_train.sh``."""
    if nproc == 1:
        head = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config]
    else:
        head = ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config,
                str(nproc)]
    return head + ['--work-dir', str(work_dir), *extra, '--cfg-options'] + [
        f'{k}={v}' for k, v in options.items()]


def stop_config(base: str, path: str, iteration: int,
                ready_file: str) -> str:
    """Write a config: ``base`` that waits before ``iteration``."""
    hook = dict(type='StopAtIterationHook', iteration=iteration,
                ready_file=ready_file)
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                "custom_imports = dict(imports=['t4v_mmaction', "
                "'_stop_point'], allow_failed_imports=False)\n"
                f'custom_hooks = _base_.custom_hooks + [{hook!r}]\n')
    return path


def run(cmd: List[str], log_path: str) -> str:
    """Run to the end; the output, asserting success."""
    with open(log_path, 'w') as log:
        proc = subprocess.run(cmd, cwd=REPO, env=run_env(), stdout=log,
                              stderr=subprocess.STDOUT, timeout=DEADLINE_S)
    output = _read(log_path)
    assert proc.returncode == 0, _failure(output)
    return output


def _failure(output: str) -> str:
    """The lines that say why a run failed, then the end of its output."""
    import re
    why = [line for line in output.splitlines() if re.search(
        r'terminate called|what\(\)|Signal \d+|Error|Traceback', line)]
    return '\n'.join(why[:40]) + '\n...\n' + output[-3000:]


def run_and_kill(cmd: List[str], log_path: str, ready_file: str,
                 nproc: int = 1) -> str:
    """Start a run whose config holds a ``StopAtIterationHook``; once every
    rank waits at the stop, SIGKILL the whole process group (ranks,
    launcher and DataLoader workers)."""
    ready = [f'{ready_file}.rank{r}' for r in range(nproc)]
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=run_env(), stdout=log,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + DEADLINE_S
    try:
        while not all(osp.exists(p) for p in ready):
            assert proc.poll() is None, (
                'the run ended before its stop:\n' + _failure(
                    _read(log_path)))
            assert time.monotonic() < deadline, 'the run hangs'
            time.sleep(0.05)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    return _read(log_path)


def _read(path: str) -> str:
    with open(path, errors='replace') as f:
        return f.read()
