from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SegmentSampleFrames(BaseTransform):
    """TSN segment sampling exactly as in the Text4Vis data loader.

    `Revisiting Classifier: Transferring Vision-Language Models for Video
    Recognition <https://arxiv.org/abs/2207.01297>`_

    The video of ``n`` frames is split into ``T = num_segments`` segments and
    one frame is taken per segment:

    * training: one uniformly random frame inside each segment
      ``[i*n//T, (i+1)*n//T)``. Videos with ``n <= T`` frames take every frame
      plus ``T - n`` random ones, sorted (``out_of_bound_opt='random_fill'``)
      or ``T`` consecutive frames from a random start in the first half,
      wrapped around (``'loop'``).
    * test / validation: ``tick = n / T``; clip ``c`` starts at
      ``linspace(0, tick - 1, num_clips)[c]`` (truncated to int) and takes
      frames ``int(start + tick * x) % n``. With one clip this is the first
      frame of every segment, Text4Vis' validation rule.

    The random draws use the global ``np.random`` state in the same order as
    the original code, so a seeded run draws the same frames. In training
    each of the ``num_clips`` clips is drawn independently.

    Frame indices are 0-based and shifted by ``results['start_index']`` (0 for
    decord videos, 1 for mmaction2 raw frames), like mmaction2's samplers.
    The output pairs with ``DecordDecode`` + ``FormatShape('NCTHW')``, giving
    inputs of shape ``[num_clips * num_crops, C, T, H, W]``.

    Required Keys:

        - total_frames
        - start_index

    Added Keys:

        - frame_inds
        - clip_len
        - frame_interval
        - num_clips

    Args:
        num_segments (int): Frames per clip (``T``). Defaults to 8.
        num_clips (int): Number of temporal clips (views). Defaults to 1.
        test_mode (bool): Use the deterministic test rule. Defaults to False.
        out_of_bound_opt (str): Training rule for videos with at most
            ``num_segments`` frames, ``'random_fill'`` (Text4Vis default) or
            ``'loop'`` (Text4Vis ``loop=True`` branch). Test mode always wraps
            indices modulo ``n``. Defaults to ``'random_fill'``.
    """

    def __init__(self,
                 num_segments: int = 8,
                 num_clips: int = 1,
                 test_mode: bool = False,
                 out_of_bound_opt: str = 'random_fill') -> None:
        if not isinstance(num_segments, int) or num_segments < 1:
            raise ValueError(
                f'num_segments must be a positive int, got {num_segments!r}')
        if not isinstance(num_clips, int) or num_clips < 1:
            raise ValueError(
                f'num_clips must be a positive int, got {num_clips!r}')
        if out_of_bound_opt not in ('random_fill', 'loop'):
            raise ValueError("out_of_bound_opt must be 'random_fill' or "
                             f"'loop', got {out_of_bound_opt!r}")
        self.num_segments = num_segments
        self.num_clips = num_clips
        self.test_mode = test_mode
        self.out_of_bound_opt = out_of_bound_opt

    def _train_clip(self, num_frames: int) -> np.ndarray:
        """Random frame per segment; shape ``(T, )``."""
        T = self.num_segments
        if num_frames <= T:
            if self.out_of_bound_opt == 'loop':
                # max(., 1): the original fails on one-frame videos here
                shift = np.random.randint(max(num_frames // 2, 1))
                return np.mod(np.arange(T) + shift, num_frames)
            fill = np.random.randint(num_frames, size=T - num_frames)
            return np.sort(np.concatenate((np.arange(num_frames), fill)))
        ticks = [i * num_frames // T for i in range(T + 1)]
        # one scalar draw per segment, in order, as the original does
        return np.array([
            ticks[i] + np.random.randint(ticks[i + 1] - ticks[i])
            for i in range(T)
        ])

    def _test_clips(self, num_frames: int) -> np.ndarray:
        """Segment-start frames of every clip; shape ``(num_clips * T, )``."""
        tick = num_frames / float(self.num_segments)
        # truncate toward zero (numpy < 2 ``linspace(dtype=int)``); numpy 2
        # floors, which differs when tick < 1 and num_clips > 1
        starts = np.linspace(0, tick - 1, num=self.num_clips).astype(np.int64)
        return np.array([
            int(start + tick * x) % num_frames for start in starts.tolist()
            for x in range(self.num_segments)
        ])

    def transform(self, results: Dict) -> Dict:
        """Sample the frame indices.

        Args:
            results (dict): The result dict; needs ``total_frames`` and
                ``start_index``.

        Returns:
            dict: The result dict with ``frame_inds`` of shape
            ``(num_clips * num_segments, )``, clip-major.
        """
        num_frames = int(results['total_frames'])
        if num_frames < 1:
            raise ValueError(
                f'{results.get("filename", results.get("frame_dir", "video"))}'
                f' has {num_frames} frames; cannot sample')
        if self.test_mode:
            inds = self._test_clips(num_frames)
        else:
            inds = np.concatenate(
                [self._train_clip(num_frames) for _ in range(self.num_clips)])
        results['frame_inds'] = (inds +
                                 results['start_index']).astype(np.int32)
        results['clip_len'] = self.num_segments
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'num_segments={self.num_segments}, '
                f'num_clips={self.num_clips}, '
                f'test_mode={self.test_mode}, '
                f'out_of_bound_opt={self.out_of_bound_opt!r})')
