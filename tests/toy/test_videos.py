"""The toy video generator: rendered content matches the class names, the
split is compositional, files are consistent, output is deterministic."""
import importlib.util
import json
import os
import os.path as osp

import cv2
import decord
import numpy as np
import pytest

from t4v_mmaction.toy.videos import (COLOR_RGB, MOTIONS, SHAPES,
                                              class_name, make_toy_dataset,
                                              render_video, toy_class_names,
                                              toy_classes, write_video)

SIZE = 64
TINY = dict(videos_per_class=1, val_per_class=1, zeroshot_per_class=1,
            num_frames=6, size=32)
from _paths import TOOLS

TOOL = osp.join(TOOLS,
                'make_toy_dataset.py')


def _render(color, shape, motion, seed=0, **kwargs):
    return render_video(color, shape, motion, np.random.default_rng(seed),
                        **kwargs)


def _masks(frames, color):
    """Per-frame boolean masks of pixels close to a palette colour."""
    dist = np.linalg.norm(
        frames.astype(np.float32) - np.array(COLOR_RGB[color]), axis=-1)
    return dist < 60


def _centroids(masks):
    ys, xs = np.mgrid[:masks.shape[1], :masks.shape[2]]
    area = masks.sum((1, 2))
    return (np.stack([(masks * xs).sum((1, 2)), (masks * ys).sum((1, 2))], 1)
            / area[:, None], area)


def _fill_ratio(mask):
    """Mask area over the area of the min-area rectangle of its pixels."""
    corners = np.argwhere(mask)[:, None, ::-1] + np.array(
        [[0, 0], [0, 1], [1, 0], [1, 1]])  # every corner of every pixel
    (_, _), (w, h), _ = cv2.minAreaRect(
        corners.reshape(-1, 2).astype(np.float32))
    return mask.sum() / (w * h)


@pytest.fixture(scope='module')
def tiny_dataset(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('toy') / 'ds')
    return out, make_toy_dataset(out, seed=0, workers=2, **TINY)


def test_default_split_is_compositional():
    seen, unseen = toy_classes()
    assert (len(seen), len(unseen)) == (36, 18)
    assert not set(seen) & set(unseen)
    for comp in unseen:
        for a, b in ((0, 1), (0, 2), (1, 2)):
            assert any(s[a] == comp[a] and s[b] == comp[b] for s in seen), (
                comp, a, b)
    names_seen, names_unseen = toy_class_names()
    assert names_seen[0] == 'a red circle moving to the right'
    assert 'a blue triangle moving up' in names_unseen
    assert names_unseen == [class_name(*c) for c in unseen]


def test_spinning_circle_is_never_a_class():
    seen, unseen = toy_classes(motions=MOTIONS)
    comps = seen + unseen
    assert len(comps) == 3 * 3 * 7 - 3
    assert ('red', 'circle', 'spinning') not in comps
    assert ('red', 'square', 'spinning') in comps


@pytest.mark.parametrize('kwargs, match', [
    (dict(colors=('red', )), 'at least 2'),
    (dict(colors=('red', 'purple')), 'unknown colors'),
    (dict(motions=('moving up', 'moving up')), 'distinct'),
    (dict(holdout=1), 'holdout'),
])
def test_toy_classes_rejects_bad_vocabulary(kwargs, match):
    with pytest.raises(ValueError, match=match):
        toy_classes(**kwargs)


@pytest.mark.parametrize('args, match', [
    (('purple', 'circle', 'growing'), 'purple'),
    (('red', 'hexagon', 'growing'), 'hexagon'),
    (('red', 'circle', 'jumping'), 'jumping'),
    (('red', 'circle', 'spinning'), 'spinning circle'),
])
def test_render_video_rejects_bad_attributes(args, match):
    with pytest.raises(ValueError, match=match):
        _render(*args)


def test_render_video_is_deterministic():
    video = _render('blue', 'triangle', 'spinning', seed=3)
    assert video.shape == (16, SIZE, SIZE, 3) and video.dtype == np.uint8
    np.testing.assert_array_equal(
        video, _render('blue', 'triangle', 'spinning', seed=3))
    other = _render('blue', 'triangle', 'spinning', seed=4)
    assert np.abs(video.astype(int) - other).mean() > 5


@pytest.mark.parametrize('color', sorted(COLOR_RGB))
@pytest.mark.parametrize('motion', ['moving down', 'shrinking'])
@pytest.mark.parametrize('seed', range(3))
def test_dominant_colour_is_the_named_one(color, motion, seed):
    # The distractor always has another colour, so the object must win.
    frames = _render(color, 'square', motion, seed=seed)
    counts = {c: _masks(frames, c).sum() for c in COLOR_RGB}
    assert max(counts, key=counts.get) == color, counts
    assert counts[color] > 1.3 * max(v for c, v in counts.items()
                                     if c != color)


