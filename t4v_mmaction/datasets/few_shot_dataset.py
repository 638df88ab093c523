import copy
import logging
import os.path as osp
from collections import defaultdict, deque
from typing import Any, List, Optional, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.dataset.base_dataset import force_full_init
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist

from mmaction.registry import DATASETS
from .annotation import (AnnotationError, format_rawframe_line,
                         format_video_line, read_text_lines)


@DATASETS.register_module()
class FewShotDataset:
    """K videos per class drawn once, identically on every rank.

    `Revisiting Classifier: Transferring Vision-Language Models for Video
    Recognition <https://arxiv.org/abs/2207.01297>`_

    Text4Vis draws its few-shot subset with unseeded Python ``random`` in every
    process, so each GPU trains on a different subset. Here the subset depends
    only on ``seed`` and the annotation list (``np.random.default_rng(seed)``,
    classes in ascending label order, each class' videos in list order), so
    all ranks and reruns agree. Classes with fewer than ``shots`` videos keep
    all of them (with a warning).

    Args:
        dataset (dict | BaseDataset): The full dataset (an mmaction2
            ``VideoDataset`` or ``RawframeDataset``, or its config).
        shots (int | str): Videos per class, or ``'all'`` for the full
            dataset. Defaults to ``'all'``.
        seed (int): Seed of the draw. Defaults to 0.
        repeat (int | str, optional): Times the subset is repeated per epoch;
            ``'auto'`` = ``len(full) // len(subset)`` (at least 1) as
            Text4Vis does, None = 1. Defaults to None.
        subset_file (str, optional): mmaction2 annotation list of a subset to
            use instead of drawing one (e.g. an ``export_file``); every line
            must equal a line of the dataset. Defaults to None.
        export_file (str, optional): Write the chosen subset there as an
            mmaction2 annotation list (main process only). Defaults to None.
        lazy_init (bool): Defer loading the annotations until first use.
            Defaults to False.
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 shots: Union[int, str] = 'all',
                 seed: int = 0,
                 repeat: Union[None, int, str] = None,
                 subset_file: Optional[str] = None,
                 export_file: Optional[str] = None,
                 lazy_init: bool = False) -> None:
        if shots != 'all' and (isinstance(shots, bool)
                               or not isinstance(shots, int) or shots < 1):
            raise ValueError(
                f"shots must be a positive int or 'all', got {shots!r}")
        if repeat not in (None, 'auto') and (isinstance(
                repeat, bool) or not isinstance(repeat, int) or repeat < 1):
            raise ValueError(
                f"repeat must be None, 'auto' or a positive int, got "
                f'{repeat!r}')
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not isinstance(dataset, BaseDataset):
            raise TypeError('dataset must be a config dict or a BaseDataset, '
                            f'got {type(dataset)}')
        self.dataset = dataset
        self.shots = shots
        self.seed = seed
        self.repeat = repeat
        self.subset_file = subset_file
        self.export_file = export_file
        self._metainfo = self.dataset.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """dict: Meta information of the wrapped dataset."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Load the wrapped dataset and choose the subset."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        if self.subset_file is not None:
            subset = self._load_subset(self.subset_file)
        elif self.shots == 'all':
            subset = list(range(len(self.dataset)))
        else:
            subset = self._draw_subset()
        if not subset:
            raise ValueError('FewShotDataset: the subset is empty')
        if self.repeat == 'auto':
            times = max(len(self.dataset) // len(subset), 1)
        else:
            times = self.repeat or 1
        self.subset_indices: List[int] = subset
        self.times = times
        self._indices = subset * times
        if self.export_file is not None and is_main_process():
            self._export(self.export_file)
        print_log(
            f'FewShotDataset: {len(subset)} of {len(self.dataset)} videos '
            f'(shots={self.shots}, seed={self.seed}), repeated {times}x',
            logger='current')
        self._fully_initialized = True

    def _draw_subset(self) -> List[int]:
        """Indices of ``shots`` videos per class, ascending."""
        by_class = defaultdict(list)
        for idx in range(len(self.dataset)):
            by_class[self._single_label(idx)].append(idx)
        rng = np.random.default_rng(self.seed)
        chosen, short = [], {}
        for label in sorted(by_class):
            members = by_class[label]
            if len(members) <= self.shots:
                if len(members) < self.shots:
                    short[label] = len(members)
                chosen.extend(members)
            else:
                pick = rng.choice(len(members), size=self.shots, replace=False)
                chosen.extend(members[i] for i in pick)
        if short:
            print_log(
                f'FewShotDataset: {len(short)} classes have fewer than '
                f'{self.shots} videos and keep all of them '
                f'({{label: count}} = {short})',
                logger='current',
                level=logging.WARNING)
        return sorted(chosen)

    def _single_label(self, idx: int) -> int:
        label = self.dataset.get_data_info(idx)['label']
        if not isinstance(label, (int, np.integer)):
            raise ValueError(
                'FewShotDataset draws per class and needs single-label '
                f'annotations (multi_class=False); entry {idx} has label '
                f'{label!r}')
        if label < 0:
            raise ValueError(f'FewShotDataset: entry {idx} has no label '
                             f'(label {label}); use a labelled list')
        return int(label)

    def _line(self, idx: int) -> str:
        """The mmaction2 annotation line of entry ``idx``."""
        info = self.dataset.get_data_info(idx)
        label = info['label']
        if isinstance(label, torch.Tensor):  # multi_class: one-hot
            label = torch.nonzero(label).flatten().tolist()
        if 'frame_dir' in info:
            path = _relative(info['frame_dir'],
                             self.dataset.data_prefix.get('img'))
            return format_rawframe_line(path, info['total_frames'], label,
                                        info.get('offset'))
        path = _relative(info['filename'],
                         self.dataset.data_prefix.get('video'))
        return format_video_line(path, label)

    def _load_subset(self, path: str) -> List[int]:
        """Match every line of ``path`` to an entry of the dataset."""
        by_key = defaultdict(deque)
        lines = {}
        for idx in range(len(self.dataset)):
            lines[idx] = self._line(idx)
            by_key[lines[idx].split()[0]].append(idx)
        subset = []
        for lineno, line in read_text_lines(path):
            key = line.split()[0]
            if key not in by_key:
                raise AnnotationError(
                    path, f'{key!r} is not in the dataset '
                    f'({self.dataset.ann_file})', lineno)
            if not by_key[key]:
                raise AnnotationError(
                    path, f'{key!r} occurs more often than in the dataset '
                    f'({self.dataset.ann_file})', lineno)
            idx = by_key[key].popleft()
            if line.split() != lines[idx].split():
                raise AnnotationError(
                    path, f'{line!r} differs from the dataset line '
                    f'{lines[idx]!r} ({self.dataset.ann_file})', lineno)
            subset.append(idx)
        if not subset:
            raise AnnotationError(path, 'the subset list is empty')
        return subset

    def _export(self, path: str) -> None:
        if osp.dirname(path):
            mkdir_or_exist(osp.dirname(path))
        with open(path, 'w', encoding='utf-8') as f:
            f.write(''.join(f'{self._line(i)}\n' for i in self.subset_indices))

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """Annotation of the ``idx``-th sample of the (repeated) subset."""
        return self.dataset.get_data_info(self._indices[idx])

    def __getitem__(self, idx: int) -> Any:
        if not self._fully_initialized:
            print_log(
                'Please call `full_init` method manually to accelerate the '
                'speed.',
                logger='current',
                level=logging.WARNING)
            self.full_init()
        # refetch inside the subset (the wrapped dataset would draw from all)
        for _ in range(self.dataset.max_refetch + 1):
            data = self.dataset.prepare_data(self._indices[idx])
            if data is not None:
                return data
            if self.dataset.test_mode:
                raise RuntimeError(
                    f'the pipeline returned None for sample {idx} in test '
                    'mode')
            idx = np.random.randint(len(self._indices))
        raise RuntimeError(
            f'no valid sample after {self.dataset.max_refetch} refetches')

    @force_full_init
    def __len__(self) -> int:
        return len(self._indices)


def _relative(path: str, prefix: Optional[str]) -> str:
    """Undo mmaction2's ``osp.join(prefix, relpath)``."""
    if not prefix:
        return path
    head = prefix if prefix.endswith(('/', osp.sep)) else prefix + osp.sep
    return path[len(head):] if path.startswith(head) else path
