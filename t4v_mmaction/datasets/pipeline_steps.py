"""Pipeline steps by role: the steps that open a video file, and those that
decode its frames; a pipeline rewritten for frames held in memory, and run
on a synthetic video to learn the shape of what it produces."""
from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = ['INIT_STEPS', 'DECODE_STEPS', 'step_name', 'array_pipeline_cfg',
           'array_pipeline', 'run_on_black_video']

# Steps that open a video file, and steps that decode its frames.
INIT_STEPS = ('DecordInit', 'OpenCVInit', 'PyAVInit', 'PIMSInit',
              'ExactPyAVInit')
DECODE_STEPS = ('DecordDecode', 'OpenCVDecode', 'PyAVDecode', 'PIMSDecode',
                'RawFrameDecode', 'ArrayDecode', 'ExactPyAVDecode')


def step_name(step) -> str:
    """A pipeline step's transform name (of a config dict or a built
    transform), without the scope: ``'mmaction.DecordInit'`` ->
    ``'DecordInit'``."""
    kind = step['type'] if isinstance(step, dict) else type(step)
    name = kind if isinstance(kind, str) else kind.__name__
    return name.split('.')[-1]  # 'mmaction.DecordInit' -> 'DecordInit'


def array_pipeline_cfg(pipeline: Sequence[dict]) -> List[dict]:
    """A file pipeline rewritten for frames held in memory.

    The file-opening steps (``DecordInit``, ...) are dropped and the decoding
    step is replaced, in place, by ``ArrayDecode``, so frame sampling,
    resizing and cropping stay exactly those of the file pipeline.

    Args:
        pipeline (Sequence): A test pipeline that decodes a video file
            (config dicts, or built transforms, which are kept as they are).

    Returns:
        list: The pipeline for ``dict(array=frames, total_frames=T, ...)``
        inputs.

    Raises:
        ValueError: If the pipeline has no decoding step.
    """
    steps, decoded = [], False
    for step in pipeline:
        name = step_name(step)
        if name in INIT_STEPS:
            continue
        if name in DECODE_STEPS:
            steps.append(dict(type='ArrayDecode'))
            decoded = True
        else:
            steps.append(step)
    if not decoded:
        raise ValueError(
            'the test pipeline has no decoding step (one of '
            f'{list(DECODE_STEPS)}) to replace by ArrayDecode; its steps are '
            f'{[step_name(s) for s in pipeline]}')
    return steps


def array_pipeline(transforms: Sequence) -> List:
    """:func:`array_pipeline_cfg` for built transforms (a dataset's), with
    ``ArrayDecode`` built."""
    from mmaction.registry import TRANSFORMS
    return [TRANSFORMS.build(step) if isinstance(step, dict) else step
            for step in array_pipeline_cfg(transforms)]


def run_on_black_video(pipeline: Sequence,
                       info: Optional[dict] = None,
                       frame_size: Tuple[int, int] = (256, 340),
                       num_frames: int = 64) -> dict:
    """A file pipeline's output for a black video held in memory (see
    :func:`array_pipeline`): the shape of its ``inputs`` without any video,
    every sampler, crop and ``FormatShape`` accounted for.

    Args:
        pipeline (Sequence): Config dicts or built transforms.
        info (dict, optional): Other input keys (``label``, ...).
        frame_size (tuple[int, int]): ``(H, W)`` of the video. Defaults to
            ``(256, 340)`` (Kinetics' short side 256).
        num_frames (int): Its length. Defaults to 64.
    """
    from mmengine.dataset import Compose
    frames = np.zeros((num_frames, *frame_size, 3), dtype=np.uint8)
    results = dict(info or {}, array=frames, total_frames=num_frames)
    return Compose(array_pipeline(pipeline))(results)