@pytest.mark.parametrize('motion, direction', [
    ('moving to the left', (-1, 0)),
    ('moving to the right', (1, 0)),
    ('moving up', (0, -1)),
    ('moving down', (0, 1)),
])
@pytest.mark.parametrize('shape', SHAPES)
def test_centroid_moves_in_the_named_direction(motion, direction, shape):
    for seed in range(3):
        cents, area = _centroids(_masks(_render('red', shape, motion, seed),
                                        'red'))
        along = cents @ np.array(direction, dtype=float)
        across = cents @ np.array(direction[::-1], dtype=float)
        assert along[-1] - along[0] > 0.2 * SIZE  # travels 25-40%
        assert np.all(np.diff(along) > 0)  # steadily
        assert abs(across[-1] - across[0]) < 0.06 * SIZE
        assert area.max() < 1.25 * area.min()


@pytest.mark.parametrize('motion', ['growing', 'shrinking'])
@pytest.mark.parametrize('shape', SHAPES)
def test_area_grows_or_shrinks_in_place(motion, shape):
    for seed in range(3):
        cents, area = _centroids(
            _masks(_render('green', shape, motion, seed), 'green'))
        ratio = area[-1] / area[0]
        trend = np.corrcoef(np.arange(len(area)), np.log(area))[0, 1]
        if motion == 'growing':
            assert ratio > 2.8 and trend > 0.98  # steady; pixel counts jitter
        else:
            assert ratio < 1 / 2.8 and trend < -0.98
        assert np.abs(cents - cents[0]).max() < 1.0


@pytest.mark.parametrize('shape', ['square', 'triangle'])
def test_spinning_keeps_place_but_turns(shape):
    for seed in range(3):
        masks = _masks(_render('blue', shape, 'spinning', seed), 'blue')
        cents, area = _centroids(masks)
        assert np.abs(cents - cents[0]).max() < 1.0
        assert area.max() < 1.2 * area.min()
        iou = [(masks[0] & m).sum() / (masks[0] | m).sum() for m in masks]
        assert min(iou) < 0.75  # the outline really changes
        # A still shape keeps its mask: the change comes from turning.
        still = _masks(_render('blue', shape, 'growing', seed), 'blue')
        assert (still[0] & still[1]).sum() / still[0].sum() > 0.9


@pytest.mark.parametrize('motion', ['moving up', 'growing', 'spinning'])
def test_shapes_are_told_apart_by_fill_ratio(motion):
    # Of its min-area rectangle a circle fills pi/4, a square 1, a triangle
    # 1/2; rendered at 128 px so that pixelation stays small.
    expected = dict(circle=(0.70, 0.85), square=(0.85, 1.01),
                    triangle=(0.45, 0.60))
    for shape, (low, high) in expected.items():
        if shape == 'circle' and motion == 'spinning':
            continue
        for seed in range(3):
            frames = _render('yellow', shape, motion, seed, size=128)
            for mask in _masks(frames[::5], 'yellow'):
                assert low < _fill_ratio(mask) < high, (shape, seed)


def test_written_video_decodes_to_the_rendered_frames(tmp_path):
    frames = _render('red', 'triangle', 'moving up', num_frames=12, size=40)
    path = str(tmp_path / 'clip.mp4')
    write_video(path, frames)
    reader = decord.VideoReader(path)
    decoded = reader.get_batch(list(range(len(reader)))).asnumpy()
    assert decoded.shape == (12, 40, 40, 3)
    assert np.abs(decoded.astype(int) - frames).mean() < 6  # lossy codec
    cents, _ = _centroids(_masks(decoded, 'red'))
    assert cents[-1, 1] < cents[0, 1] - 0.2 * 40


def test_dataset_files_are_consistent(tiny_dataset):
    out, manifest = tiny_dataset
    seen, unseen = toy_class_names()
    with open(osp.join(out, 'classes_seen.txt')) as f:
        assert f.read().splitlines() == seen
    with open(osp.join(out, 'classes_unseen.txt')) as f:
        assert f.read().splitlines() == unseen
    assert manifest['num_classes'] == dict(seen=36, unseen=18)
    assert manifest['counts'] == dict(train=36, val=36, zeroshot=18)
    with open(osp.join(out, 'manifest.json')) as f:
        assert json.load(f) == manifest and manifest['complete']
    assert not set(seen) & set(unseen)
    comps = manifest['compositions']
    assert [class_name(*c) for c in comps['unseen']] == unseen
    for comp in comps['unseen']:  # every attribute value was seen
        for k, value in enumerate(comp):
            assert any(c[k] == value for c in comps['seen']), value
    for split, names in (('train', seen), ('val', seen),
                         ('zeroshot', unseen)):
        with open(osp.join(out, f'{split}_list.txt')) as f:
            lines = [line.split() for line in f.read().splitlines()]
        assert len(lines) == manifest['counts'][split]
        assert sorted(int(label) for _, label in lines) == list(
            range(len(names)))
        for path, label in lines:
            folder = path.split('/')[1]
            assert folder == names[int(label)].replace(' ', '_')
            assert osp.isfile(osp.join(out, 'videos', path))
    reader = decord.VideoReader(osp.join(out, 'videos', path))
    assert len(reader) == TINY['num_frames']
    assert reader[0].shape == (32, 32, 3)


