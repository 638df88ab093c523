import random
from collections import Counter

import numpy as np
import pytest
import torch

import t4v_mmaction  # noqa: F401  (registers the dataset)
from mmaction.registry import DATASETS
from t4v_mmaction.datasets import AnnotationError, FewShotDataset
from t4v_mmaction.datasets import few_shot_dataset

# class c has 3 + c videos, except class 4 which has a single video
COUNTS = {0: 3, 1: 4, 2: 5, 3: 6, 4: 1}


@pytest.fixture
def ann_file(tmp_path):
    lines = []
    for i in range(max(COUNTS.values())):
        for c, n in COUNTS.items():  # classes interleaved in the list
            if i < n:
                lines.append(f'class_{c}/video_{c}_{i}.mp4 {c}')
    path = tmp_path / 'train_list.txt'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def _cfg(ann_file, serialize_data=False, **kwargs):
    # serialize_data=False skips mmengine's slow gc.collect(); one test
    # keeps the default to cover serialized datasets
    inner = dict(
        type='VideoDataset',
        ann_file=ann_file,
        pipeline=[],
        data_prefix=dict(video='/data/videos'),
        serialize_data=serialize_data)
    return dict(type='FewShotDataset', dataset=inner, **kwargs)


def _labels(ds):
    return [ds.dataset.get_data_info(i)['label'] for i in ds.subset_indices]


