"""Tiny synthetic videos and an mmaction2 annotation list, for tests.

Usage::

    from _tiny_video_data import make_tiny_videos
    ann_file = make_tiny_videos(tmp_path)
    # VideoDataset(ann_file=ann_file, data_prefix=dict(video=str(tmp_path)))
"""
import os
import os.path as osp
from typing import Tuple

import cv2
import numpy as np

ANN_FILE_NAME = 'annotations.txt'


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be a positive int, got {value!r}')


def _frames(label: int, num_classes: int, num_frames: int,
            size: Tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Frames of one video: a class-coloured background with a moving square.

    Returns:
        np.ndarray: uint8 BGR frames, shape (num_frames, H, W, 3).
    """
    width, height = size
    level = int(255 * label / max(num_classes - 1, 1))
    background = np.array([level, 64, 255 - level], dtype=np.float32)
    frames = np.empty((num_frames, height, width, 3), dtype=np.uint8)
    side = max(min(width, height) // 4, 1)
    x0 = rng.integers(0, width - side + 1)
    y0 = rng.integers(0, height - side + 1)
    for t in range(num_frames):
        frame = background + rng.normal(0, 8, (height, width, 3))
        x = (x0 + 2 * t) % (width - side + 1)
        y = (y0 + t) % (height - side + 1)
        frame[y:y + side, x:x + side] = 255
        frames[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return frames


def make_tiny_videos(root: str,
                     num_videos: int = 8,
                     num_classes: int = 2,
                     num_frames: int = 16,
                     size: Tuple[int, int] = (32, 32),
                     seed: int = 0) -> str:
    """Write tiny mp4 videos and an mmaction2 ``VideoDataset`` list.

    Video ``i`` has label ``i % num_classes`` and lives at
    ``root/class_{label}/video_{i:03d}.mp4``; its background colour depends
    on the label, so a model can learn the classes. The annotation file has
    one ``relpath label`` line per video, paths relative to ``root`` (use
    ``data_prefix=dict(video=root)``).

    Args:
        root (str): Directory to write into; created if missing.
        num_videos (int): Number of videos. Defaults to 8.
        num_classes (int): Number of classes. Defaults to 2.
        num_frames (int): Frames per video. Defaults to 16.
        size (tuple[int, int]): Frame size as (width, height), both even.
            Defaults to (32, 32).
        seed (int): Seed of the frame noise and square positions.
            Defaults to 0.

    Returns:
        str: Path of the annotation file, ``root/annotations.txt``.
    """
    _check_positive(
        num_videos=num_videos, num_classes=num_classes, num_frames=num_frames)
    if len(size) != 2 or any(s < 2 or s % 2 for s in size):
        raise ValueError(f'size must be (width, height) with even sides >= 2 '
                         f'(mp4v needs them), got {size!r}')
    root = str(root)
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(num_videos):
        label = i % num_classes
        relpath = f'class_{label}/video_{i:03d}.mp4'
        path = osp.join(root, relpath)
        os.makedirs(osp.dirname(path), exist_ok=True)
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 8,
                                 tuple(size))
        if not writer.isOpened():
            raise RuntimeError(f'OpenCV cannot write mp4v video {path!r}')
        for frame in _frames(label, num_classes, num_frames, size, rng):
            writer.write(frame)
        writer.release()
        lines.append(f'{relpath} {label}\n')
    ann_file = osp.join(root, ANN_FILE_NAME)
    with open(ann_file, 'w', encoding='utf-8') as f:
        f.writelines(lines)
    return ann_file
