"""Opening videos in a disposable process: a file that crashes the decoder
(a segfault, an abort on a bad allocation) is one more broken video.

A few per cent of corrupt mp4 files crash decord while it opens them: the
process dies with SIGSEGV or SIGABRT, and with it a training run, a test or
a checking tool. :class:`DecoderGuard` opens each file first in a small
child process (``decoder_child.py``: Python, the decoder, nothing else),
once per file and process (the verdict is kept); a crash kills only the
child, which is started again for the next file.
"""
import json
import os
import os.path as osp
import select
import signal
import subprocess
import sys
from typing import Dict, Optional, Tuple

from .video_probe import VideoProbe

__all__ = ['DecoderGuard']

_DIED = 'the decoder died with'
_CHILD = osp.join(osp.dirname(osp.abspath(__file__)), 'decoder_child.py')


def _signal_name(returncode: Optional[int]) -> str:
    if returncode is not None and returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f'signal {-returncode}'
    return f'exit status {returncode}'


class DecoderGuard:
    """Asks a child process to open (or probe) videos.

    The child is started on first use, in the process that uses the guard
    (a dataset copied into DataLoader workers gets one child per worker);
    it is restarted after a crash, and a file it has not answered within
    ``timeout`` seconds counts as hanging the decoder.

    Args:
        timeout (float): Seconds one file may take. Defaults to 60.
        remember (bool): Keep the verdict of :meth:`open` per file.
            Defaults to True.
    """

    def __init__(self, timeout: float = 60., remember: bool = True):
        self.timeout = timeout
        self.remember = remember
        self._proc: Optional[subprocess.Popen] = None
        self._owner: Optional[int] = None
        self._verdicts: Dict[Tuple, VideoProbe] = {}

    def __getstate__(self):
        # a child process belongs to the process that started it
        return dict(self.__dict__, _proc=None, _owner=None)

    def open(self, path: str) -> VideoProbe:
        """What opening ``path`` as ``DecordInit`` does gives (no frames are
        decoded); remembered per file (path, size, modification time)."""
        try:
            stat = os.stat(path)
            key = (path, stat.st_size, stat.st_mtime_ns)
        except OSError:
            key = (path, None, None)
        if key not in self._verdicts:
            verdict = self._ask('open', path)
            if not self.remember:
                return verdict
            self._verdicts[key] = verdict
        return self._verdicts[key]

    def probe(self, path: str, min_frames: int = 1) -> VideoProbe:
        """:func:`~.video_probe.probe_video` (open, decode three frames) in
        the child."""
        return self._ask('probe', path, min_frames)

    def close(self) -> None:
        """Stop the child process."""
        if self._proc is not None and self._owner == os.getpid():
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def _child(self) -> subprocess.Popen:
        if self._owner != os.getpid():  # inherited through a fork: not ours
            self._proc = None
        if self._proc is None or self._proc.poll() is not None:
            env = dict(os.environ, OMP_NUM_THREADS='1')
            self._proc = subprocess.Popen(
                [sys.executable, '-u', _CHILD], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                text=True, bufsize=1)
            self._owner = os.getpid()
        return self._proc

    def _ask(self, op: str, path: str, min_frames: int = 1) -> VideoProbe:
        """The child's answer; a crash counts only when a fresh child
        crashes on the file too (a corrupt file can leave a long-lived
        decoder broken for the next one without crashing itself)."""
        fresh = self._owner != os.getpid() or self._proc is None \
            or self._proc.poll() is not None
        probe = self._request(op, path, min_frames)
        if probe.kind == 'decoder crash' and not fresh \
                and probe.detail.startswith(_DIED):
            probe = self._request(op, path, min_frames)
        return probe

    def _request(self, op: str, path: str, min_frames: int) -> VideoProbe:
        proc = self._child()
        request = dict(op=op, path=path, min_frames=min_frames)
        try:
            proc.stdin.write(json.dumps(request) + '\n')
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], self.timeout)
            line = proc.stdout.readline() if ready else None
        except (BrokenPipeError, OSError):
            line = ''
        if line:
            return VideoProbe(**json.loads(line))
        if line is None:  # no answer in time: the decoder hangs on it
            proc.kill()
            proc.wait()
            return VideoProbe(path, 0, 'decoder crash',
                              f'no answer in {self.timeout:.0f} s')
        proc.wait()
        return VideoProbe(
            path, 0, 'decoder crash',
            f'{_DIED} {_signal_name(proc.returncode)}')
