import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

import t4v_mmaction  # noqa: F401  (registers the metrics)
from mmaction.evaluation.functional import \
    mean_class_accuracy as mmaction_mean_class_accuracy
from mmaction.registry import METRICS
from t4v_mmaction.evaluation import (ClsMAPMetric, ZeroShotMetric,
                                     half_class_splits, mean_average_precision,
                                     mean_class_accuracy, split_accuracy)


def _original_half_class(num_classes, seed):
    """The few lines of Text4Vis' test_zeroshot.py (global numpy seed)."""
    np.random.seed(seed)
    return np.random.permutation(num_classes)[:num_classes // 2]


def _original_split_acc(scores, labels, sel_classes, topk):
    """Text4Vis relabelling + softmax + top-k, written out."""
    sel = np.array([l in sel_classes for l in labels])
    subclasses = np.unique(labels[sel])
    tl = np.array([int(np.where(l == subclasses)[0][0]) for l in labels[sel]])
    logits = 100 * scores[sel][:, subclasses]
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    order = np.argsort(-probs, axis=1)
    return [np.mean([t in o[:k] for t, o in zip(tl, order)]) for k in topk]


def _random_problem(n=300, k=20, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
    scores = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[labels]
    return scores, labels


def _samples(scores, labels):
    return [
        dict(
            pred_score=torch.from_numpy(s).float(),
            gt_label=torch.tensor([int(l)])) for s, l in zip(scores, labels)
    ]


def _evaluate(metric, scores, labels, batch=7):
    samples = _samples(scores, labels)
    for i in range(0, len(samples), batch):
        metric.process(None, samples[i:i + batch])
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('num_classes', [51, 101, 200])
def test_half_class_splits_equal_original(num_classes):
    state = np.random.get_state()
    ours = half_class_splits(num_classes)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1])
    assert len(ours) == 10
    for seed, split in enumerate(ours):
        np.testing.assert_array_equal(split,
                                      _original_half_class(num_classes, seed))
        assert len(split) == num_classes // 2
    custom = half_class_splits(num_classes, 3, seeds=[7, 8, 9])
    np.testing.assert_array_equal(custom[1],
                                  _original_half_class(num_classes, 8))


def test_half_class_splits_bad_arguments():
    with pytest.raises(ValueError, match='seeds'):
        half_class_splits(10, 3, seeds=[1, 2])
    with pytest.raises(ValueError, match='2 classes'):
        half_class_splits(1)


def test_split_accuracy_hand_computed():
    # 4 classes; videos of classes 0, 2, 2, 3; select classes {2, 3, 1}
    scores = np.array([
        [9., 0., 0., 0.],  # class 0: dropped
        [0., 5., 1., 2.],  # class 2: best among {2, 3} is 3 -> wrong top-1
        [0., 0., 3., 1.],  # class 2: right
        [0., 9., 1., 2.],  # class 3: right (class 1 has no video: unscored)
    ])
    labels = np.array([0, 2, 2, 3])
    top1, top2 = split_accuracy(scores, labels, [2, 3, 1], topk=(1, 2))
    assert top1 == pytest.approx(2 / 3)
    assert top2 == 1.0
    assert np.isnan(split_accuracy(scores, labels, [1], (1, ))[0])


def test_split_accuracy_equals_original_relabel():
    scores, labels = _random_problem(k=51)
    for split in half_class_splits(51):
        ours = split_accuracy(scores, labels, split, (1, 5))
        np.testing.assert_allclose(
            ours, _original_split_acc(scores, labels, split, (1, 5)))


def test_zero_shot_metric_population_std():
    scores, labels = _random_problem(n=400, k=40, seed=1)
    res = _evaluate(ZeroShotMetric(), scores, labels)
    per_split = np.array([
        _original_split_acc(scores, labels, _original_half_class(40, s),
                            (1, 5)) for s in range(10)
    ])
    assert res['zeroshot/half_top1_mean'] == pytest.approx(per_split[:,
                                                                     0].mean())
    assert res['zeroshot/half_top1_std'] == pytest.approx(per_split[:, 0].std(
        ddof=0))
    assert res['zeroshot/half_top1_std'] != pytest.approx(per_split[:, 0].std(
        ddof=1))
    assert res['zeroshot/half_top5_std'] == pytest.approx(per_split[:, 1].std(
        ddof=0))
    full1 = np.mean(scores.argmax(1) == labels)
    assert res['zeroshot/full_top1'] == pytest.approx(full1)
    assert 0 < res['zeroshot/full_top1'] < res['zeroshot/full_top5'] < 1
    assert res['zeroshot/num_samples'] == 400
    assert set(res) == {
        'zeroshot/full_top1', 'zeroshot/full_top5', 'zeroshot/half_top1_mean',
        'zeroshot/half_top1_std', 'zeroshot/half_top5_mean',
        'zeroshot/half_top5_std', 'zeroshot/num_samples'
    }


