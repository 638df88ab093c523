"""Score one video (a file or decoded frames) with a recognizer."""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

from .inference import get_class_names
from .pipeline import (VideoType, array_pipeline_cfg, get_test_pipeline,
                       pipeline_inputs)

__all__ = ['video_scores', 'classify_video']


def video_scores(model: nn.Module, video: VideoType) -> np.ndarray:
    """The score of every class for one video.

    The video goes through the config's ``test_pipeline`` (for frames with
    its decoding replaced by ``ArrayDecode``), then ``model.test_step``.

    Args:
        model (nn.Module): A recognizer from :func:`init_recognizer` (it
            needs ``model.cfg``).
        video (str | os.PathLike | np.ndarray | torch.Tensor | list): A video
            file, or RGB frames ``(T, H, W, 3)`` uint8.

    Returns:
        np.ndarray: ``(K, )`` float32 ``pred_score`` (probabilities for heads
        with ``average_clips='prob'``), in the order of
        :func:`get_class_names` (the ``class_names`` given to
        :func:`init_recognizer`).
    """
    cfg = model.cfg
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    data, from_frames = pipeline_inputs(video)
    steps = get_test_pipeline(cfg)
    pipeline = Compose(array_pipeline_cfg(steps) if from_frames else steps)
    batch = pseudo_collate([pipeline(data)])
    with torch.no_grad():
        result = model.test_step(batch)[0]
    return result.pred_score.float().cpu().numpy()


def classify_video(model: nn.Module,
                   video: VideoType,
                   top_k: Optional[int] = 5,
                   class_names: Optional[Sequence[str]] = None
                   ) -> List[Tuple[str, float]]:
    """The top-k classes of one video.

    Args:
        model (nn.Module): A recognizer from :func:`init_recognizer`.
        video (str | os.PathLike | np.ndarray | torch.Tensor | list): A video
            file, or RGB frames ``(T, H, W, 3)`` uint8.
        top_k (int, optional): How many classes to return; None returns all.
            Defaults to 5.
        class_names (Sequence[str], optional): Names for the score rows;
            defaults to :func:`get_class_names`, else the class indices as
            strings.

    Returns:
        list[tuple[str, float]]: ``(class name, score)``, highest score
        first (ties keep class order).

    Raises:
        ValueError: If ``top_k < 1`` or the names do not match the scores.
    """
    if top_k is not None and top_k < 1:
        raise ValueError(f'top_k must be >= 1 or None, got {top_k}')
    scores = video_scores(model, video)
    names = class_names if class_names is not None else \
        get_class_names(model)
    if names is None:
        names = [str(i) for i in range(len(scores))]
    if len(names) != len(scores):
        raise ValueError(f'{len(names)} class names for {len(scores)} '
                         'class scores')
    order = np.argsort(-scores, kind='stable')[:top_k]
    return [(names[i], float(scores[i])) for i in order]