def test_dataset_is_deterministic(tiny_dataset, tmp_path):
    out, manifest = tiny_dataset
    same = make_toy_dataset(str(tmp_path / 'same'), seed=0, workers=1,
                            **TINY)
    other = make_toy_dataset(str(tmp_path / 'other'), seed=1, workers=1,
                             **TINY)
    assert same == manifest and other['counts'] == manifest['counts']
    with open(osp.join(out, 'train_list.txt')) as f:
        paths = [line.split()[0] for line in f]
    n_diff = 0
    for rel in ['train_list.txt'] + ['videos/' + p for p in paths[:5]]:
        with open(osp.join(out, rel), 'rb') as f:
            data = f.read()
        with open(osp.join(tmp_path, 'same', rel), 'rb') as f:
            assert f.read() == data, rel
        with open(osp.join(tmp_path, 'other', rel), 'rb') as f:
            n_diff += f.read() != data
    assert n_diff == 5  # every video differs, the list does not


def test_make_toy_dataset_is_idempotent(tmp_path):
    out = str(tmp_path / 'ds')
    kwargs = dict(TINY, workers=1)
    first = make_toy_dataset(out, **kwargs)
    video = osp.join(out, 'videos', 'zeroshot',
                     'a_red_circle_moving_to_the_left', '000.mp4')
    stamp = os.stat(video).st_mtime_ns
    assert make_toy_dataset(out, **kwargs) == first
    assert os.stat(video).st_mtime_ns == stamp  # nothing rewritten

    os.remove(video)  # incomplete: regenerated
    assert make_toy_dataset(out, **kwargs) == first and osp.isfile(video)

    kwargs['zeroshot_per_class'] = 2  # other settings: replaced
    second = make_toy_dataset(out, **kwargs)
    assert second['counts']['zeroshot'] == 36
    assert second['settings']['zeroshot_per_class'] == 2


def test_make_toy_dataset_refuses_foreign_folder(tmp_path):
    (tmp_path / 'notes.txt').write_text('not a toy dataset')
    with pytest.raises(FileExistsError, match='manifest.json'):
        make_toy_dataset(str(tmp_path), **TINY)

@pytest.mark.parametrize('kwargs, match', [
    (dict(videos_per_class=0), 'videos_per_class'),
    (dict(size=48), 'decord'),  # dmlc/decord#336: read as 4 channels
    (dict(size=33), 'even'),
    (dict(num_frames=1), 'num_frames'),
    (dict(seed=-1), 'seed'),
    (dict(colors=('red', 'red')), 'distinct'),
])
def test_make_toy_dataset_rejects_bad_settings(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_toy_dataset(str(tmp_path / 'ds'), **kwargs)
    assert not osp.exists(tmp_path / 'ds')


def test_cli_writes_then_skips(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('make_toy_dataset', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    argv = [str(tmp_path / 'ds'), '--seed', '2', '--videos-per-class', '1',
            '--val-per-class', '1', '--zeroshot-per-class', '1',
            '--num-frames', '4', '--size', '32', '--workers', '1']
    manifest = tool.main(argv)
    assert manifest['settings']['seed'] == 2
    assert manifest['counts'] == dict(train=36, val=36, zeroshot=18)
    assert '36 seen and 18 unseen' in capsys.readouterr().out
    assert tool.main(argv) == manifest


def test_mmaction_video_dataset_reads_the_lists(tiny_dataset):
    from mmaction.datasets import VideoDataset
    out, manifest = tiny_dataset
    pipeline = [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=4,
             test_mode=True),
        dict(type='DecordDecode')
    ]
    dataset = VideoDataset(ann_file=osp.join(out, 'zeroshot_list.txt'),
                           data_prefix=dict(video=osp.join(out, 'videos')),
                           pipeline=pipeline, test_mode=True)
    assert len(dataset) == manifest['counts']['zeroshot']
    sample = dataset[17]
    assert sample['label'] == 17
    assert sample['total_frames'] == TINY['num_frames']
    assert len(sample['imgs']) == 4 and sample['imgs'][0].shape == (32, 32,
                                                                     3)
