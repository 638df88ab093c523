"""Property tests: the parsers of annotation lists, class-name files and
classifier files, fed random bytes and random near-valid input, either
succeed or raise our error types, never anything else.

Derandomized (the same examples every run) and without an example database,
so the tests are reproducible and write nothing into the repository.
"""
import io
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from t4v_mmaction.compat import UnsafeCheckpointError
from t4v_mmaction.datasets import (AnnotationError, FewShotDataset,
                                   RobustVideoDataset, load_class_names)
from t4v_mmaction.datasets.annotation import read_text_lines
from t4v_mmaction.datasets.video_list import parse_video_list
from t4v_mmaction.models.classifiers import (ClassifierFormatError,
                                             load_classifier, read_classifier,
                                             save_classifier)

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope='module')
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp('fuzz')


def _write(folder, name, data: bytes) -> str:
    path = osp.join(str(folder), name)
    with open(path, 'wb') as f:
        f.write(data)
    return path


# ------------------------------------------------------------- strategies
_PATHS = st.sampled_from([
    'a.mp4', 'dir/b.avi', 'c d.mp4', 'caf\u00e9.mp4', 'x', '#', ',', '-1'
])
_LABELS = st.one_of(
    st.integers(-3, 12).map(str),
    st.integers(-10**40, 10**40).map(str),
    st.sampled_from([
        '', '3a', '1.5', '\u0663', '0x10', '1_0', '+1', '\u22121', 'nan',
        '1e3', ' ', '\x00'
    ]),
)
_SEPS = st.sampled_from([' ', '\t', '  ', ',', ''])
_ENDS = st.sampled_from(['\n', '\r\n', '\r', '\n\n', '\x0b', '\u2028'])


@st.composite
def near_valid_list(draw) -> bytes:
    """``path label`` lines with odd labels, separators and line ends."""
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        fields = [draw(_PATHS)] + draw(st.lists(_LABELS, max_size=3))
        lines.append(draw(_SEPS).join(fields) + draw(_ENDS))
    text = ''.join(lines).encode('utf-8')
    if draw(st.booleans()):
        text = b'\xef\xbb\xbf' + text
    if draw(st.integers(0, 4)) == 0:  # a stray invalid byte
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([b'\xff', b'\xc3', b'\x80'
                                                 ])) + text[at:]
    return text


@st.composite
def near_valid_names(draw) -> bytes:
    """Label maps and ``id,name`` CSVs with odd ids, quotes and blanks."""
    names = draw(
        st.lists(
            st.one_of(
                st.sampled_from([
                    'abseiling', 'playing guitar', '', ' ', 'a,b', '"q"',
                    '"open', 'caf\u00e9', '\x00', 'abseiling'
                ]), st.text(max_size=12)),
            max_size=6))
    if draw(st.booleans()):  # CSV
        header = draw(st.sampled_from(['id,name', 'name,id', 'id', '']))
        ids = draw(
            st.lists(_LABELS, min_size=len(names), max_size=len(names)))
        rows = [header] + [f'{i},{n}' for i, n in zip(ids, names)]
    else:
        rows = names
    return draw(_ENDS).join(rows).encode('utf-8', 'surrogatepass')


# ------------------------------------------------------------ annotation
def _check_annotation_error(err: Exception, path: str) -> None:
    assert isinstance(err, AnnotationError), repr(err)
    assert str(err).startswith(path), str(err)


@FUZZ
@given(data=st.one_of(st.binary(max_size=600), near_valid_list()),
       multi_class=st.booleans(),
       require_labels=st.booleans())
def test_video_list_parser(scratch, data, multi_class, require_labels):
    path = _write(scratch, 'list.txt', data)
    try:
        read_text_lines(path)
        entries = parse_video_list(
            path, multi_class=multi_class, require_labels=require_labels)
    except Exception as err:
        _check_annotation_error(err, path)
        return
    for entry in entries:
        labels = entry.label if isinstance(entry.label, list) else [
            entry.label
        ]
        assert entry.path and all(isinstance(x, int) for x in labels)
        assert all(x >= 0 for x in labels) or labels == [-1]


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), near_valid_list()),
       num_classes=st.integers(1, 5),
       test_mode=st.booleans())
