"""Multi-view fusion: the views of each video (clips x crops) in one place."""
import torch

__all__ = ['fuse_views']


def fuse_views(x: torch.Tensor, num_videos: int) -> torch.Tensor:
    """Average the views of each video.

    Args:
        x (torch.Tensor): ``(N * V, ...)``, the V views of video n at rows
            ``n * V .. n * V + V - 1`` (mmaction2's order).
        num_videos (int): N.

    Returns:
        torch.Tensor: ``(N, ...)``.

    Raises:
        ValueError: If the rows do not split evenly over the videos.
    """
    if num_videos < 1 or x.shape[0] % num_videos:
        raise ValueError(f'{x.shape[0]} rows do not split evenly over '
                         f'{num_videos} videos')
    return x.view(num_videos, x.shape[0] // num_videos,
                  *x.shape[1:]).mean(dim=1)
