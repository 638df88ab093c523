import os.path as osp

import pytest

from t4v_mmaction.datasets.class_names import (load_class_names,
                                                resolve_class_names)

from _paths import SHARED_DATA

SHARED = osp.join(SHARED_DATA,
                  'classnames')


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else
                     content.encode('utf-8'))
    return str(path)


def test_txt_label_map(tmp_path):
    path = _write(tmp_path, 'map.txt', 'abseiling\nplaying guitar  \r\n'
                  'hurling (sport)\n\n\n')
    assert load_class_names(path) == [
        'abseiling', 'playing guitar', 'hurling (sport)'
    ]


def test_csv_sorted_by_id_and_quoted_commas(tmp_path):
    path = _write(tmp_path, 'labels.csv',
                  'id,name\n2,"drinking, beer"\n0,abseiling\n1,YoYo\n\n')
    assert load_class_names(path) == ['abseiling', 'YoYo', 'drinking, beer']


def test_csv_with_byte_order_mark(tmp_path):
    path = _write(tmp_path, 'bom.csv', b'\xef\xbb\xbfid,name\n0,a\n1,b\n')
    assert load_class_names(path) == ['a', 'b']


@pytest.mark.parametrize(
    'name, content, message',
    [
        ('blank.txt', 'a\n\nb\n', r'blank.txt:2: empty class name'),
        ('dup.txt', 'a\nb\na\n', r"dup.txt:3: duplicate class name 'a' "
         r'\(first on line 1\)'),
        ('latin1.txt', b'a\ncaf\xe9\n', r'latin1.txt:2: byte 0xe9'),
        ('empty.txt', '\n\n', r'no class names'),
        ('header.csv', 'idx,label\n0,a\n', r"header.csv:1: expected the "
         r"header 'id,name'"),
        ('gap.csv', 'id,name\n0,a\n2,b\n', r'missing \[1\]'),
        ('repeat.csv', 'id,name\n0,a\n0,b\n', r'repeat.csv:3: class id 0 '
         r'repeated'),
        ('badid.csv', 'id,name\nx,a\n', r"badid.csv:2: class id 'x' is not "
         r'an integer'),
        ('fields.csv', 'id,name\n0,a,b\n', r'fields.csv:2: expected 2 fields'),
        ('noname.csv', 'id,name\n0, \n', r'noname.csv:2: empty class name'),
        ('dupname.csv', 'id,name\n0,a\n1,a\n', r'dupname.csv:3: duplicate'),
        ('negative.csv', 'id,name\n-1,a\n', r'negative class id'),
        ('blankrow.csv', 'id,name\n0,a\n\n1,b\n', r'blankrow.csv:3: empty '
         r'row'),
    ])
def test_bad_files_raise_clear_errors(tmp_path, name, content, message):
    path = _write(tmp_path, name, content)
    with pytest.raises(ValueError, match=message):
        load_class_names(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        load_class_names('/nonexistent/labels.csv')


@pytest.mark.parametrize('csv_name, txt_name, count', [
    ('text4vis_kinetics_400_labels.csv',
     'mmaction2_kinetics_label_map_k400.txt', 400),
    ('text4vis_ucf_labels.csv', 'mmaction2_ucf101_label_map.txt', 101),
])
def test_shared_class_lists(csv_name, txt_name, count):
    if not osp.isdir(SHARED):
        pytest.skip(f'shared class-name lists not found at {SHARED}')
    from_csv = load_class_names(osp.join(SHARED, csv_name))
    from_txt = load_class_names(osp.join(SHARED, txt_name))
    assert len(from_csv) == len(from_txt) == count
    assert from_csv == from_txt
    assert from_csv[0] in ('abseiling', 'ApplyEyeMakeup')


def test_resolve_class_names(tmp_path):
    path = _write(tmp_path, 'map.txt', 'a\nb\n')
    assert resolve_class_names(path) == ['a', 'b']
    assert resolve_class_names(('a', 'b')) == ['a', 'b']
    with pytest.raises(ValueError, match=r"class 2: duplicate class name 'a' "
                       r'\(also class 0\)'):
        resolve_class_names(['a', 'b', 'a'])
    with pytest.raises(ValueError, match='class 1: expected a non-empty'):
        resolve_class_names(['a', ' '])
    with pytest.raises(ValueError, match='empty'):
        resolve_class_names([])


@pytest.mark.parametrize('first, second', [
    ('Run', 'run'),
    ('a b', 'a  b'),
    ('caf\u00e9', 'cafe\u0301'),  # NFC vs NFD
    ('Tai Chi', 'tai\tchi'),
])
def test_names_a_text_encoder_cannot_tell_apart(tmp_path, first, second):
    path = _write(tmp_path, 'map.txt', f'x\n{first}\ny\n{second}\n')
    with pytest.raises(ValueError, match=rf'map.txt:4: class name .* equals '
                       rf'.* \(.*map.txt:2\) up to case'):
        load_class_names(path)
    with pytest.raises(ValueError, match=r'class 1: class name .* equals .* '
                       r'\(class 0\)'):
        resolve_class_names([first, second])


@pytest.mark.parametrize('separator', ['\u2028', '\x0c', '\x85', '\r'])
def test_only_newlines_end_lines(tmp_path, separator):
    """A line or paragraph separator, form feed or NEL inside a name does
    not make two classes of one line (every later label would shift)."""
    path = _write(tmp_path, 'map.txt', f'a\nb{separator}c\nd\n')
    with pytest.raises(ValueError, match=r'map.txt:2: class name .* holds '
                       r'U\+'):
        load_class_names(path)
    crlf = _write(tmp_path, 'crlf.txt', 'a\r\nb c\r\nd\r\n')
    assert load_class_names(crlf) == ['a', 'b c', 'd']


def test_csv_with_a_stray_quote_names_the_line(tmp_path):
    path = _write(tmp_path, 'labels.csv',
                  'id,name\n0,a\n1,"b\n2,c\n3,"d, e"\n')
    with pytest.raises(ValueError, match=r'labels.csv:3: not a valid CSV'):
        load_class_names(path)


@pytest.mark.parametrize('raw_id', ['1_0', '+1', '\u0661', '\uff11', '1.0'])
def test_csv_ids_are_ascii_digits(tmp_path, raw_id):
    path = _write(tmp_path, 'ids.csv', f'id,name\n0,a\n{raw_id},b\n')
    with pytest.raises(ValueError, match='ids.csv:3: class id .* is not an '
                       'integer'):
        load_class_names(path)
