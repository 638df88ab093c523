"""A config's test pipeline applied to a video file or to decoded frames."""
import os
import os.path as osp
from typing import List, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from t4v_mmaction.datasets.pipeline_steps import (array_pipeline_cfg,
                                                  run_on_black_video)

__all__ = [
    'get_test_pipeline', 'array_pipeline_cfg', 'pipeline_inputs',
    'get_input_shape'
]

VideoType = Union[str, os.PathLike, np.ndarray, torch.Tensor, Sequence]
#: The keys a test pipeline needs besides the video.
_UNLABELLED = dict(label=-1, start_index=0, modality='RGB')


def get_test_pipeline(cfg: Config) -> List[dict]:
    """The config's ``test_pipeline``, else its test dataloader's pipeline.

    Raises:
        ValueError: If the config has neither.
    """
    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        pipeline = cfg.get('test_dataloader', {}).get('dataset',
                                                      {}).get('pipeline')
    if not pipeline:
        raise ValueError(
            f'{cfg.filename or "the config"} has no test_pipeline (nor a '
            'test_dataloader.dataset.pipeline) to prepare videos with')
    return list(pipeline)


def _as_frames(frames) -> np.ndarray:
    """RGB frames as one ``(T, H, W, 3)`` uint8 array."""
    if isinstance(frames, torch.Tensor):
        frames = frames.detach().cpu().numpy()
    if not isinstance(frames, np.ndarray):
        frames = list(frames)
        shapes = {np.shape(f) for f in frames}
        if len(shapes) > 1:
            raise ValueError('all frames must have the same shape, got '
                             f'{sorted(shapes)}')
        frames = np.stack(frames) if frames else np.zeros((0, ))
    if frames.ndim != 4 or frames.shape[-1] != 3 or 0 in frames.shape:
        raise ValueError('frames must be RGB images shaped (T, H, W, 3) with '
                         f'T, H, W >= 1, got shape {list(frames.shape)}')
    if frames.dtype != np.uint8:
        raise ValueError(
            f'frames must be uint8 RGB (0..255), got dtype {frames.dtype}')
    return frames


def pipeline_inputs(video: VideoType) -> Tuple[dict, bool]:
    """The input dict of a test pipeline for a file or for frames.

    Args:
        video (str | os.PathLike | np.ndarray | torch.Tensor | list): A video
            file, or RGB frames ``(T, H, W, 3)`` uint8 (an array, a tensor or
            a list of ``(H, W, 3)`` frames).

    Returns:
        tuple[dict, bool]: The input dict and whether it holds frames (it
        then needs :func:`array_pipeline_cfg`).

    Raises:
        FileNotFoundError: If a video path does not exist.
        ValueError: If frames are not ``(T, H, W, 3)`` uint8.
    """
    if isinstance(video, (str, os.PathLike)):
        path = os.fspath(video)
        if not osp.isfile(path):
            raise FileNotFoundError(f'video file not found: {path}')
        return dict(filename=path, **_UNLABELLED), False
    frames = _as_frames(video)
    return dict(array=frames, total_frames=len(frames), **_UNLABELLED), True


def get_input_shape(cfg: Config,
                    frame_size: Tuple[int, int] = (256, 340),
                    num_frames: int = 64) -> Tuple[int, ...]:
    """The model input shape the config's test pipeline produces.

    Runs the pipeline (decoding from memory) on a synthetic black video, so
    every sampler, crop and ``FormatShape`` is accounted for.

    Args:
        cfg (Config): A config with a test pipeline.
        frame_size (tuple[int, int]): ``(H, W)`` of the synthetic video.
            Defaults to ``(256, 340)`` (Kinetics' short side 256).
        num_frames (int): Its length. Defaults to 64.

    Returns:
        tuple[int, ...]: One video's input, ``(V, 3, T, S, S)`` for
        ``NCTHW`` (V views = clips x crops).
    """
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    data = run_on_black_video(get_test_pipeline(cfg), _UNLABELLED,
                              frame_size, num_frames)
    return tuple(data['inputs'].shape)
