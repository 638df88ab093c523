import numpy as np
import pytest

import t4v_mmaction  # noqa: F401  (registers the transform)
from mmaction.registry import TRANSFORMS
from t4v_mmaction.datasets.transforms import SegmentSampleFrames


def _reference_train(n, T, loop=False):
    """Text4Vis training rule (notes §6.2), global numpy RNG."""
    if n <= T:
        if loop:
            return np.mod(np.arange(T) + np.random.randint(n // 2), n)
        fill = np.random.randint(n, size=T - n)
        return np.sort(np.concatenate((np.arange(n), fill)))
    ticks = [i * n // T for i in range(T + 1)]
    out = []
    for i in range(T):
        out.append(ticks[i] + np.random.randint(ticks[i + 1] - ticks[i]))
    return np.array(out)


def _reference_test(n, T, clips):
    """Text4Vis test rule with numpy 1.x ``linspace(dtype=int)``
    (truncation toward zero)."""
    tick = n / float(T)
    starts = [int(s) for s in np.linspace(0, tick - 1, num=clips)]
    return np.array([int(s + tick * x) % n for s in starts for x in range(T)])


def _sample(transform, n, start_index=0):
    return transform(dict(total_frames=n, start_index=start_index))


@pytest.mark.parametrize('n, T, clips, expected', [
    (80, 8, 1, [0, 10, 20, 30, 40, 50, 60, 70]),
    (10, 8, 1, [0, 1, 2, 3, 5, 6, 7, 8]),
    (5, 8, 1, [0, 0, 1, 1, 2, 3, 3, 4]),
    (80, 8, 4, [s + 10 * x for s in (0, 3, 6, 9) for x in range(8)]),
    (16, 4, 2, [0, 4, 8, 12, 3, 7, 11, 15]),
])
def test_test_mode_hand_computed(n, T, clips, expected):
    t = SegmentSampleFrames(num_segments=T, num_clips=clips, test_mode=True)
    out = _sample(t, n)
    np.testing.assert_array_equal(out['frame_inds'], expected)
    assert out['frame_inds'].dtype == np.int32
    assert out['clip_len'] == T and out['num_clips'] == clips
    assert out['frame_interval'] is None
    # start_index shifts every index (1 for mmaction2 raw frames)
    np.testing.assert_array_equal(
        _sample(t, n, start_index=1)['frame_inds'],
        np.array(expected) + 1)


@pytest.mark.parametrize('T', [8, 16])
@pytest.mark.parametrize('clips', [1, 2, 3, 4])
def test_test_mode_matches_original(T, clips):
    t = SegmentSampleFrames(num_segments=T, num_clips=clips, test_mode=True)
    for n in range(1, 300):
        np.testing.assert_array_equal(
            _sample(t, n)['frame_inds'],
            _reference_test(n, T, clips),
            err_msg=f'n={n}')


@pytest.mark.parametrize('opt', ['random_fill', 'loop'])
@pytest.mark.parametrize('T', [8, 16])
def test_train_mode_matches_original_draws(opt, T):
    t = SegmentSampleFrames(num_segments=T, out_of_bound_opt=opt)
    lengths = range(2, 200)  # n=1 with 'loop' crashes the original
    np.random.seed(123)
    ours = [_sample(t, n)['frame_inds'] for n in lengths]
    np.random.seed(123)
    ref = [_reference_train(n, T, loop=opt == 'loop') for n in lengths]
    for n, a, b in zip(lengths, ours, ref):
        np.testing.assert_array_equal(a, b, err_msg=f'n={n}')


def test_train_one_frame_per_segment():
    np.random.seed(0)
    t = SegmentSampleFrames(num_segments=8)
    n = 83
    ticks = [i * n // 8 for i in range(9)]
    seen = set()
    for _ in range(200):
        inds = _sample(t, n)['frame_inds']
        assert inds.shape == (8, )
        for i, ind in enumerate(inds):
            assert ticks[i] <= ind < ticks[i + 1]
        seen.update(inds.tolist())
    # every frame of the video is reachable
    assert seen == set(range(n))


def test_train_short_video_and_clips():
    np.random.seed(0)
    t = SegmentSampleFrames(num_segments=8, num_clips=3)
    inds = _sample(t, 5)['frame_inds']
    assert inds.shape == (24, )
    for clip in inds.reshape(3, 8):
        assert set(range(5)) <= set(clip.tolist())  # all frames kept
        assert np.all(np.diff(clip) >= 0)  # sorted
    one = SegmentSampleFrames(num_segments=4, out_of_bound_opt='loop')
    np.testing.assert_array_equal(_sample(one, 1)['frame_inds'], [0] * 4)


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_segments'):
        SegmentSampleFrames(num_segments=0)
    with pytest.raises(ValueError, match='num_clips'):
        SegmentSampleFrames(num_clips=0)
    with pytest.raises(ValueError, match='out_of_bound_opt'):
        SegmentSampleFrames(out_of_bound_opt='repeat_last')
    with pytest.raises(ValueError, match='0 frames'):
        SegmentSampleFrames().transform(
            dict(total_frames=0, start_index=0, filename='x.mp4'))


def test_registered_and_repr():
    t = TRANSFORMS.build(
        dict(type='SegmentSampleFrames', num_segments=4, test_mode=True))
    assert isinstance(t, SegmentSampleFrames)
    assert repr(t) == ("SegmentSampleFrames(num_segments=4, num_clips=1, "
                       "test_mode=True, out_of_bound_opt='random_fill')")


def test_decord_pipeline_decodes_the_sampled_frames(tmp_path):
    cv2 = pytest.importorskip('cv2')
    pytest.importorskip('decord')
    path = str(tmp_path / 'ramp.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (32, 32))
    for i in range(20):  # frame i is uniformly grey at level 10 * i
        writer.write(np.full((32, 32, 3), 10 * i, np.uint8))
    writer.release()
    pipeline = [
        TRANSFORMS.build(cfg) for cfg in [
            dict(type='DecordInit'),
            dict(
                type='SegmentSampleFrames',
                num_segments=4,
                num_clips=2,
                test_mode=True),
            dict(type='DecordDecode'),
            dict(type='Resize', scale=(-1, 32)),
            dict(type='ThreeCrop', crop_size=32),
            dict(type='FormatShape', input_format='NCTHW'),
        ]
    ]
    results = dict(filename=path, start_index=0, modality='RGB')
    for t in pipeline:
        results = t(results)
    imgs = results['imgs']
    assert imgs.shape == (2 * 3, 3, 4, 32, 32)  # clips*crops, C, T, H, W
    # tick = 5, starts linspace(0, 4, 2) -> 0, 4
    expected = np.array([[0, 5, 10, 15], [4, 9, 14, 19]]) * 10
    levels = imgs.reshape(3, 2, 3, 4, -1).mean(axis=(0, 2, 4))  # (clips, T)
    np.testing.assert_allclose(levels, expected, atol=6)
