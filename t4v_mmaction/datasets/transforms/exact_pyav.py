"""Frame-exact video decoding with PyAV that decodes less than decord.

``ExactPyAVInit`` + ``ExactPyAVDecode`` replace ``DecordInit`` +
``DecordDecode`` (``mode='accurate'``) in a pipeline::

    dict(type='ExactPyAVInit'), dict(type='SegmentSampleFrames', ...),
    dict(type='ExactPyAVDecode'), ...

They give the same ``total_frames`` (so a sampler draws the same indices)
and the same frames for the same indices, bit for bit, where decord decodes
exactly (H.264, the codec of Kinetics and most datasets); where decord does
not (it returns wrong frames for some indices of HEVC and MPEG-4 streams
with B-frames), they give the frames of a full sequential decode. They are
faster because they do less (see :mod:`~t4v_mmaction.datasets.packet_index`).

Some corrupt files crash FFmpeg while it decodes them; by default
(``isolate=True``) the decoding runs in a disposable child process of each
DataLoader worker (:class:`~t4v_mmaction.datasets.decoder_guard.DecoderGuard`)
and a crash raises :class:`~t4v_mmaction.datasets.decoder_guard.DecoderCrash`
(``RobustVideoDataset`` skips or marks the video); the frames come back
through a pipe.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine.fileio import FileClient

from ..decoder_guard import DecoderGuard
from ..packet_index import PacketIndex

__all__ = ['ExactPyAVInit', 'ExactPyAVDecode']


class _ChildIndex:
    """The :class:`PacketIndex` of a video held by a guard's child."""

    def __init__(self, guard: DecoderGuard, num_frames: int,
                 avg_fps: float):
        self.guard = guard
        self.num_frames = num_frames
        self.avg_fps = avg_fps

    def __len__(self) -> int:
        return self.num_frames

    def frames(self, indices: Sequence[int]) -> List[np.ndarray]:
        return list(self.guard.frames(indices))

    def close(self) -> None:
        pass  # the child replaces its index with the next video's


@TRANSFORMS.register_module()
class ExactPyAVInit(BaseTransform):
    """Open a video as ``DecordInit`` does (the file's bytes, through
    mmengine's ``FileClient``) and index its packets for
    ``ExactPyAVDecode``.

    Required keys: ``filename``. Added keys: ``video_reader``,
    ``total_frames``, ``avg_fps``.

    Args:
        io_backend (str): ``FileClient`` backend. Defaults to ``'disk'``.
        num_threads (int): Decoder threads. Defaults to 1.
        isolate (bool): Decode in a disposable child process (a crash of
            the decoder is an error, not the end of the process). Defaults
            to True.
        **kwargs: More ``FileClient`` arguments.
    """

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1,
                 isolate: bool = True, **kwargs) -> None:
        self.io_backend = io_backend
        self.num_threads = num_threads
        self.isolate = isolate
        self.kwargs = kwargs
        self.file_client: Optional[FileClient] = None
        self.guard = DecoderGuard() if isolate else None

    def transform(self, results: Dict) -> Dict:
        filename = results['filename']
        if osp.splitext(filename)[0] == filename:
            filename = filename + '.mp4'  # as DecordInit
        if self.guard is not None and self.io_backend == 'disk':
            index = _ChildIndex(self.guard, *self.guard.index(
                path=filename, num_threads=self.num_threads))
        else:
            if self.file_client is None:
                self.file_client = FileClient(self.io_backend, **self.kwargs)
            data = self.file_client.get(filename)
            if self.guard is not None:
                index = _ChildIndex(self.guard, *self.guard.index(
                    data=data, num_threads=self.num_threads))
            else:
                index = PacketIndex(data, self.num_threads)
        results['video_reader'] = index
        results['total_frames'] = len(index)
        results['avg_fps'] = index.avg_fps
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(io_backend={self.io_backend}, '
                f'num_threads={self.num_threads}, isolate={self.isolate})')


@TRANSFORMS.register_module()
class ExactPyAVDecode(BaseTransform):
    """Decode ``frame_inds`` from ``ExactPyAVInit``'s index.

    Required keys: ``video_reader``, ``frame_inds``. Added keys: ``imgs``
    (list of ``(H, W, 3)`` uint8 RGB), ``original_shape``, ``img_shape``.
    """

    def transform(self, results: Dict) -> Dict:
        index = results['video_reader']
        if not isinstance(index, (PacketIndex, _ChildIndex)):
            raise TypeError('ExactPyAVDecode needs ExactPyAVInit before it, '
                            f'got a {type(index).__name__} video_reader')
        if results['frame_inds'].ndim != 1:
            results['frame_inds'] = np.squeeze(results['frame_inds'])
        try:
            imgs = index.frames(np.atleast_1d(results['frame_inds']))
        finally:
            index.close()
        results['video_reader'] = None
        results['imgs'] = imgs
        results['original_shape'] = imgs[0].shape[:2]
        results['img_shape'] = imgs[0].shape[:2]
        return results
