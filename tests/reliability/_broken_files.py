"""Broken video files of every kind, for the reliability tests.

``write_broken_videos(root)`` writes next to the good videos of
``make_tiny_videos``: an empty file, an mp4 cut before its index (OpenCV
writes the index, ``moov``, at the end), an mp4 with the index first cut in
the middle of its frames, a text file named ``.mp4``, a one-frame and a
three-frame video; one more name is never written (missing).
"""
import os
import os.path as osp
import struct
from typing import Dict

import cv2
import numpy as np

#: name -> what tools/check_videos.py reports (None: a readable video)
KINDS = {
    'missing.mp4': 'missing',
    'empty.mp4': 'empty',
    'cut_before_index.mp4': 'unreadable',
    'cut_after_index.mp4': 'unreadable',
    'not_a_video.mp4': 'unreadable',
    'one_frame.mp4': None,
    'three_frames.mp4': None,
}
BROKEN = [name for name, kind in KINDS.items() if kind is not None]


def _atoms(data: bytes) -> Dict[str, tuple]:
    """Top-level mp4 boxes: ``{type: (offset, size)}``."""
    boxes, pos = {}, 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack('>I4s', data[pos:pos + 8])
        boxes[kind.decode('latin1')] = (pos, size)
        pos += size
    return boxes


def index_first(data: bytes) -> bytes:
    """Move the ``moov`` box before ``mdat`` (as ``qt-faststart`` does)."""
    boxes = _atoms(data)
    moov_at, moov_size = boxes['moov']
    mdat_at, _ = boxes['mdat']
    moov = bytearray(data[moov_at:moov_at + moov_size])
    pos = moov.find(b'stco')
    while pos >= 0:  # chunk offsets move by the size of moov
        count = struct.unpack('>I', moov[pos + 8:pos + 12])[0]
        for k in range(count):
            at = pos + 12 + 4 * k
            offset = struct.unpack('>I', moov[at:at + 4])[0]
            moov[at:at + 4] = struct.pack('>I', offset + moov_size)
        pos = moov.find(b'stco', pos + 4)
    return (data[:mdat_at] + bytes(moov) + data[mdat_at:moov_at] +
            data[moov_at + moov_size:])


def _write_frames(path: str, count: int) -> None:
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 8,
                             (32, 32))
    rng = np.random.default_rng(count)
    for _ in range(count):
        writer.write(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    writer.release()


def write_broken_videos(root: str, good: str) -> Dict[str, str]:
    """Write the broken files under ``root/broken``.

    Args:
        root (str): Dataset root.
        good (str): A readable mp4 (relative to ``root``) to cut.

    Returns:
        dict[str, str]: ``{name: path relative to root}`` for every name of
        :data:`KINDS`.
    """
    folder = osp.join(root, 'broken')
    os.makedirs(folder, exist_ok=True)
    with open(osp.join(root, good), 'rb') as f:
        data = f.read()
    first = index_first(data)
    contents = {
        'empty.mp4': b'',
        'cut_before_index.mp4': data[:len(data) // 2],
        'cut_after_index.mp4': first[:int(len(first) * 0.6)],
        'not_a_video.mp4': b'this is not a video\n' * 20,
    }
    for name, content in contents.items():
        with open(osp.join(folder, name), 'wb') as f:
            f.write(content)
    _write_frames(osp.join(folder, 'one_frame.mp4'), 1)
    _write_frames(osp.join(folder, 'three_frames.mp4'), 3)
    return {name: f'broken/{name}' for name in KINDS}
