import contextlib
import logging
import math
import multiprocessing
import os
import os.path as osp
from fractions import Fraction
from multiprocessing.context import get_spawning_popen
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.logging import print_log

from mmaction.datasets import VideoDataset
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from .annotation import AnnotationError, read_text_lines
from .class_names import load_class_names
from .decoder_guard import DecoderGuard
from .pipeline_steps import run_on_black_video, step_name
from .sample_seeds import SampleSeeds
from .video_list import parse_video_list
from .video_probe import describe_error

__all__ = [
    'RobustVideoDataset', 'BrokenVideoLimitError', 'skip_summary',
    'find_robust_datasets'
]

#: Metainfo key of a training sample listing the videos skipped before it.
SKIPPED_KEY = 'skipped_videos'
#: Data field of a test sample whose video could not be read.
FAILED_KEY = 'read_failed'
# The steps that open a video with the decoder DecoderGuard probes with.
GUARDED_STEPS = ('DecordInit', )


class BrokenVideoLimitError(RuntimeError):
    """More videos failed to load than ``max_skips`` allows."""


def skip_summary(skipped: Dict[str, str], limit: int, source: str,
                 shown: int = 20) -> str:
    """Describe the skipped videos for :class:`BrokenVideoLimitError`.

    Args:
        skipped (dict[str, str]): ``{filename: reason}``.
        limit (int): The largest number of distinct broken videos allowed.
        source (str): The annotation file(s).
        shown (int): Files listed at most. Defaults to 20.

    Returns:
        str: A multi-line message.
    """
    lines = [
        f'{len(skipped)} distinct videos of {source} could not be loaded, '
        f'more than max_skips allows ({limit}); the data is likely broken '
        '(wrong data_prefix, unmounted disk, bad download). Check it with '
        'tools/check_videos.py. Skipped videos:'
    ]
    lines += [
        f'  {name}: {why}' for name, why in list(skipped.items())[:shown]
    ]
    if len(skipped) > shown:
        lines.append(f'  ... and {len(skipped) - shown} more')
    return '\n'.join(lines)


