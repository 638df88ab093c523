"""Bad annotation lists, class-name files and classifiers give one clear
error (file, line, what is wrong) before training starts."""
import json
import os.path as osp
import re
import warnings

import pytest
import torch
from _tiny_models import save_classifier_tensor
from _tiny_video_data import make_tiny_videos
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmaction.registry import MODELS
from t4v_mmaction.datasets import AnnotationError, RobustVideoDataset

HERE = osp.dirname(osp.abspath(__file__))
TINY_CFG = osp.join(HERE, 'configs', 'tiny_clipvit_videos.py')
GOOD = 'a.mp4 0\nb.mp4 1\n'


def _write(tmp_path, content, name='list.txt'):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else
                     content.encode('utf-8'))
    return str(path)


def _dataset(ann_file, **kwargs):
    return RobustVideoDataset(ann_file, pipeline=[], **kwargs)


def _labels(dataset):
    return [dataset.get_data_info(i)['label'] for i in range(len(dataset))]


@pytest.mark.parametrize(
    'content, options, line, message',
    [
        (GOOD + 'c.mp4 3a\n', {}, 3, "label '3a' is not an integer"),
        (GOOD + 'c.mp4 2\n', dict(num_classes=2), 3,
         r"label 2 in 'c.mp4 2' is out of range: there are 2 classes "
         r'\(labels 0..1; num_classes=2\)'),
        (GOOD + 'c.mp4 -1\n', {}, 3, 'negative label -1'),
        ('a.mp4 0\n\nb.mp4 1\n', {}, 2, 'blank line between entries'),
        (GOOD + 'c d.mp4 1\n', {}, 3,
         r"2 labels \['d.mp4', '1'\] but the dataset is single-label"),
        (GOOD + 'c.mp4\n', {}, 3, "no label for 'c.mp4'"),
        (GOOD + 'c.mp4\n', dict(test_mode=True), 3,
         "no label for 'c.mp4', while line 1 has one"),
        (GOOD.encode() + b'caf\xe9.mp4 1\n', {}, 3,
         'byte 0xe9 at offset 19 is not valid UTF-8'),
        ('', {}, None, 'the list is empty'),
        (GOOD + 'c.mp4 1_0\n', {}, 3, "label '1_0' is not an integer"),
        (GOOD + 'c.mp4 +1\n', {}, 3, r"label '\+1' is not an integer"),
        (GOOD + 'c.mp4 \u0661\n', {}, 3, 'label .* is not an integer'),
        (GOOD + 'c.mp4 \uff11\n', {}, 3, 'label .* is not an integer'),
        (GOOD + 'c.mp4\u20281\nd.mp4 0\n', {}, 3, "no label for 'c.mp4"),
        (GOOD + 'c.mp4 1\x0cd.mp4 0\n', {}, 3, '2 labels'),
    ],
    ids=[
        'non-integer', 'out-of-range', 'negative', 'blank-line',
        'two-labels', 'unlabelled-train', 'mixed-unlabelled', 'non-utf8',
        'empty', 'underscore', 'plus-sign', 'arabic-indic-digit',
        'fullwidth-digit', 'line-separator', 'form-feed'
    ])
def test_bad_list_lines(tmp_path, content, options, line, message):
    path = _write(tmp_path, content)
    where = f'{re.escape(path)}:{line}: ' if line else f'{re.escape(path)}: '
    with pytest.raises(AnnotationError, match='^' + where + message):
        _dataset(path, **options)


def test_good_lists_load(tmp_path):
    # trailing blank lines and a byte-order mark are fine
    path = _write(tmp_path, b'\xef\xbb\xbf' + GOOD.encode() + b'\n\n')
    dataset = _dataset(path, num_classes=2)
    assert _labels(dataset) == [0, 1]
    unlabelled = _write(tmp_path, 'a.mp4\nb.mp4\n', 'infer.txt')
    assert _labels(_dataset(unlabelled, test_mode=True)) == [-1, -1]
    multi = _write(tmp_path, 'a.mp4 0 2\nb.mp4 1\n', 'multi.txt')
    with pytest.raises(AnnotationError, match=r'multi.txt:1: label 2'):
        _dataset(multi, multi_class=True, num_classes=2)
    assert len(_dataset(multi, multi_class=True, num_classes=3)) == 2


@pytest.mark.parametrize(
    'names, line, message',
    [
        (b'abseiling\nabseiling\n', 2,
         "duplicate class name 'abseiling' \\(first on line 1\\)"),
        (b'abseiling\n\narchery\n', 2, 'empty class name'),
        (b'abseiling\narch\xffery\n', 2, 'byte 0xff at offset 14'),
    ],
    ids=['duplicate', 'empty', 'non-utf8'])
def test_bad_class_name_files(tmp_path, names, line, message):
    ann = _write(tmp_path, GOOD)
    names_file = _write(tmp_path, names, 'classes.txt')
    with pytest.raises(ValueError,
                       match=f'^{re.escape(names_file)}:{line}: {message}'):
        _dataset(ann, class_names=names_file)


def test_labels_checked_against_the_class_name_file(tmp_path):
    ann = _write(tmp_path, GOOD + 'c.mp4 2\n')
    names = _write(tmp_path, 'abseiling\narchery\n', 'classes.txt')
    with pytest.raises(
            AnnotationError,
            match=f'list.txt:3: label 2 .* {re.escape(names)} has 2 class '
            'names'):
        _dataset(ann, class_names=names)
    three = _write(tmp_path, 'abseiling\narchery\nbowling\n', 'three.txt')
    dataset = _dataset(ann, class_names=three)
    assert dataset.metainfo['classes'] == ('abseiling', 'archery', 'bowling')
    with pytest.raises(ValueError, match='num_classes=4 but .* has 3 class'):
        _dataset(ann, class_names=three, num_classes=4)


