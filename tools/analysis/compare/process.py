"""The worker-process protocol: one JSON object per line each way.

The tool starts each worker as its own script in ``--worker`` mode
(:class:`WorkerProcess`); the worker serves commands on stdin
(:func:`serve`) and writes one reply per command to stdout, or
``{"error": traceback}``.

Commands (``op``): ``setup`` (``spec``: build the
:class:`compare.worker.Worker`; reply ``setup_s``, ``import_mib``),
``run`` (``setting``, ``n``: reply ``times``), ``reset_peak`` and
``memory`` (reply ``peak``, ``now`` in MiB), ``logits`` (``setting``,
optional ``clips``: reply ``logits``), ``notes``, ``quit``.
"""
import contextlib
import json
import os
import os.path as osp
import subprocess
import sys
import time
import traceback
from typing import Optional

from .settings import REPO
from .worker import Worker

# the script whose ``--worker`` mode runs :func:`serve`
SCRIPT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                  'compare_original.py')


def serve() -> None:
    """Serve JSON-line commands on stdin; replies go to the real stdout,
    everything else (the original's prints, logs) to stderr."""
    proto = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker = None
    for line in iter(sys.stdin.readline, ''):
        cmd = json.loads(line)
        try:
            op = cmd['op']
            if op == 'setup':
                start = time.perf_counter()
                worker = Worker(cmd['spec'])
                reply = dict(
                    setup_s=time.perf_counter() - start,
                    import_mib=worker.import_mib)
            elif op == 'run':
                reply = dict(times=worker.run(cmd['setting'], cmd.get('n', 1)))
            elif op == 'reset_peak':
                reply = worker.reset_peak()
            elif op == 'memory':
                reply = worker.memory()
            elif op == 'logits':
                reply = dict(
                    logits=worker.logits(cmd['setting'], cmd.get('clips')))
            elif op == 'notes':
                reply = dict(worker.notes)
            elif op == 'quit':
                break
            else:
                raise ValueError(f'unknown op {op!r}')
        except Exception:  # noqa: BLE001 - reported to the parent
            reply = dict(error=traceback.format_exc())
        proto.write(json.dumps(reply) + '\n')


class WorkerProcess:
    """A worker subprocess, driven by JSON-line commands.

    Args:
        name (str): The contender (for error messages).
        spec (dict): What the worker builds (see
            :class:`compare.worker.Worker`); ``cwd``: its working
            directory (default: this tree).
        log (str, optional): A file to append the worker's stderr to.
            Defaults to None: discarded.
    """

    def __init__(self, name: str, spec: dict, log: Optional[str] = None):
        self.name = name
        env = dict(os.environ, OMP_NUM_THREADS=str(spec['threads']),
                   MKL_NUM_THREADS=str(spec['threads']))
        self.log = open(log, 'a') if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, SCRIPT, '--worker'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, text=True, cwd=spec.get('cwd') or REPO, env=env)
        reply = self.call('setup', spec=spec)
        self.setup_s, self.import_mib = reply['setup_s'], reply['import_mib']

    def call(self, op: str, **kwargs) -> dict:
        """Send one command and wait for its reply.

        Raises:
            RuntimeError: The worker died or reported an error.
        """
        self.proc.stdin.write(json.dumps(dict(op=op, **kwargs)) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f'{self.name} worker died during {op!r} '
                               '(see --log)')
        reply = json.loads(line)
        if 'error' in reply:
            raise RuntimeError(f'{self.name} worker, {op!r}:\n'
                               f'{reply["error"]}')
        return reply

    def close(self) -> None:
        """Ask the worker to quit and wait for it."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.write(json.dumps(dict(op='quit')) + '\n')
            self.proc.stdin.flush()
        self.proc.wait(timeout=60)
        if self.log is not subprocess.DEVNULL:
            self.log.close()
