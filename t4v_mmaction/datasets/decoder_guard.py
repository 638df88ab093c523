"""Decoding in a disposable process: a file that crashes the decoder (a
segfault, an abort on a bad allocation) is one more broken video.

A few per cent of corrupt mp4 files crash decord while it opens them, and
some crash PyAV (FFmpeg) while it decodes them: the process dies with
SIGSEGV or SIGABRT, and with it a training run, a test or a checking tool.
:class:`DecoderGuard` does the risky part in a small child process
(``decoder_child.py``: Python, NumPy, the decoders, nothing else); a crash
kills only the child, which is started again for the next file:

* :meth:`~DecoderGuard.open` / :meth:`~DecoderGuard.probe`: what decord
  makes of a file, before ``DecordInit`` opens it in this process (the
  caller keeps the verdict: ``RobustVideoDataset`` once per file and run);
* :meth:`~DecoderGuard.index` / :meth:`~DecoderGuard.frames`: the whole
  decoding of ``ExactPyAVInit`` / ``ExactPyAVDecode`` (frames come back
  through a pipe).
"""
import json
import os
import os.path as osp
import select
import signal
import subprocess
import sys
from typing import Optional, Sequence, Tuple

import numpy as np

from .decoder_child import HEADER, write_message
from .video_probe import VideoProbe

__all__ = ['DecoderCrash', 'DecoderGuard']

_DIED = 'the decoder died with'
_CHILD = osp.join(osp.dirname(osp.abspath(__file__)), 'decoder_child.py')


class DecoderCrash(RuntimeError):
    """The decoder died (or hung) on a file: ``decoder crash (DETAIL)``."""

    def __init__(self, detail: str):
        super().__init__(f'decoder crash ({detail})')
        self.detail = detail


def _signal_name(returncode: Optional[int]) -> str:
    if returncode is not None and returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f'signal {-returncode}'
    return f'exit status {returncode}'


def _widen_pipe(stream) -> None:
    """A 1 MiB pipe buffer (Linux; the default 64 KiB makes a clip of frames
    cross in dozens of hand-overs)."""
    try:
        import fcntl
        fcntl.fcntl(stream.fileno(), getattr(fcntl, 'F_SETPIPE_SZ', 1031),
                    1 << 20)
    except (ImportError, OSError):
        pass


def _read_exactly(stream, size: int) -> bytearray:
    buffer = bytearray(size)
    view, done = memoryview(buffer), 0
    while done < size:
        count = stream.readinto(view[done:])
        if not count:
            raise OSError('the decoder process closed its output')
        done += count
    return buffer


class DecoderGuard:
    """A child process that opens, probes or decodes videos.

    The child is started on first use, in the process that uses the guard
    (a dataset or a transform copied into DataLoader workers gets one child
    per worker); it is restarted after a crash, and a request it has not
    answered within ``timeout`` seconds counts as hanging the decoder.

    Args:
        timeout (float): Seconds one request may take. Defaults to 60.
    """

    def __init__(self, timeout: float = 60.):
        self.timeout = timeout
        self._proc: Optional[subprocess.Popen] = None
        self._owner: Optional[int] = None

    def __getstate__(self):
        # a child process belongs to the process that started it
        return dict(self.__dict__, _proc=None, _owner=None)

    # ------------------------------------------------- decord verdicts
    def open(self, path: str) -> VideoProbe:
        """What opening ``path`` as ``DecordInit`` does gives (no frames are
        decoded)."""
        return self._probe('open', path)

    def probe(self, path: str, min_frames: int = 1) -> VideoProbe:
        """:func:`~.video_probe.probe_video` (open, decode three frames) in
        the child."""
        return self._probe('probe', path, min_frames)

    def _probe(self, op: str, path: str, min_frames: int = 1) -> VideoProbe:
        """The child's verdict; a crash counts only when a fresh child
        crashes on the file too (a corrupt file can leave a long-lived
        decoder broken for the next one without crashing itself)."""
        request = dict(op=op, path=path, min_frames=min_frames)
        for attempt in range(2):
            fresh = not self._running()
            try:
                reply, _ = self._request(request)
            except DecoderCrash as crash:
                if fresh or attempt or not crash.detail.startswith(_DIED):
                    return VideoProbe(path, 0, 'decoder crash', crash.detail)
                continue
            return VideoProbe(**reply)

    # -------------------------------------------------- PyAV decoding
    def index(self, path: Optional[str] = None, data: Optional[bytes] = None,
              num_threads: int = 1) -> Tuple[int, float]:
        """Index a video (``path``, or its bytes ``data``) in the child for
        :meth:`frames`; ``(num_frames, avg_fps)``.

        Raises:
            DecoderCrash: The decoder died on it.
            RuntimeError: The decoder's error (``'Type: message'``).
        """
        reply, _ = self._checked(
            dict(op='index', path=path, num_threads=num_threads),
            data or b'')
        return int(reply['num_frames']), float(reply['avg_fps'])

    def frames(self, indices: Sequence[int]) -> np.ndarray:
        """Frames ``(N, H, W, 3)`` uint8 RGB of the indexed video."""
        reply, payload = self._checked(
            dict(op='frames', indices=[int(i) for i in indices]))
        return np.frombuffer(payload, np.uint8).reshape(reply['shape'])

    def _checked(self, request: dict, payload: bytes = b''):
        reply, data = self._request(request, payload)
        if 'error' in reply:
            raise RuntimeError(reply['error'])
        return reply, data

    # -------------------------------------------------------- process
    def close(self) -> None:
        """Stop the child process."""
        if self._proc is not None and self._owner == os.getpid():
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def _running(self) -> bool:
        return self._owner == os.getpid() and self._proc is not None \
            and self._proc.poll() is None

    def _child(self) -> subprocess.Popen:
        if not self._running():
            env = dict(os.environ, OMP_NUM_THREADS='1')
            self._proc = subprocess.Popen(
                [sys.executable, '-u', _CHILD], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            self._owner = os.getpid()
            _widen_pipe(self._proc.stdout)
        return self._proc

    def _request(self, request: dict, payload: bytes = b''):
        """``(reply, payload)``; :class:`DecoderCrash` if the child dies or
        does not answer in time."""
        proc = self._child()
        try:
            write_message(proc.stdin, request, payload)
            ready, _, _ = select.select([proc.stdout], [], [], self.timeout)
            head = proc.stdout.read(HEADER.size) if ready else None
            if head is not None and len(head) == HEADER.size:
                size, payload_size = HEADER.unpack(head)
                reply = json.loads(proc.stdout.read(size))
                return reply, _read_exactly(proc.stdout, payload_size)
        except (BrokenPipeError, OSError, ValueError):
            head = b''
        if head is None:  # no answer in time: the decoder hangs on it
            proc.kill()
            proc.wait()
            raise DecoderCrash(f'no answer in {self.timeout:.0f} s')
        try:  # the reply broke off: the child is dying, or talks nonsense
            proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise DecoderCrash('a malformed answer') from None
        raise DecoderCrash(f'{_DIED} {_signal_name(proc.returncode)}')