def test_zero_shot_metric_options():
    scores, labels = _random_problem(k=10)
    half = _evaluate(
        ZeroShotMetric(num_splits=3, topk=(1, ), full_class=False), scores,
        labels)
    assert set(half) == {
        'zeroshot/half_top1_mean', 'zeroshot/half_top1_std',
        'zeroshot/num_samples'
    }
    full = _evaluate(
        ZeroShotMetric(half_class=False, prefix='k600'), scores, labels)
    assert set(full) == {
        'k600/full_top1', 'k600/full_top5', 'k600/num_samples'
    }
    with pytest.raises(ValueError, match='full_class'):
        ZeroShotMetric(full_class=False, half_class=False)


def test_map_equals_sklearn_macro():
    scores, labels = _random_problem(n=200, k=12, seed=3)
    one_hot = np.eye(12)[labels]
    expected = average_precision_score(one_hot, scores, average='macro')
    assert mean_average_precision(scores, labels) == pytest.approx(expected)
    # ties are grouped into one threshold, as sklearn does
    coarse = np.round(scores)
    assert mean_average_precision(coarse, labels) == pytest.approx(
        average_precision_score(one_hot, coarse, average='macro'))


def test_map_skips_classes_without_positives():
    scores, labels = _random_problem(n=100, k=6, seed=4)
    keep = labels != 5
    scores, labels = scores[keep], labels[keep]
    expected = average_precision_score(
        np.eye(6)[labels][:, :5], scores[:, :5], average='macro')
    assert mean_average_precision(scores, labels) == pytest.approx(expected)


def test_map_hand_computed():
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])
    labels = np.array([0, 1, 0, 1])
    # class 0: positives at ranks 1, 3 -> (1 + 2/3) / 2
    # class 1: scores rank videos 3, 2, 1, 0 -> positives at ranks 1, 3
    assert mean_average_precision(scores, labels) == pytest.approx(5 / 6)


def test_mean_class_accuracy_ignores_classes_without_videos():
    scores = np.eye(3)[[0, 0, 2, 1]]  # predictions 0, 0, 2, 1
    labels = np.array([0, 1, 1, 1])  # class 2 is predicted but has no video
    assert mean_class_accuracy(scores, labels) == pytest.approx(
        (1 + 1 / 3) / 2)
    # mmaction2's version averages over the union and counts class 2 as 0
    assert mmaction_mean_class_accuracy(scores, labels) == pytest.approx(
        (1 + 1 / 3 + 0) / 3)


def test_perfect_predictions_are_exactly_one():
    labels = np.repeat(np.arange(10), 3)
    scores = np.eye(10)[labels] + 0.01 * np.arange(10)
    zs = _evaluate(ZeroShotMetric(), scores, labels)
    assert zs['zeroshot/full_top1'] == 1.0
    assert zs['zeroshot/half_top1_mean'] == 1.0
    assert zs['zeroshot/half_top1_std'] == 0.0
    cls = _evaluate(ClsMAPMetric(), scores, labels)
    assert cls == {
        'cls/mAP': 1.0,
        'cls/top1': 1.0,
        'cls/top5': 1.0,
        'cls/mean_class_accuracy': 1.0,
        'cls/num_samples': 30
    }


def test_cls_map_metric_random_values():
    scores, labels = _random_problem(n=150, k=15, seed=5)
    res = _evaluate(ClsMAPMetric(topk=(1, 3)), scores, labels)
    assert res['cls/mAP'] == pytest.approx(
        average_precision_score(np.eye(15)[labels], scores, average='macro'))
    assert res['cls/top1'] == pytest.approx(
        np.mean(scores.argmax(1) == labels))
    assert 0 < res['cls/top1'] < res['cls/top3'] < 1
    assert res['cls/num_samples'] == 150


def test_registry_and_errors():
    import mmaction.evaluation  # noqa: F401  (registers mmaction's metrics)
    assert isinstance(
        METRICS.build(dict(type='ZeroShotMetric')), ZeroShotMetric)
    assert isinstance(METRICS.build(dict(type='ClsMAPMetric')), ClsMAPMetric)
    assert METRICS.get('AccMetric').__module__.startswith('mmaction.')
    metric = ClsMAPMetric()
    with pytest.raises(ValueError, match='single-label'):
        metric.process(
            None,
            [dict(pred_score=torch.rand(3), gt_label=torch.tensor([0, 1, 1]))])
    with pytest.raises(ValueError, match='integers'):
        mean_average_precision(np.zeros((2, 2)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r'\[0, 2\)'):
        mean_class_accuracy(np.zeros((2, 2)), np.array([0, 2]))