def test_k_per_class_and_short_class_warning(ann_file, monkeypatch):
    logged = []
    monkeypatch.setattr(few_shot_dataset, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    ds = DATASETS.build(_cfg(ann_file, shots=2, seed=0))
    assert isinstance(ds, FewShotDataset)
    assert Counter(_labels(ds)) == {0: 2, 1: 2, 2: 2, 3: 2, 4: 1}
    assert len(ds) == 9
    assert ds.subset_indices == sorted(set(ds.subset_indices))
    assert any('1 classes have fewer than 2 videos' in m for m in logged)


def test_same_subset_whatever_the_global_rng(ann_file):
    subsets = []
    for state in (0, 1, 2):  # stands for the RNG state of different ranks
        np.random.seed(state)
        random.seed(state)
        torch.manual_seed(state)
        np.random.rand(state + 1)
        subsets.append(DATASETS.build(_cfg(ann_file, shots=2)).subset_indices)
    assert subsets[0] == subsets[1] == subsets[2]


def test_non_main_rank_draws_the_same_and_does_not_export(
        ann_file, tmp_path, monkeypatch):
    export = tmp_path / 'subset.txt'
    rank0 = DATASETS.build(_cfg(ann_file, shots=3, seed=5))
    monkeypatch.setattr(few_shot_dataset, 'is_main_process', lambda: False)
    np.random.seed(1234)
    random.seed(1234)
    rank1 = DATASETS.build(
        _cfg(ann_file, shots=3, seed=5, export_file=str(export)))
    assert rank1.subset_indices == rank0.subset_indices
    assert not export.exists()


def test_seed_controls_the_draw(ann_file):
    a = DATASETS.build(_cfg(ann_file, shots=2, seed=0)).subset_indices
    b = DATASETS.build(_cfg(ann_file, shots=2, seed=0)).subset_indices
    others = [
        DATASETS.build(_cfg(ann_file, shots=2, seed=s)).subset_indices
        for s in (1, 2, 3)
    ]
    assert a == b
    assert any(o != a for o in others)


def test_repeat(ann_file):
    full = sum(COUNTS.values())  # 19
    ds = DATASETS.build(_cfg(ann_file, shots=2, repeat='auto'))
    assert ds.times == full // 9 == 2
    assert len(ds) == 18
    assert ds.get_data_info(9) == ds.get_data_info(0)
    assert len(DATASETS.build(_cfg(ann_file, shots=2, repeat=3))) == 27
    assert len(DATASETS.build(_cfg(ann_file, shots=1, repeat='auto'))) == 15
    assert len(DATASETS.build(_cfg(ann_file, shots='all',
                                   repeat='auto'))) == full


def test_all_shots_is_the_full_dataset(ann_file):
    ds = DATASETS.build(_cfg(ann_file))
    assert ds.subset_indices == list(range(19))
    assert len(ds) == 19


def test_getitem_and_metainfo(ann_file):
    ds = DATASETS.build(_cfg(ann_file, shots=2, repeat=2))
    assert ds.metainfo == ds.dataset.metainfo
    for i in (0, 5, 12):
        sample = ds[i]
        expected = ds.dataset.get_data_info(ds.subset_indices[i % 9])
        assert sample['filename'] == expected['filename']
        assert sample['label'] == expected['label']


def test_export_load_round_trip(ann_file, tmp_path):
    export = str(tmp_path / 'out' / 'subset.txt')
    ds = DATASETS.build(
        _cfg(ann_file, True, shots=2, seed=3, export_file=export))
    lines = open(export).read().splitlines()
    original = open(ann_file).read().splitlines()
    assert lines == [original[i] for i in ds.subset_indices]
    # loading ignores shots/seed and reproduces the subset
    loaded = DATASETS.build(
        _cfg(ann_file, True, shots=1, seed=7, subset_file=export))
    assert loaded.subset_indices == ds.subset_indices
    # the export is itself a usable mmaction2 list
    direct = DATASETS.build(
        dict(
            type='VideoDataset',
            ann_file=export,
            pipeline=[],
            data_prefix=dict(video='/data/videos'),
            serialize_data=False))
    assert [
        direct.get_data_info(i)['filename'] for i in range(len(direct))
    ] == [ds.dataset.get_data_info(i)['filename'] for i in ds.subset_indices]


def test_subset_file_is_validated(ann_file, tmp_path):
    bad = tmp_path / 'bad.txt'
    bad.write_text('class_0/video_0_0.mp4 0\nclass_9/nope.mp4 9\n')
    with pytest.raises(AnnotationError, match=r'bad\.txt:2: .*nope\.mp4'):
        DATASETS.build(_cfg(ann_file, subset_file=str(bad)))
    bad.write_text('class_0/video_0_0.mp4 3\n')
    with pytest.raises(AnnotationError, match=r'bad\.txt:1: .*differs'):
        DATASETS.build(_cfg(ann_file, subset_file=str(bad)))
    bad.write_text('class_4/video_4_0.mp4 4\nclass_4/video_4_0.mp4 4\n')
    with pytest.raises(AnnotationError, match=r'bad\.txt:2: .*more often'):
        DATASETS.build(_cfg(ann_file, subset_file=str(bad)))


def test_rawframe_dataset_round_trip(tmp_path):
    ann = tmp_path / 'frames.txt'
    ann.write_text(''.join(f'vid_{i} {10 + i} {i % 3}\n' for i in range(9)))
    inner = dict(
        type='RawframeDataset',
        ann_file=str(ann),
        pipeline=[],
        data_prefix=dict(img=str(tmp_path / 'frames')),
        serialize_data=False)
    export = str(tmp_path / 'subset.txt')
    ds = FewShotDataset(inner, shots=2, export_file=export)
    original = ann.read_text().splitlines()
    assert open(export).read().splitlines() == [
        original[i] for i in ds.subset_indices
    ]
    loaded = FewShotDataset(inner, subset_file=export)
    assert loaded.subset_indices == ds.subset_indices


def test_lazy_init(ann_file):
    ds = FewShotDataset(_cfg(ann_file)['dataset'], shots=2, lazy_init=True)
    assert not ds._fully_initialized
    assert len(ds) == 9  # triggers full_init
    assert ds._fully_initialized


def test_bad_arguments(ann_file, tmp_path):
    inner = _cfg(ann_file)['dataset']
    for shots in (0, -1, 1.5, 'few', True):
        with pytest.raises(ValueError, match='shots'):
            FewShotDataset(inner, shots=shots)
    for repeat in (0, 'twice', 1.0):
        with pytest.raises(ValueError, match='repeat'):
            FewShotDataset(inner, repeat=repeat)
    with pytest.raises(TypeError, match='BaseDataset'):
        FewShotDataset([1, 2], shots=1)
    unlabelled = tmp_path / 'test_list.txt'
    unlabelled.write_text('a.mp4\nb.mp4\n')
    with pytest.raises(ValueError, match='no label'):
        FewShotDataset(dict(inner, ann_file=str(unlabelled)), shots=1)
    multi = tmp_path / 'multi.txt'
    multi.write_text('a.mp4 0 1\nb.mp4 1\n')
    with pytest.raises(ValueError, match='single-label'):
        FewShotDataset(
            dict(inner, ann_file=str(multi), multi_class=True, num_classes=2),
            shots=1)


def test_multi_class_list_exports_unchanged(tmp_path):
    ann = tmp_path / 'multi.txt'
    ann.write_text('a.mp4 0 2\nb.mp4 1\n')
    export = tmp_path / 'subset.txt'
    FewShotDataset(
        dict(
            type='VideoDataset',
            ann_file=str(ann),
            pipeline=[],
            multi_class=True,
            num_classes=3,
            serialize_data=False),
        export_file=str(export))
    assert export.read_text() == ann.read_text()


def test_failed_samples_are_refetched_inside_the_subset(ann_file):
    cfg = _cfg(ann_file, shots=1)
    cfg['dataset']['pipeline'] = [lambda r: None if r['label'] == 0 else r]
    ds = DATASETS.build(cfg)
    subset_files = {
        ds.dataset.get_data_info(i)['filename']
        for i in ds.subset_indices
    }
    pos = _labels(ds).index(0)  # the class-0 video: the pipeline rejects it
    np.random.seed(0)
    for _ in range(10):
        sample = ds[pos]
        assert sample['label'] != 0
        assert sample['filename'] in subset_files
