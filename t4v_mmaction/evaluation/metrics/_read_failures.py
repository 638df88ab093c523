"""Samples that ``RobustVideoDataset`` could not read, and scores that are
not numbers, in the metrics.

A failed video keeps its place in the results (one record per sample), so
that mmengine's ``collect_results`` still drops exactly the duplicates the
distributed sampler padded; the records are separated only when computing.
"""
import logging
from typing import Dict, List, Sequence, Tuple

import torch
from mmengine.logging import print_log

from t4v_mmaction.datasets.robust_video_dataset import FAILED_KEY
_SHOWN = 50  # failed videos listed in the log


def is_failed(sample: Dict) -> bool:
    """Whether a predicted sample (``to_dict()`` form) is a failed read."""
    return bool(sample.get(FAILED_KEY, False))


def check_scores(sample: Dict) -> None:
    """Refuse a prediction that is not a number (NaN or infinite scores:
    corrupt weights or an overflow), naming the video."""
    score = sample.get('pred_score')
    if isinstance(score, torch.Tensor) and not torch.isfinite(score).all():
        raise FloatingPointError(
            f'the model scored {sample.get("filename", "a video")} with '
            'NaN or infinite values; its weights or classifier are corrupt '
            '(check the checkpoint) and no metric would mean anything')


def failure_record(sample: Dict) -> Dict:
    """The record stored for a failed sample."""
    return {
        FAILED_KEY: sample.get('filename', '<unknown file>'),
        'read_error': sample.get('read_error', '')
    }


def split_failed(results: Sequence[Dict]) -> Tuple[List[Dict], List[Dict]]:
    """Split stored records into (scored, failed)."""
    scored = [r for r in results if FAILED_KEY not in r]
    failed = [r for r in results if FAILED_KEY in r]
    return scored, failed


def report_failed(name: str, num_scored: int, failed: Sequence[Dict]) -> None:
    """Log how many videos were scored and which ones could not be read."""
    if not failed:
        return
    lines = [
        f'{name}: {num_scored} videos scored; {len(failed)} could not be '
        'read and are excluded from the metrics:'
    ]
    lines += [f'  {r[FAILED_KEY]}: {r["read_error"]}' for r in failed[:_SHOWN]]
    if len(failed) > _SHOWN:
        lines.append(f'  ... and {len(failed) - _SHOWN} more')
    print_log('\n'.join(lines), logger='current', level=logging.WARNING)
