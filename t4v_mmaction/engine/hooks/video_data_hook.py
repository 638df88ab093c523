from typing import Dict, Optional

import torch
from mmengine.dist import all_gather_object
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS
from t4v_mmaction.datasets.robust_video_dataset import (
    SKIPPED_KEY, BrokenVideoLimitError, find_robust_datasets, skip_summary)

_SHOWN = 20  # broken videos listed in an epoch summary
#: Checkpoint meta key of the distinct broken videos (file -> reason)
BROKEN_KEY = 't4v_broken_videos'


@HOOKS.register_module()
class VideoDataHook(Hook):
    """Guard the video data of a run built on ``RobustVideoDataset``.

    * Before training / testing: the head's frozen classifier is built (so a
      bad spec fails, and the build time is spent, before the first step);
      every label of the train, val and test lists must index one of the
      model's ``cls_head.num_classes`` classes, otherwise
      :class:`~t4v_mmaction.datasets.AnnotationError` names the list, line
      and label; and a dataset with class names must have the classifier's
      class names, in the same order, otherwise a ``ValueError`` names both
      files (e.g. a zero-shot test list with the training classifier).
    * During training: counts the broken videos the dataset skipped. Workers
      are separate processes, so the dataset reports each skipped file in
      the metainfo of the next sample it returns; this hook, in the main
      process, sums them for any ``num_workers`` and, at the end of each
      epoch, over all ranks. It logs a warning for every batch with skips
      and an epoch summary, publishes ``train_skipped_videos`` (this epoch)
      and ``train_broken_videos`` (distinct since the start) in the message
      hub, and raises :class:`~t4v_mmaction.datasets.BrokenVideoLimitError`
      once more distinct videos failed than the datasets' ``max_skips``:
      at once when this process's count passes it, after the epoch's
      checkpoint when only the sum over ranks at the end of an epoch does.
      The distinct broken videos are saved in each checkpoint and counted
      on after ``--resume``.
    * A loss that is not a number (NaN, infinite) stops training at that
      iteration, naming it and the batch's videos.

    Add it with ``custom_hooks = [dict(type='VideoDataHook')]``.
    """
    priority = 'NORMAL'

    def __init__(self) -> None:
        self._checked = set()
        self._broken: Dict[str, str] = {}  # this rank, whole run
        self._epoch_skips = 0
        self._limit: Optional[int] = None
        self._source = ''
        self._pending_error: Optional[BrokenVideoLimitError] = None

    def before_train(self, runner) -> None:
        """Check the train and val labels; find the skip limit."""
        datasets = find_robust_datasets(runner.train_dataloader.dataset)
        self._check_labels(runner, runner.train_dataloader.dataset)
        if runner.val_loop is not None:
            self._check_labels(runner, runner.val_dataloader.dataset)
        if datasets:
            self._limit = sum(d.skip_limit for d in datasets)
            self._source = ', '.join(d.ann_file for d in datasets)

    def before_val(self, runner) -> None:
        """Check the val labels (for ``Runner.val`` alone)."""
        self._check_labels(runner, runner.val_dataloader.dataset)

    def before_test(self, runner) -> None:
        """Check the test labels."""
        self._check_labels(runner, runner.test_dataloader.dataset)

    def before_train_epoch(self, runner) -> None:
        """Start the epoch's count (after the limit error of the last epoch,
        raised here once its checkpoint is saved)."""
        self._raise_pending()
        self._epoch_skips = 0

    def after_train(self, runner) -> None:
        self._raise_pending()

    def _raise_pending(self) -> None:
        if self._pending_error is not None:
            error, self._pending_error = self._pending_error, None
            raise error

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[BROKEN_KEY] = dict(self._broken)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, '_resume', False):
            self._broken.update(checkpoint.get('meta', {}).get(BROKEN_KEY,
                                                               {}))

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Stop on a non-finite loss; count the videos skipped while loading
        this batch."""
        samples = data_batch.get('data_samples') if isinstance(
            data_batch, dict) else None
        loss = outputs.get('loss') if isinstance(outputs, dict) else None
        if isinstance(loss, torch.Tensor) and not torch.isfinite(loss).all():
            files = [getattr(s, 'metainfo', {}).get('filename', '?')
                     for s in samples or ()]
            raise FloatingPointError(
                f'the training loss is {loss.item()} at iteration '
                f'{runner.iter + 1} (epoch {runner.epoch + 1}, batch '
                f'{batch_idx}); the last checkpoint holds the weights '
                'before it. The batch\'s videos: ' + ', '.join(files))
        skipped = [
            pair for sample in samples or ()
            for pair in getattr(sample, 'metainfo', {}).get(SKIPPED_KEY, ())
        ]
        if not skipped:
            return
        self._epoch_skips += len(skipped)
        for filename, reason in skipped:
            self._broken.setdefault(filename, reason)
        runner.logger.warning(
            f'VideoDataHook: {len(skipped)} broken video(s) skipped for this '
            f'batch ({", ".join(f for f, _ in skipped)}); '
            f'{self._epoch_skips} skips this epoch, {len(self._broken)} '
            f'distinct broken videos since the start (max_skips '
            f'{self._limit})')
        self._check_limit(self._broken)

    def after_train_epoch(self, runner) -> None:
        """Sum the epoch's skips over ranks, log and publish them."""
        gathered = all_gather_object((self._epoch_skips, self._broken))
        skips = sum(count for count, _ in gathered)
        broken = {}
        for _, files in gathered:
            broken.update(files)
        runner.message_hub.update_info(
            'train_skipped_videos', skips, resumed=False)
        runner.message_hub.update_info(
            'train_broken_videos', len(broken), resumed=False)
        listed = ''.join(f'\n  {name}: {why}'
                         for name, why in list(broken.items())[:_SHOWN])
        if len(broken) > _SHOWN:
            listed += f'\n  ... and {len(broken) - _SHOWN} more'
        runner.logger.info(
            f'VideoDataHook: epoch {runner.epoch + 1}: {skips} broken-video '
            f'skips; {len(broken)} distinct broken videos since the start '
            f'(max_skips {self._limit}){listed}')
        self._broken = broken
        try:
            self._check_limit(broken)
        except BrokenVideoLimitError as error:  # after the checkpoint
            self._pending_error = error

    def _check_limit(self, broken: Dict[str, str]) -> None:
        if self._limit is not None and len(broken) > self._limit:
            raise BrokenVideoLimitError(
                skip_summary(broken, self._limit, self._source))

    def _check_labels(self, runner, dataset) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        head = getattr(model, 'cls_head', None)
        if hasattr(head, 'build_classifier'):
            head.build_classifier()
        num_classes = getattr(head, 'num_classes', None)
        if num_classes is None:
            return
        for robust in find_robust_datasets(dataset):
            key = (id(robust), id(getattr(head, 'classifier_meta', None)))
            if key in self._checked:
                continue
            robust.full_init()
            robust.check_labels(
                num_classes, f'the model has {num_classes} classes')
            check_label_set(robust, head)
            self._checked.add(key)


def check_label_set(dataset, head) -> None:
    """A dataset's class names must be the classifier's.

    Raises:
        ValueError: Naming the dataset's class-name file and the classifier,
            with the first class that differs.
    """
    ours = getattr(dataset, 'class_names', None)
    theirs = getattr(head, 'class_names', None)
    if ours is None or theirs is None or list(ours) == list(theirs):
        return
    where = getattr(ours, 'source', None) or 'the dataset\'s class_names'
    source = head.classifier_source.describe() if hasattr(
        head, 'classifier_source') else 'the classifier'
    first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b),
                 min(len(ours), len(theirs)))
    detail = (f'class {first} is {ours[first]!r} in the dataset but '
              f'{theirs[first]!r} in the classifier' if first < min(
                  len(ours), len(theirs)) else
              f'{len(ours)} classes in the dataset, {len(theirs)} in the '
              'classifier')
    raise ValueError(
        f'{dataset.ann_file}: the dataset\'s classes ({where}) are not the '
        f'classes of the model\'s classifier (the {source}): {detail}. '
        'Give the head the classifier of these classes (e.g. '
        'cls_head.set_classifier(...) or init_recognizer(class_names=...)) '
        'or the dataset the classifier\'s class names.')