@DATASETS.register_module()
class RobustVideoDataset(VideoDataset):
    """A ``VideoDataset`` that survives broken videos and checks its list.

    Training: when the pipeline fails on a video (missing, empty, truncated,
    not a video, fewer than ``min_frames`` frames), a warning names the file
    and the reason and another video is drawn instead (mmengine's refetch).
    The skipped files travel to the main process in the metainfo key
    ``skipped_videos`` of the next sample returned, so
    :class:`~t4v_mmaction.engine.VideoDataHook` counts them across dataloader
    workers and ranks. More than ``max_skips`` distinct broken videos raise
    :class:`BrokenVideoLimitError` listing them (each worker also checks its
    own count).

    Testing: nothing is dropped or replaced. A video that cannot be read
    gives a placeholder sample: zero ``inputs`` of the usual shape and a data
    sample with ``read_failed=True`` and metainfo ``filename`` and
    ``read_error``; :class:`~t4v_mmaction.evaluation.RobustAccMetric`
    excludes it from the accuracy and reports it.

    The list is read strictly (:func:`~.video_list.parse_video_list`): a
    malformed line, or a label outside ``0 .. K-1`` when K is known from
    ``class_names`` or ``num_classes``, raises
    :class:`~t4v_mmaction.datasets.AnnotationError` naming file and line at
    construction.

    Args:
        ann_file (str): The list, ``relpath label`` per line.
        pipeline (list[dict | callable]): Data transforms.
        max_skips (int | float): Distinct broken videos tolerated in
            training: a count, or a fraction in [0, 1] of the dataset (the
            ceiling of the exact product, see :attr:`skip_limit`). 0 makes
            every broken video an error.
            Defaults to 0.01.
        class_names (str, optional): Label map (one name per line) or
            ``id,name`` CSV; its length is the number of classes K.
            Defaults to None.
        num_classes (int, optional): K, when no ``class_names`` is given (or
            to cross-check it). Defaults to None.
        min_frames (int): Videos with fewer frames count as broken; the
            samplers repeat frames of short videos, so 1 accepts every
            decodable video. Defaults to 1.
        guard_decoder (bool): With a ``DecordInit`` pipeline, open every
            video first in a disposable process
            (:class:`~.decoder_guard.DecoderGuard`; once per file and run:
            the workers share which files opened fine), so that a file that
            crashes the decoder is a broken video instead of the end of the
            run. Defaults to True.
        **kwargs: Other :class:`VideoDataset` arguments (``data_prefix``,
            ``multi_class``, ``test_mode``, ``delimiter``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 max_skips: Union[int, float] = 0.01,
                 class_names: Optional[str] = None,
                 num_classes: Optional[int] = None,
                 min_frames: int = 1,
                 guard_decoder: bool = True,
                 **kwargs) -> None:
        _check_max_skips(max_skips)
        if not isinstance(min_frames, int) or min_frames < 1:
            raise ValueError(
                f'min_frames must be a positive int, got {min_frames!r}')
        self.max_skips = max_skips
        self.min_frames = min_frames
        self.class_names = None
        self._classes_source = f'num_classes={num_classes}'
        if class_names is not None:
            class_names = os.fspath(class_names)
            self.class_names = load_class_names(class_names)
            if num_classes is not None and num_classes != len(
                    self.class_names):
                raise ValueError(
                    f'num_classes={num_classes} but {class_names} has '
                    f'{len(self.class_names)} class names')
            num_classes = len(self.class_names)
            self._classes_source = \
                f'{class_names} has {num_classes} class names'
            kwargs.setdefault('metainfo',
                              dict(classes=tuple(self.class_names)))
        self.seeds = SampleSeeds()
        self.decoder_guard: Optional[DecoderGuard] = None
        self._skipped: Dict[str, str] = {}  # this process: file -> reason
        self._pending: List[tuple] = []  # skipped since the last sample
        self._template: Optional[tuple] = None  # (shape, dtype) of inputs
        super().__init__(ann_file, pipeline, num_classes=num_classes,
                         **kwargs)
        self.pipeline = NamedStepsCompose(self.pipeline.transforms,
                                          min_frames)
        self._readable = None  # index -> 1: the guard opened it, no crash
        if guard_decoder and any(step_name(t) in GUARDED_STEPS
                                 for t in self.pipeline.transforms):
            self.decoder_guard = DecoderGuard()
            if self._fully_initialized:  # shared with the workers forked
                self._readable = multiprocessing.RawArray('b', len(self))

    def load_data_list(self) -> List[dict]:
        """Read and check the list; see :func:`parse_video_list`."""
        if self.multi_class and self.num_classes is None:
            raise ValueError(f'{self.ann_file}: multi_class=True needs '
                             'num_classes or class_names')
        entries = parse_video_list(
            self.ann_file,
            multi_class=self.multi_class,
            delimiter=self.delimiter,
            require_labels=not self.test_mode)
        self._max_labels = np.array(
            [max(e.label) if isinstance(e.label, list) else e.label
             for e in entries])  # (N, ) largest label of every line
        self._linenos = np.array([e.lineno for e in entries])
        if self.num_classes is not None:
            self.check_labels(self.num_classes, self._classes_source)
        prefix = self.data_prefix.get('video')
        return [
            dict(
                filename=osp.join(prefix, e.path) if prefix else e.path,
                label=e.label) for e in entries
        ]

    def check_labels(self, num_classes: int, source: str) -> None:
        """Check every label of the list against K classes.

        Args:
            num_classes (int): The number of classes K.
            source (str): Where K comes from, for the message.

        Raises:
            AnnotationError: For the first line with a label >= K.
        """
        bad = np.flatnonzero(self._max_labels >= num_classes)
        if bad.size:
            lineno = int(self._linenos[bad[0]])
            lines = dict(read_text_lines(self.ann_file))  # only on error
            raise AnnotationError(
                self.ann_file, f'label {self._max_labels[bad[0]]} in '
                f'{lines.get(lineno, "")!r} is out of range: there are '
                f'{num_classes} classes (labels 0..{num_classes - 1}; '
                f'{source})', lineno)

    @property
    def skip_limit(self) -> int:
        """int: The most distinct broken videos tolerated in training: an
        int ``max_skips`` as it is, a fraction the ceiling of the exact
        product with the dataset's length (``0.07`` of 100 videos is 7, not
        the float product's 8)."""
        if isinstance(self.max_skips, float):
            return math.ceil(Fraction(str(self.max_skips)) * len(self))
        return self.max_skips

    def __getitem__(self, idx: int) -> dict:
        """The sample ``idx``; in training a broken video is replaced by
        another one, chosen (like its augmentation) from the sample's seed
        (see :class:`~.sample_seeds.SampleSeeds`)."""
        if not self._fully_initialized:
            self.full_init()
        if self.test_mode:
            return self.prepare_data(idx)
        first = idx
        for attempt in range(self.max_refetch + 1):
            data = self.prepare_data(idx, attempt)
            if data is not None:
                return data
            idx = self.seeds.another(first, attempt, len(self))
        raise RuntimeError(
            f'RobustVideoDataset: no readable video after {self.max_refetch}'
            f' refetches from {self.ann_file}; check data_prefix and run '
            'tools/check_videos.py')

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the samples' seeds (shared with the workers)."""
        self.seeds.set_epoch(epoch)

    def set_seed(self, seed: Optional[int]) -> None:
        """The run's seed, before the DataLoader starts its workers; None
        leaves the random generators to the workers."""
        self.seeds.seed = seed

    def prepare_data(self, idx: int, attempt: int = 0) -> Optional[dict]:
        """Run the pipeline on video ``idx``; handle a failure by mode.

        Training samples run from their own seed (``(seed, epoch, idx,
        attempt)``, once :meth:`set_seed` is called). A video that crashes
        the decoder (see :class:`~.decoder_guard.DecoderGuard`) is a broken
        video like any other.

        Returns:
            dict | None: The packed sample; in training None for a broken
            video (another one is fetched), in testing a placeholder sample
            marked ``read_failed``.
        """
        info = self.get_data_info(idx)
        try:
            crash = self._decoder_crash(idx, info['filename'])
            if crash is not None:
                raise _LoadError(crash)
            with self.seeds.sample(idx, attempt) if not self.test_mode \
                    else contextlib.nullcontext():
                data = self.pipeline(info)
        except Exception as err:  # decoders raise many exception types
            reason = str(err) if isinstance(err, _LoadError) else \
                describe_error(err)
            if self.test_mode:
                return self._placeholder(idx, info, reason)
            self._skip(info['filename'], reason)
            return None
        if data is None:
            return None
        self._remember_shape(data)
        sample = data.get('data_samples') if isinstance(data, dict) else None
        if isinstance(sample, ActionDataSample):
            sample.set_metainfo(dict(filename=info['filename']))
            if self._pending:
                sample.set_metainfo({SKIPPED_KEY: self._pending})
                self._pending = []
        return data

    def __getstate__(self):
        state = self.__dict__.copy()
        if get_spawning_popen() is None and self._readable is not None:
            # a copy, not a worker starting: flags in memory of its own
            state['_readable'] = bytes(self._readable)
        return state

    def __setstate__(self, state):
        if isinstance(state.get('_readable'), bytes):
            flags = state['_readable']
            state['_readable'] = multiprocessing.RawArray('b', len(flags))
            state['_readable'][:] = flags
        self.__dict__.update(state)

    def _decoder_crash(self, idx: int, filename: str) -> Optional[str]:
        """Why opening ``filename`` crashes the decoder, or None. A file
        found readable is not opened by the guard again in this run, by
        any worker (the flags live in memory the workers share)."""
        if self.decoder_guard is None:
            return None
        if self._readable is None:  # built in a worker (lazy_init)
            self._readable = multiprocessing.RawArray('b', len(self))
        if self._readable[idx]:
            return None
        probe = self.decoder_guard.open(filename)
        if probe.kind == 'decoder crash':
            return probe.problem
        self._readable[idx] = 1
        return None

    def _skip(self, filename: str, reason: str) -> None:
        self._skipped.setdefault(filename, reason)
        self._pending.append((filename, reason))
        limit = self.skip_limit
        print_log(
            f'RobustVideoDataset: skipping {filename}: {reason} '
            f'({len(self._skipped)} distinct broken videos in this process, '
            f'max_skips={limit})',
            logger='current',
            level=logging.WARNING)
        if len(self._skipped) > limit:
            raise BrokenVideoLimitError(
                skip_summary(self._skipped, limit, self.ann_file))

    def _placeholder(self, idx: int, info: dict, reason: str) -> dict:
        print_log(
            f'RobustVideoDataset: cannot read {info["filename"]}: {reason}; '
            'it is scored as failed, not dropped',
            logger='current',
            level=logging.WARNING)
        shape, dtype = self._input_template(idx)
        sample = ActionDataSample()
        sample.set_gt_label(info['label'])
        sample.set_metainfo(
            dict(filename=info['filename'], read_error=reason))
        sample.set_field(True, FAILED_KEY)
        return dict(inputs=torch.zeros(shape, dtype=dtype),
                    data_samples=sample)

    def _input_template(self, idx: int) -> tuple:
        """``(shape, dtype)`` of ``inputs``: of a video read before, else of
        a synthetic black video run through the pipeline (its decoding
        replaced by ``ArrayDecode``), so no readable video is needed."""
        if self._template is None:
            self._remember_shape(run_on_black_video(
                self.pipeline.transforms, self.get_data_info(idx)))
        return self._template

    def _remember_shape(self, data) -> None:
        inputs = data.get('inputs') if isinstance(data, dict) else None
        if self._template is None and isinstance(inputs, torch.Tensor):
            self._template = (tuple(inputs.shape), inputs.dtype)


