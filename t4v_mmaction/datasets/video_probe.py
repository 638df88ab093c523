"""Find out whether a video file can be read, and if not, why.

Used by ``tools/check_videos.py`` and by
:class:`~t4v_mmaction.datasets.RobustVideoDataset` to describe failures,
through :class:`~.decoder_guard.DecoderGuard`, which runs these functions in
a disposable process (a file can crash the decoder). Imports only the
standard library (and decord, when called).
"""
import io
import os.path as osp
import re
from typing import NamedTuple, Optional

__all__ = ['VideoProbe', 'open_video', 'probe_video', 'describe_error']

# decord prefixes its messages with "[hh:mm:ss] /src/file.cc:123: ".
_DECORD_PREFIX = re.compile(r'^\[[\d:]+\] \S+:\d+: (Error: )?')


class VideoProbe(NamedTuple):
    """What :func:`probe_video` found.

    Attributes:
        path (str): The file.
        num_frames (int): Frames decord reports; 0 when it cannot open it.
        kind (str, optional): None for a good video, else ``'missing'``,
            ``'not a file'``, ``'empty'``, ``'unreadable'``, ``'too few
            frames'``, ``'undecodable'`` or, from
            :class:`~.decoder_guard.DecoderGuard`, ``'decoder crash'``.
        detail (str): Why, e.g. the decoder's message. Defaults to ''.
    """
    path: str
    num_frames: int
    kind: Optional[str] = None
    detail: str = ''

    @property
    def problem(self) -> Optional[str]:
        """str | None: ``kind`` and ``detail`` in one line."""
        if self.kind is None:
            return None
        return f'{self.kind} ({self.detail})' if self.detail else self.kind


def describe_error(err: BaseException, limit: int = 160) -> str:
    """One short line for an exception: ``'Type: first line of message'``.

    Args:
        err (BaseException): The exception.
        limit (int): Maximum length of the message part. Defaults to 160.

    Returns:
        str: E.g. ``'DECORDError: av_read_frame failed with 1094995529'``.
    """
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = _DECORD_PREFIX.sub('', lines[0]) if lines else ''
    if len(text) > limit:
        text = text[:limit - 3] + '...'
    return f'{type(err).__name__}: {text}' if text else type(err).__name__


def _file_problem(path: str) -> Optional[VideoProbe]:
    if not osp.exists(path):
        return VideoProbe(path, 0, 'missing')
    if not osp.isfile(path):
        return VideoProbe(path, 0, 'not a file')
    if osp.getsize(path) == 0:
        return VideoProbe(path, 0, 'empty', '0 bytes')
    return None


def _reader(path: str):
    """A decord reader opened as ``DecordInit`` opens one: from the file's
    bytes in memory. (Opened by path, decord goes another way: some corrupt
    files that crash it in memory only raise an error by path.)"""
    import decord
    with open(path, 'rb') as f:
        return decord.VideoReader(io.BytesIO(f.read()), num_threads=1)


def open_video(path: str) -> VideoProbe:
    """Open a video with decord (as ``DecordInit`` does) and count its
    frames; no frame is decoded."""
    problem = _file_problem(path)
    if problem is not None:
        return problem
    try:
        return VideoProbe(path, len(_reader(path)))
    except Exception as err:  # decord raises DECORDError and RuntimeError
        return VideoProbe(path, 0, 'unreadable', describe_error(err))


def probe_video(path: str, min_frames: int = 1) -> VideoProbe:
    """Open a video as ``DecordInit`` does and decode its first, middle and
    last frame.

    Args:
        path (str): The video file.
        min_frames (int): Fewer frames count as a problem. Defaults to 1.

    Returns:
        VideoProbe: The frame count and the problem, if any: missing, empty
        (0 bytes), unreadable (not a video, or cut before its index), too
        few frames, or undecodable frames (cut after its index).
    """
    problem = _file_problem(path)
    if problem is not None:
        return problem
    try:
        reader = _reader(path)
        num_frames = len(reader)
    except Exception as err:  # decord raises DECORDError and RuntimeError
        return VideoProbe(path, 0, 'unreadable', describe_error(err))
    if num_frames < max(min_frames, 1):
        return VideoProbe(path, num_frames, 'too few frames',
                          f'{num_frames} < {max(min_frames, 1)}')
    try:
        reader.get_batch(sorted({0, num_frames // 2,
                                 num_frames - 1})).asnumpy()
    except Exception as err:
        return VideoProbe(path, num_frames, 'undecodable',
                          describe_error(err))
    return VideoProbe(path, num_frames)
