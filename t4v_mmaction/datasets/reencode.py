"""Training copies of videos: re-encoded once at the recipe's resolution
with short key-frame intervals, so that frame-exact decoding of a few
sampled frames decodes little (see ``tools/data/reencode_videos.py``).

Every frame of the source is kept, in order (a sampler draws the same frame
indices from the copy), scaled so that its short side is ``short_side``
(never up), encoded with libx264 (``crf``, ``preset``) with a key frame
every ``gop`` frames and no scene-cut key frames.
"""
import os
import os.path as osp
from fractions import Fraction
from typing import Dict, List, Optional, Tuple

import numpy as np

__all__ = ['copy_size', 'reencode_video', 'copies_summary']


def copy_size(width: int, height: int,
              short_side: Optional[int]) -> Tuple[int, int]:
    """The copy's ``(width, height)``: the short side ``short_side`` (never
    larger than the source), both sides even (yuv420p)."""
    scale = 1.0 if not short_side else min(1.0, short_side / min(width,
                                                                 height))
    return (max(2, int(round(width * scale / 2)) * 2),
            max(2, int(round(height * scale / 2)) * 2))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64))**2))
    return float('inf') if mse == 0 else 10 * np.log10(255.0**2 / mse)


def reencode_video(src: str,
                   dst: str,
                   short_side: Optional[int] = 256,
                   gop: int = 8,
                   crf: int = 18,
                   preset: str = 'veryfast',
                   psnr_every: int = 10) -> Dict[str, object]:
    """Write the training copy of ``src`` to ``dst`` (overwritten).

    Args:
        src (str): Source video.
        dst (str): Output mp4.
        short_side (int, optional): Short side of the copy; None keeps the
            size. Defaults to 256.
        gop (int): Frames per key frame (1: every frame). Defaults to 8.
        crf (int): libx264 quality (lower is better). Defaults to 18.
        preset (str): libx264 speed preset. Defaults to ``'veryfast'``.
        psnr_every (int): Compare every n-th frame of the copy with the
            source frame scaled the same way. Defaults to 10.

    Returns:
        dict: ``frames``, ``size`` (w, h), ``src_bytes``, ``dst_bytes`` and
        ``psnr`` (dB, mean over the compared frames) of the copy.

    Raises:
        RuntimeError: The copy does not hold as many frames as the source.
    """
    import av
    references: Dict[int, np.ndarray] = {}
    with av.open(src) as source:
        stream = source.streams.video[0]
        stream.thread_type = 'AUTO'
        width, height = copy_size(stream.codec_context.width,
                                  stream.codec_context.height, short_side)
        rate = Fraction(stream.average_rate or stream.guessed_rate or 25)
        with av.open(dst, 'w', format='mp4') as out:
            video = out.add_stream('libx264', rate=rate)
            video.width, video.height, video.pix_fmt = width, height, \
                'yuv420p'
            video.codec_context.time_base = 1 / rate
            video.options = {
                'crf': str(crf), 'preset': preset,
                'x264-params': f'keyint={gop}:min-keyint={gop}:scenecut=0'
            }
            count = 0
            for frame in source.decode(stream):
                scaled = frame.reformat(width, height, format='yuv420p',
                                        interpolation='AREA')
                scaled.pts, scaled.time_base = count, 1 / rate
                # the source's I frames would force key frames off the grid
                scaled.pict_type = av.video.frame.PictureType.NONE
                if count % psnr_every == 0:
                    references[count] = scaled.to_ndarray(format='rgb24')
                for packet in video.encode(scaled):
                    out.mux(packet)
                count += 1
            for packet in video.encode(None):
                out.mux(packet)
    psnr: List[float] = []
    written = 0
    with av.open(dst) as copy:
        for i, frame in enumerate(copy.decode(video=0)):
            if i in references:
                psnr.append(_psnr(frame.to_ndarray(format='rgb24'),
                                  references[i]))
            written += 1
    if written != count:
        raise RuntimeError(f'{dst}: the copy holds {written} frames, the '
                           f'source {count}')
    return dict(frames=count, size=[width, height],
                src_bytes=os.path.getsize(src),
                dst_bytes=osp.getsize(dst),
                psnr=float(np.mean(psnr)) if psnr else None)


def copies_summary(records: List[dict]) -> dict:
    """What :func:`reencode_video` records of several copies add up to:
    ``size_ratio`` (the copies' bytes over the sources'), ``psnr_mean``,
    ``psnr_min`` (None where nothing was measured)."""
    src = sum(r['src_bytes'] for r in records)
    psnr = [r['psnr'] for r in records if r.get('psnr') is not None]
    return dict(
        size_ratio=sum(r['dst_bytes'] for r in records) / src if src else
        None,
        psnr_mean=sum(psnr) / len(psnr) if psnr else None,
        psnr_min=min(psnr) if psnr else None)