def test_robust_dataset_construction(scratch, data, num_classes, test_mode):
    path = _write(scratch, 'dataset.txt', data)
    try:
        dataset = RobustVideoDataset(
            path,
            pipeline=[],
            num_classes=num_classes,
            test_mode=test_mode,
            serialize_data=False)  # mmengine's gc.collect() is slow
    except Exception as err:
        _check_annotation_error(err, path)
        return
    labels = [dataset.get_data_info(i)['label'] for i in range(len(dataset))]
    assert all(-1 <= label < num_classes for label in labels)


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), near_valid_list()))
def test_few_shot_subset_file(scratch, data):
    full = _write(scratch, 'full.txt', b'a.mp4 0\ndir/b.avi 1\nx 1\n')
    subset_file = _write(scratch, 'subset.txt', data)
    try:
        dataset = FewShotDataset(
            dict(
                type='RobustVideoDataset',
                ann_file=full,
                pipeline=[],
                serialize_data=False),
            subset_file=subset_file)
    except Exception as err:
        _check_annotation_error(err, subset_file)
        return
    assert set(dataset.subset_indices) <= {0, 1, 2}


# ----------------------------------------------------------- class names
@FUZZ
@given(data=st.one_of(st.binary(max_size=600), near_valid_names()),
       suffix=st.sampled_from(['.txt', '.csv']))
def test_load_class_names(scratch, data, suffix):
    path = _write(scratch, 'names' + suffix, data)
    try:
        names = load_class_names(path)
    except Exception as err:
        assert type(err) is ValueError, repr(err)
        assert str(err).startswith(path), str(err)
        return
    assert names and len(set(names)) == len(names)
    assert all(isinstance(n, str) and n == n.strip() and n for n in names)


# ------------------------------------------------------------ classifiers
_CLASSIFIER_ERRORS = (ClassifierFormatError, UnsafeCheckpointError)


def _valid_classifier_bytes(folder) -> bytes:
    path = osp.join(str(folder), 'valid.pth')
    save_classifier(path, torch.randn(3, 4, generator=torch.Generator()
                                      .manual_seed(0)),
                    dict(kind='random', class_names=['a', 'b', 'c']))
    with open(path, 'rb') as f:
        return f.read()


class _Payload:
    """Unpickling it would run code; loading must refuse it."""

    def __reduce__(self):
        return print, ('payload ran',)


_TENSORS = st.sampled_from([
    torch.ones(2, 3),
    torch.ones(2, 3, dtype=torch.float16),
    torch.ones(2, 3, dtype=torch.int64),
    torch.ones(2, 3, dtype=torch.bool),
    torch.ones(2, 3, dtype=torch.complex64),
    torch.ones(3),
    torch.ones(1, 2, 3),
    torch.zeros(0, 3),
    torch.zeros(2, 3),
    torch.full((2, 3), float('nan')),
    np.ones((2, 3), dtype=np.float32),
    np.array([['a', 'b']]),
    np.array([[1, 2]], dtype=object),
    [[1.0, 2.0]],
    'weights',
    None,
])
_META = st.one_of(
    st.none(),
    st.sampled_from(['meta', 3, [1, 2], {'sha256': 5},
                     {'sha256': 'abc'}, {'class_names': 2},
                     {'class_names': ['a']}, {'class_names': ['a', 'b']},
                     {'class_names': {'a': 1}}, {1: 'x'},
                     {'nested': {'x': np.float64(1.0)}}]),
)


