"""Videos encoded with PyAV's codecs (libx264 with B-frames and long or
open GOPs, libx265, ...), for decoder tests.

Usage::

    from _encoded_videos import write_video
    path = write_video(tmp_path / 'v.mp4', 'libx264', bframes=3, gop=250)
"""
import os.path as osp

import numpy as np


def frames(count: int, size=(64, 48), seed: int = 0) -> np.ndarray:
    """Moving squares over a smooth, noisy background, a scene cut in the
    middle (a key frame where the encoder decides). ``(T, H, W, 3)`` uint8
    RGB."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    out = np.empty((count, height, width, 3), np.uint8)
    for t in range(count):
        scene = t >= count // 2
        base = np.stack([(x * 3 + t * 2) % 256, (y * 4 + 128 * scene) % 256,
                         np.full_like(x, 90 + 100 * scene)], -1)
        frame = base + rng.normal(0, 6, base.shape)
        s = max(height // 4, 2)
        cx, cy = (5 + 2 * t) % (width - s), (3 + t) % (height - s)
        frame[cy:cy + s, cx:cx + s] = (255, 255 * (t % 2), 0)
        out[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return out


def write_video(path, codec: str = 'libx264', count: int = 90,
                size=(64, 48), fps: int = 25, bframes: int = 3,
                gop: int = 250, pix_fmt: str = 'yuv420p',
                options: dict = None, seed: int = 0) -> str:
    """Encode :func:`frames` with PyAV; the path."""
    import av
    path = str(path)
    options = dict(options or {})
    with av.open(path, 'w') as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        stream.codec_context.gop_size = gop
        stream.codec_context.max_b_frames = bframes
        if codec == 'libx264':
            options.setdefault('crf', '23')
        if codec == 'libx265':
            options.setdefault('x265-params',
                               f'log-level=error:bframes={bframes}')
        stream.options = options
        for image in frames(count, size, seed):
            frame = av.VideoFrame.from_ndarray(image, format='rgb24')
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    assert osp.getsize(path) > 0
    return path