def test_classifier_rows_must_match_num_classes(tmp_path):
    clf = save_classifier_tensor(tmp_path / 'clf.pt', 3, 32)
    head = dict(type='FrozenClassifierHead', num_classes=2, in_channels=32,
                classifier=clf)
    with pytest.raises(ValueError,
                       match=f'{re.escape(clf)} has 3 classes \\(rows\\) but '
                       'num_classes=2'):
        MODELS.build(head)


def test_labels_checked_against_the_model_before_training(tmp_path):
    """No class information on the dataset: the hook compares its labels
    with the model's classes before the first step."""
    root = str(tmp_path / 'videos')
    ann_file = make_tiny_videos(root, num_videos=3, num_classes=3)
    cfg = Config.fromfile(TINY_CFG)
    for split in ('train', 'val'):
        cfg.merge_from_dict({
            f'{split}_dataloader.dataset.ann_file': ann_file,
            f'{split}_dataloader.dataset.data_prefix.video': root
        })
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    with pytest.raises(
            AnnotationError,
            match=f'annotations.txt:3: label 2 .* the model has 2 classes'):
        runner.train()
    torch.use_deterministic_algorithms(False)  # set by the recipe
    assert runner.iter == 0
    assert not osp.exists(tmp_path / 'work' / 'epoch_1.pth')


def test_long_class_names_are_truncated_with_a_warning(tmp_path):
    from t4v_mmaction.models.classifiers import (build_lm_classifier,
                                                 build_text_classifier)
    long_name = ' '.join(['juggling'] * 90)
    with pytest.warns(UserWarning, match=r"class 1 \('juggling juggling"):
        lm = build_lm_classifier(['archery', long_name], max_length=16)
    tiny_clip = dict(
        embed_dim=16,
        vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=16),
        text_cfg=dict(context_length=77, vocab_size=49408, width=32,
                      heads=2, layers=1))
    config = tmp_path / 'tiny-clip.json'
    config.write_text(json.dumps(tiny_clip))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        clip = build_text_classifier(['archery', long_name],
                                     model=str(config))
    assert any('77-token context and was truncated' in str(w.message)
               for w in caught)
    assert torch.isfinite(lm).all() and torch.isfinite(clip).all()
    assert lm.shape == (2, 384) and clip.shape == (2, 16)


def test_names_equal_after_truncation_are_refused(tmp_path):
    """Names that differ only after the text encoder's context (or
    max_length) would give identical classifier rows."""
    from t4v_mmaction.models.classifiers import (build_lm_classifier,
                                                 build_text_classifier)
    long = ' '.join(['juggling'] * 80)
    names = tmp_path / 'names.txt'
    names.write_text(f'archery\n{long} balls\n{long} clubs\n')
    tiny_clip = dict(
        embed_dim=16,
        vision_cfg=dict(image_size=32, layers=1, width=32, patch_size=16),
        text_cfg=dict(context_length=77, vocab_size=49408, width=32,
                      heads=2, layers=1))
    config = tmp_path / 'tiny-clip.json'
    config.write_text(json.dumps(tiny_clip))
    message = (r'names.txt:3: class .* and .* \(.*names.txt:2\) give the '
               'same tokens')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(ValueError, match=message):
            build_text_classifier(str(names), model=str(config))
        with pytest.raises(ValueError, match=message):
            build_lm_classifier(str(names), max_length=16)


def test_zero_shot_test_with_the_training_classifier_stops(tmp_path):
    """A test list and class names swapped for another label set while the
    classifier still holds the training classes: testing stops before the
    first batch, naming both class-name files."""
    root = str(tmp_path / 'videos')
    ann_file = make_tiny_videos(root, num_videos=4, num_classes=2)
    seen = tmp_path / 'seen.txt'
    seen.write_text('archery\nbowling\n')
    unseen = tmp_path / 'unseen.txt'
    unseen.write_text('cycling\ndiving\n')
    cfg = Config.fromfile(TINY_CFG)
    cfg.merge_from_dict({
        'model.cls_head.num_classes': None,
        'model.cls_head.classifier': dict(type='random', dim=32,
                                          classes=str(seen)),
        'test_dataloader.dataset.ann_file': ann_file,
        'test_dataloader.dataset.data_prefix.video': root,
        'test_dataloader.dataset.class_names': str(unseen),
    })
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    seen_batches = []
    runner.register_hook(_BatchRecorder(seen_batches))
    with pytest.raises(ValueError, match=rf'unseen.txt\) are not the classes '
                       rf".*random classifier of .*seen.txt.*class 0 is "
                       rf"'cycling' in the dataset but 'archery'"):
        runner.test()
    assert not seen_batches
    # with the classifier of the test classes it runs
    runner.model.cls_head.set_classifier(
        dict(type='random', classes=str(unseen)))
    assert 'acc/top1' in runner.test()
    assert seen_batches


class _BatchRecorder(Hook):

    def __init__(self, seen):
        self.seen = seen

    def before_test_iter(self, runner, batch_idx, data_batch=None):
        self.seen.append(batch_idx)