@st.composite
def torch_files(draw, valid: bytes) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:  # random bytes, sometimes with a zip or pickle header
        head = draw(st.sampled_from([b'', b'PK\x03\x04', b'\x80\x02']))
        return head + draw(st.binary(max_size=300))
    if kind == 1:  # a valid file, cut or with flipped bytes
        data = bytearray(valid)
        if draw(st.booleans()):
            return bytes(data[:draw(st.integers(0, len(data)))])
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        return bytes(data)
    buffer = io.BytesIO()
    weight = draw(_TENSORS)
    if kind == 2:  # a dict holding odd weights and meta
        obj = {'weight': weight, 'meta': draw(_META)}
        if draw(st.integers(0, 5)) == 0:
            obj = {'state_dict': {'w': torch.ones(2)}}
        if draw(st.integers(0, 5)) == 0:
            obj['meta'] = _Payload()
    else:  # a bare object
        obj = weight
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.fixture(scope='module')
def valid_classifier(scratch):
    return _valid_classifier_bytes(scratch)


def test_valid_classifier_reads(scratch, valid_classifier):
    path = _write(scratch, 'ok.pth', valid_classifier)
    assert read_classifier(path).weight.shape == (3, 4)


@FUZZ
@given(data=st.data(), num_classes=st.sampled_from([None, 2, 3]))
def test_classifier_loaders(scratch, valid_classifier, data, num_classes):
    content = data.draw(torch_files(valid_classifier))
    path = _write(scratch, 'clf.pth', content)
    try:
        clf = read_classifier(path)
    except Exception as err:
        assert isinstance(err, _CLASSIFIER_ERRORS), repr(err)
        assert path in str(err), str(err)
    else:
        assert clf.weight.ndim == 2 and torch.isfinite(clf.weight).all()
    try:
        clf = load_classifier(path, num_classes=num_classes)
    except Exception as err:
        assert isinstance(err, _CLASSIFIER_ERRORS + (ValueError, )), \
            repr(err)
        assert path in str(err), str(err)
    else:
        assert num_classes in (None, clf.num_classes)


def test_unsafe_pickle_is_refused_without_running(scratch, capsys):
    buffer = io.BytesIO()
    torch.save({'weight': torch.ones(2, 2), 'meta': _Payload()}, buffer)
    path = _write(scratch, 'unsafe.pth', buffer.getvalue())
    with pytest.raises(ClassifierFormatError, match='refusing to load'):
        read_classifier(path)
    legacy = _write(scratch, 'legacy.pkl', pickle.dumps(_Payload()))
    with pytest.raises(ClassifierFormatError):
        read_classifier(legacy)
    assert 'payload ran' not in capsys.readouterr().out


# ------------------------------------------- crashes the fuzzing found
def test_fixed_crashes(scratch):
    """Each of these raised a bare TypeError / csv.Error / UnicodeDecodeError
    or named the wrong byte before its fix."""
    huge = _write(scratch, 'huge.csv',
                  b'id,name\n0,"' + b'a' * 200000 + b'"\n')
    with pytest.raises(ValueError, match=f'^{huge}:2: not a valid CSV row'):
        load_class_names(huge)
    for name in ('bom.txt', 'bom.csv'):  # offsets count the byte-order mark
        bom = _write(scratch, name, b'\xef\xbb\xbfid,name\n0,x\xff\n')
        with pytest.raises(ValueError, match='byte 0xff at offset 14'):
            load_class_names(bom)
    listed = _write(scratch, 'bom_list.txt', b'\xef\xbb\xbfa.mp4 0\nb\xff 1\n')
    with pytest.raises(AnnotationError,
                       match=f'^{listed}:2: byte 0xff at offset 12'):
        read_text_lines(listed)
    buffer = io.BytesIO()
    torch.save(np.array([['a', 'b']]), buffer)
    strings = _write(scratch, 'strings.pth', buffer.getvalue())
    with pytest.raises(ClassifierFormatError, match='numpy array of dtype'):
        read_classifier(strings)
    full = _write(scratch, 'full.txt', b'a.mp4 0\n')
    empty = _write(scratch, 'empty_subset.txt', b'\n')
    with pytest.raises(AnnotationError,
                       match=f'^{empty}: the subset list is empty'):
        FewShotDataset(
            dict(type='RobustVideoDataset', ann_file=full, pipeline=[]),
            subset_file=empty)