class _LoadError(RuntimeError):
    """A pipeline failure, already described."""


class NamedStepsCompose(Compose):
    """``Compose`` that names the transform that fails, and refuses videos
    with fewer than ``min_frames`` frames.

    A tool may replace a dataset's pipeline with its own ``Compose`` (as
    mmaction2's ``browse_dataset.py`` does to record every step); the
    dataset then runs that one.
    """

    def __init__(self, transforms, min_frames: int = 1):
        super().__init__(transforms)
        self.min_frames = min_frames

    def __call__(self, results: dict) -> Optional[dict]:
        for transform in self.transforms:
            try:
                results = transform(results)
            except Exception as err:
                raise _LoadError(f'{type(transform).__name__}: '
                                 f'{describe_error(err)}') from err
            if results is None:
                return None
            total = results.get('total_frames') if isinstance(
                results, dict) else None
            if total is not None and total < self.min_frames:
                raise _LoadError(f'{total} frames, fewer than min_frames='
                                 f'{self.min_frames}')
        return results


def _check_max_skips(max_skips) -> None:
    if isinstance(max_skips, bool) or not isinstance(max_skips,
                                                     (int, float)):
        raise TypeError(f'max_skips must be an int or a float, got '
                        f'{max_skips!r}')
    if isinstance(max_skips, int) and max_skips < 0:
        raise ValueError(f'max_skips must be >= 0, got {max_skips}')
    if isinstance(max_skips, float) and not 0. <= max_skips <= 1.:
        raise ValueError('a float max_skips is a fraction of the dataset and '
                         f'must be in [0, 1], got {max_skips}')


def find_robust_datasets(dataset) -> Sequence[RobustVideoDataset]:
    """The :class:`RobustVideoDataset` s inside (wrapped) ``dataset``."""
    if isinstance(dataset, RobustVideoDataset):
        return [dataset]
    found = []
    for child in getattr(dataset, 'datasets', None) or [
            getattr(dataset, 'dataset', None)
    ]:
        if child is not None and child is not dataset:
            found.extend(find_robust_datasets(child))
    return found
