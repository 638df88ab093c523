"""Agreement of the faster settings with fp32 on real clips (``--videos``):
the clips are loaded here and classified by the workers."""
from typing import TYPE_CHECKING, Dict, List

from .process import WorkerProcess

if TYPE_CHECKING:  # for the annotations; imported where it is used
    import torch

# CLIP's normalisation, on 0..255 pixels
MEAN = (122.771, 116.746, 104.094)
STD = (68.501, 66.632, 70.323)


def load_clips(videos: List[str], num_frames: int, size: int,
               clips_per_video: int) -> 'torch.Tensor':
    """Real clips for the agreement check: per video, ``clips_per_video``
    segment samplings (offsets spread over each segment) x 3 crops (left,
    centre, right of the short side resized to ``size``), CLIP-normalized.

    Args:
        videos (list): Video files (read with decord).
        num_frames (int): Frames per clip, T.
        size (int): Crop size, S.
        clips_per_video (int): Samplings per video.

    Returns:
        torch.Tensor: ``(N, T, 3, S, S)`` float32, ``N = len(videos) *
        clips_per_video * 3``.
    """
    import decord
    import numpy as np
    import torch
    import torch.nn.functional as F
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    out = []
    for path in videos:
        reader = decord.VideoReader(path)
        n = len(reader)
        for c in range(clips_per_video):
            offset = (c + 0.5) / clips_per_video
            idx = np.minimum(((np.arange(num_frames) + offset) * n /
                              num_frames).astype(int), n - 1)
            frames = torch.from_numpy(reader.get_batch(idx).asnumpy())
            x = frames.permute(0, 3, 1, 2).float()  # (T, 3, H, W)
            h, w = x.shape[-2:]
            scale = size / min(h, w)
            x = F.interpolate(
                x, size=(max(size, round(h * scale)),
                         max(size, round(w * scale))),
                mode='bilinear', align_corners=False)
            h, w = x.shape[-2:]
            for top, left in ((0, 0), ((h - size) // 2, (w - size) // 2),
                              (h - size, w - size)):
                crop = x[:, :, top:top + size, left:left + size]
                out.append((crop - mean) / std)
    return torch.stack(out)


def agreement(workers: Dict[str, WorkerProcess], clips_path: str,
              pairs: List[tuple]) -> Dict[str, dict]:
    """Top-1 / top-5 agreement of a setting with fp32 on real clips.

    Args:
        workers (dict): The live worker of each contender.
        clips_path (str): The clips, ``(N, T, 3, S, S)``, saved by
            ``torch.save`` (from :func:`load_clips`).
        pairs (list): ``(contender, setting)`` pairs to check.

    Returns:
        dict: Per ``'contender/setting'``: ``clips``, ``top1_agreement``,
        ``top1_in_top5`` (its top-1 among fp32's top 5),
        ``max_abs_prob_diff`` and ``median_top1_margin`` (of fp32's
        logits).
    """
    import torch
    cache, out = {}, {}

    def logits(who, setting):
        """``(N, num_classes)`` logits of a run, asked once."""
        if (who, setting) not in cache:
            cache[(who, setting)] = torch.tensor(workers[who].call(
                'logits', setting=setting, clips=clips_path)['logits'])
        return cache[(who, setting)]

    for who, setting in pairs:
        ref, got = logits(who, 'infer-fp32'), logits(who, setting)
        top5 = ref.topk(5, dim=-1).indices
        out[f'{who}/{setting}'] = dict(
            clips=len(ref),
            top1_agreement=(ref.argmax(-1) == got.argmax(-1)).float().mean()
            .item(),
            top1_in_top5=(got.argmax(-1, keepdim=True) == top5).any(-1)
            .float().mean().item(),
            max_abs_prob_diff=(ref.softmax(-1) - got.softmax(-1)).abs()
            .max().item(),
            median_top1_margin=(ref.topk(2, dim=-1).values.diff(dim=-1)
                                .abs().median().item()))
    return out
