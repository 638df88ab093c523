"""A video stream's packets in memory, numbered as decord numbers frames,
and a decoder that decodes as little as it can to give frame ``i`` exactly.

* The packets are read once; frame ``i`` is the ``i``-th packet in
  presentation (pts) order, as decord numbers frames.
* Decoding of a target starts at the last key frame at or before it, unless
  the decoder is already between the two (no decoding through earlier GOPs).
* On the way, packets that no target needs are decoded with
  ``skip_frame='NONREF'``: frames that no other frame references are not
  decoded at all.
* Only the target frames are converted to RGB.

A stream whose packets do not number its frames (a packet without a pts,
two with the same pts, key frames out of order) is decoded by decord
instead, so the frames stay decord's.

Imports only the standard library, NumPy and (when used) PyAV / decord: the
disposable decoding process (``decoder_child.py``) loads this file by path.
"""
import bisect
import io
from typing import Dict, List, Sequence

import numpy as np

__all__ = ['PacketIndex']


class PacketIndex:
    """A video stream's packets in memory, numbered as decord numbers its
    frames, and the decoder that turns numbers into frames.

    Args:
        data (bytes): The file's bytes.
        num_threads (int): Decoder threads (1: one worker, one core).
    """

    def __init__(self, data: bytes, num_threads: int = 1):
        import av
        self._container = av.open(io.BytesIO(data))
        if not self._container.streams.video:
            self._container.close()
            raise ValueError('the file has no video stream')
        stream = self._container.streams.video[0]
        if num_threads == 1:
            stream.thread_type = 'NONE'
        stream.codec_context.thread_count = num_threads
        self._codec = stream.codec_context
        self.avg_fps = float(stream.average_rate) if stream.average_rate \
            else float(stream.guessed_rate or 0)
        # decode order; empty packets only flush
        self._packets = [p for p in self._container.demux(stream) if p.size]
        pts = [p.pts for p in self._packets]
        self.numbered = None not in pts and len(set(pts)) == len(pts)
        self._data = None if self.numbered else data
        if not self.numbered:
            return
        self._pts = sorted(pts)  # frame number -> pts
        self._keys = [i for i, p in enumerate(self._packets) if p.is_keyframe]
        # pts of each key packet, in decode order (non-decreasing for mp4)
        self._key_pts = [self._packets[i].pts for i in self._keys]
        if not self._keys or self._key_pts != sorted(self._key_pts):
            self.numbered, self._data = False, data  # let decord number them

    def __len__(self) -> int:
        return len(self._packets)

    def frames(self, indices: Sequence[int]) -> List[np.ndarray]:
        """RGB frames ``(H, W, 3)`` uint8 of the frame numbers, in the given
        order (repeats allowed)."""
        indices = [int(i) for i in indices]
        bad = [i for i in indices if not 0 <= i < len(self)]
        if bad:
            raise IndexError(f'frame indices {bad[:5]} out of range for '
                             f'{len(self)} frames')
        if not self.numbered:
            return self._decord_frames(indices)
        wanted = {self._pts[i] for i in indices}
        decoded: Dict[int, np.ndarray] = {}
        position = None  # next packet to send, in decode order
        for target in sorted(wanted):
            if target in decoded:
                continue
            key = self._key_packet(target)
            if position is None or key > position:
                if position is not None:
                    self._codec.flush_buffers()
                position = key
            position = self._decode_until(target, position, wanted, decoded)
        return [decoded[self._pts[i]] for i in indices]

    def _key_packet(self, target_pts: int) -> int:
        """Decode-order index of the last key packet with pts <= target."""
        k = bisect.bisect_right(self._key_pts, target_pts) - 1
        return self._keys[max(k, 0)]

    def _decode_until(self, target: int, position: int, wanted: set,
                      decoded: Dict[int, np.ndarray]) -> int:
        flushed = False
        while target not in decoded:
            if position < len(self._packets):
                packet = self._packets[position]
                position += 1
                self._codec.skip_frame = 'DEFAULT' if packet.pts in wanted \
                    else 'NONREF'
                frames = self._codec.decode(packet)
            elif not flushed:  # the decoder's delayed frames
                self._codec.skip_frame = 'DEFAULT'
                frames = self._codec.decode(None)
                flushed = True
            else:
                raise RuntimeError(
                    f'the decoder gave no frame with pts {target}')
            for frame in frames:
                if frame.pts in wanted and frame.pts not in decoded:
                    decoded[frame.pts] = frame.to_ndarray(format='rgb24')
        return position

    def _decord_frames(self, indices: List[int]) -> List[np.ndarray]:
        import decord
        reader = decord.VideoReader(io.BytesIO(self._data), num_threads=1)
        return list(reader.get_batch(indices).asnumpy())

    def close(self) -> None:
        self._container.close()
