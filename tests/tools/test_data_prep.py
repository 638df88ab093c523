"""Round trips of tools/data/prepare_*.py on small fabricated inputs."""
import importlib
import json
import os.path as osp

import numpy as np
import pytest

from t4v_mmaction.datasets import load_class_names
from t4v_mmaction.datasets.annotation import AnnotationError

TOOLS_DIR = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'data')
TOOLS = [
    'prepare_kinetics', 'prepare_ucf101', 'prepare_hmdb51',
    'prepare_activitynet'
]


@pytest.fixture
def tools(monkeypatch):
    monkeypatch.syspath_prepend(TOOLS_DIR)
    return {name: importlib.import_module(name) for name in TOOLS}


def _touch(root, paths):
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'')


def _lines(path):
    return open(path, encoding='utf-8').read().splitlines()


def _common(tmp_path, *extra, out='out'):
    return [
        '--video-root',
        str(tmp_path / 'videos'), '--out-dir',
        str(tmp_path / out), '--no-progress', *extra
    ]


@pytest.mark.parametrize('name', TOOLS)
def test_help(tools, name, capsys):
    with pytest.raises(SystemExit) as exc:
        tools[name].main(['--help'])
    assert exc.value.code == 0
    assert '--video-root' in capsys.readouterr().out


# ---------------------------------------------------------------- UCF101
UCF_CLASSES = ['ApplyEyeMakeup', 'Archery', 'HandstandPushups']


def _ucf_inputs(tmp_path):
    ann = tmp_path / 'ucfTrainTestlist'
    ann.mkdir()
    # CRLF line ends as in the official zip
    ann.joinpath('classInd.txt').write_bytes(b''.join(
        f'{i} {c}\r\n'.encode() for i, c in enumerate(UCF_CLASSES, 1)))
    videos = {
        c: [
            f'{c}/v_{c.replace("Handstand", "HandStand")}_g0{g}_c01.avi'
            for g in range(1, 4)
        ]
        for c in UCF_CLASSES
    }
    for k in (1, 2, 3):
        train, test = [], []
        for i, c in enumerate(UCF_CLASSES, 1):
            vids = videos[c][k - 1:] + videos[c][:k - 1]  # rotate per split
            train += [f'{v} {i}\r\n' for v in vids[:2]]
            test += [f'{vids[2]}\r\n']
        ann.joinpath(f'trainlist0{k}.txt').write_text(''.join(train))
        ann.joinpath(f'testlist0{k}.txt').write_text(''.join(test))
    all_videos = [v for c in UCF_CLASSES for v in videos[c]]
    return ann, all_videos


def test_ucf101_round_trip(tools, tmp_path):
    ann, all_videos = _ucf_inputs(tmp_path)
    missing = 'Archery/v_Archery_g02_c01.avi'
    _touch(tmp_path / 'videos', [v for v in all_videos if v != missing])
    report = tools['prepare_ucf101'].main(['--ann-dir', str(ann)] +
                                          _common(tmp_path))
    out = tmp_path / 'out'
    assert load_class_names(str(out / 'ucf101_label_map.txt')) == UCF_CLASSES
    assert _lines(out / 'ucf101_train_split_1_videos.txt') == [
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 0',
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi 0',
        'Archery/v_Archery_g01_c01.avi 1',
        'Archery/v_Archery_g02_c01.avi 1',
        'HandstandPushups/v_HandStandPushups_g01_c01.avi 2',
        'HandstandPushups/v_HandStandPushups_g02_c01.avi 2',
    ]
    assert _lines(out / 'ucf101_val_split_2_videos.txt') == [
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 0',
        'Archery/v_Archery_g01_c01.avi 1',
        'HandstandPushups/v_HandStandPushups_g01_c01.avi 2',
    ]
    full = _lines(out / 'ucf101_full_videos.txt')
    assert sorted(line.split()[0] for line in full) == sorted(all_videos)
    assert report['missing'] == [missing]
    assert _lines(out / 'missing_videos.txt') == [missing]
    assert report['written']['ucf101_train_split_1_videos.txt'] == 6

    # --drop-missing leaves it out; the stale report is rewritten
    tools['prepare_ucf101'].main(
        ['--ann-dir', str(ann), '--splits', '1', '--drop-missing'] +
        _common(tmp_path))
    assert len(_lines(out / 'ucf101_train_split_1_videos.txt')) == 5
    _touch(tmp_path / 'videos', [missing])
    report = tools['prepare_ucf101'].main(['--ann-dir', str(ann)] +
                                          _common(tmp_path))
    assert report['missing'] == []
    assert not (out / 'missing_videos.txt').exists()


def test_ucf101_label_mismatch_names_file_and_line(tools, tmp_path):
    ann, _ = _ucf_inputs(tmp_path)
    lines = _lines(ann / 'trainlist01.txt')
    lines[3] = 'Archery/v_Archery_g02_c01.avi 3'
    (ann / 'trainlist01.txt').write_text('\n'.join(lines))
    (tmp_path / 'videos').mkdir()
    with pytest.raises(AnnotationError, match=r'trainlist01\.txt:4: .*id 2'):
        tools['prepare_ucf101'].main(['--ann-dir', str(ann)] +
                                     _common(tmp_path))


# ---------------------------------------------------------------- HMDB51
def _hmdb_inputs(tmp_path):
    split_dir = tmp_path / 'testTrainMulti_7030_splits'
    split_dir.mkdir()
    classes = ['cartwheel', 'brush_hair']
    for k in (1, 2, 3):
        for c in classes:
            flags = ['1', '2', '0'] if k == 1 else ['2', '1', '1']
            split_dir.joinpath(f'{c}_test_split{k}.txt').write_text(''.join(
                f'{c}_clip{i}.avi {f} \n' for i, f in enumerate(flags)))
    videos = [f'{c}/{c}_clip{i}.avi' for c in classes for i in range(3)]
    return split_dir, videos


def test_hmdb51_round_trip(tools, tmp_path):
    split_dir, videos = _hmdb_inputs(tmp_path)
    _touch(tmp_path / 'videos', videos[1:])
    report = tools['prepare_hmdb51'].main(
        ['--split-dir', str(split_dir)] + _common(tmp_path))
    out = tmp_path / 'out'
    assert _lines(out / 'hmdb51_label_map.txt') == ['brush hair', 'cartwheel']
    assert _lines(out / 'hmdb51_train_split_1_videos.txt') == [
        'brush_hair/brush_hair_clip0.avi 0', 'cartwheel/cartwheel_clip0.avi 1'
    ]
    assert _lines(out / 'hmdb51_val_split_1_videos.txt') == [
        'brush_hair/brush_hair_clip1.avi 0', 'cartwheel/cartwheel_clip1.avi 1'
    ]
    assert _lines(out / 'hmdb51_train_split_3_videos.txt') == [
        'brush_hair/brush_hair_clip1.avi 0',
        'brush_hair/brush_hair_clip2.avi 0', 'cartwheel/cartwheel_clip1.avi 1',
        'cartwheel/cartwheel_clip2.avi 1'
    ]
    # the zero-shot list holds every video, the unused ones (flag 0) too
    assert len(_lines(out / 'hmdb51_full_videos.txt')) == 6
    assert report['missing'] == ['cartwheel/cartwheel_clip0.avi']

    # other class names do not replace the folder's label map
    other = ['--split-dir', str(split_dir), '--keep-underscores',
             '--splits', '1']
    with pytest.raises(ValueError, match=r"lacks 1 class of .*'brush_hair'"):
        tools['prepare_hmdb51'].main(other + _common(tmp_path))
    assert _lines(out / 'hmdb51_label_map.txt') == ['brush hair', 'cartwheel']
    tools['prepare_hmdb51'].main(other + _common(tmp_path, out='out2'))
    assert _lines(tmp_path / 'out2' / 'hmdb51_label_map.txt') == [
        'brush_hair', 'cartwheel']


def test_hmdb51_bad_flag(tools, tmp_path):
    split_dir, _ = _hmdb_inputs(tmp_path)
    (split_dir / 'cartwheel_test_split2.txt').write_text('a.avi 1\nb.avi 7\n')
    (tmp_path / 'videos').mkdir()
    with pytest.raises(
            AnnotationError, match=r'cartwheel_test_split2\.txt:2: '):
        tools['prepare_hmdb51'].main(
            ['--split-dir', str(split_dir)] + _common(tmp_path))


# -------------------------------------------------------------- Kinetics
def _kinetics_inputs(tmp_path):
    train = tmp_path / 'train.csv'
    train.write_text('label,youtube_id,time_start,time_end,split,is_cc\n'
                     'dancingX,aaa,14,24,train,0\n'
                     '"dancing ballet",bbb,0,10,train,0\n'
                     '"passing American football (in game)",ccc,3,13,train,1\n'
                     'abseiling,ddd,100,110,train,0\n')
    val = tmp_path / 'validate.csv'
    val.write_text('label,youtube_id,time_start,time_end,split\n'
                   'abseiling,eee,5,15,val\n'
                   'dancingX,fff,7.0,17.0,validate\n')
    test = tmp_path / 'test.csv'
    test.write_text('youtube_id,time_start,time_end,split\n'
                    'ggg,1,11,test\n')
    return [str(train), str(val), str(test)]


def test_kinetics_round_trip(tools, tmp_path):
    csvs = _kinetics_inputs(tmp_path)
    _touch(tmp_path / 'videos', [
        'aaa_000014_000024.mp4', 'bbb_000000_000010.mp4',
        'ccc_000003_000013.mp4', 'eee_000005_000015.mp4',
        'fff_000007_000017.mp4', 'ggg_000001_000011.mp4'
    ])
    report = tools['prepare_kinetics'].main(csvs + _common(tmp_path))
    out = tmp_path / 'out'
    # mmaction2 sorts names with spaces read as '_' ('dancingX' first)
    classes = [
        'abseiling', 'dancingX', 'dancing ballet',
        'passing American football (in game)'
    ]
    assert _lines(out / 'kinetics400_label_map.txt') == classes
    assert _lines(out / 'kinetics400_train_list_videos.txt') == [
        'aaa_000014_000024.mp4 1', 'bbb_000000_000010.mp4 2',
        'ccc_000003_000013.mp4 3', 'ddd_000100_000110.mp4 0'
    ]
    assert _lines(out / 'kinetics400_val_list_videos.txt') == [
        'eee_000005_000015.mp4 0', 'fff_000007_000017.mp4 1'
    ]
    assert _lines(
        out / 'kinetics400_test_list_videos.txt') == ['ggg_000001_000011.mp4']
    assert report['missing'] == ['ddd_000100_000110.mp4']


def test_kinetics_lists_prepared_one_by_one_share_the_labels(tools, tmp_path):
    """docs/reproducing.md prepares train.csv, then validate.csv, into one
    folder; on a class subset the validation list must label each class as
    the training list does."""
    train, val, _ = _kinetics_inputs(tmp_path)
    (tmp_path / 'videos').mkdir()
    tools['prepare_kinetics'].main([train] + _common(tmp_path))
    tools['prepare_kinetics'].main([val] + _common(tmp_path))
    out = tmp_path / 'out'
    classes = _lines(out / 'kinetics400_label_map.txt')
    assert len(classes) == 4  # the training list's map, not rewritten

    def labels(name):
        ids = {'aaa': 'dancingX', 'bbb': 'dancing ballet', 'ddd': 'abseiling',
               'ccc': 'passing American football (in game)',
               'eee': 'abseiling', 'fff': 'dancingX'}
        return {ids[path[:3]]: int(label) for path, label in
                (line.split() for line in _lines(out / name))}

    train_labels = labels('kinetics400_train_list_videos.txt')
    val_labels = labels('kinetics400_val_list_videos.txt')
    for name, label in val_labels.items():
        assert train_labels[name] == label == classes.index(name), name


def test_kinetics_template_and_forced_classes(tools, tmp_path):
    csvs = _kinetics_inputs(tmp_path)
    order = tmp_path / 'classes.csv'
    order.write_text('id,name\n0,passing American football (in game)\n'
                     '1,abseiling\n2,extra class\n3,dancing ballet\n'
                     '4,dancingX\n')
    (tmp_path / 'videos').mkdir()
    tools['prepare_kinetics'].main(
        csvs[:2] + _common(tmp_path, '--name', 'k600', '--classes', str(
            order), '--path-template', '{split}/{label_dir}/{youtube_id}.mp4'))
    out = tmp_path / 'out'
    assert _lines(out / 'k600_label_map.txt')[2] == 'extra class'
    assert _lines(out / 'k600_train_list_videos.txt')[1:3] == [
        'train/dancing_ballet/bbb.mp4 3',
        'train/passing_American_football_(in_game)/ccc.mp4 0'
    ]
    order.write_text('id,name\n0,abseiling\n')
    with pytest.raises(ValueError, match='lacks 3 classes'):
        tools['prepare_kinetics'].main(
            csvs + _common(tmp_path, '--classes', str(order)))


def test_kinetics_bad_csv(tools, tmp_path):
    bad = tmp_path / 'bad.csv'
    bad.write_text('label,youtube_id,time_start,split\nx,aaa,1,train\n')
    (tmp_path / 'videos').mkdir()
    with pytest.raises(AnnotationError, match=r"bad\.csv:1: .*time_end"):
        tools['prepare_kinetics'].main([str(bad)] + _common(tmp_path))
    bad.write_text('label,youtube_id,time_start,time_end,split\n'
                   'x,aaa,1,11,train\nx,bbb,one,11,train\n')
    with pytest.raises(AnnotationError, match=r'bad\.csv:3: bad time'):
        tools['prepare_kinetics'].main([str(bad)] + _common(tmp_path))


# ----------------------------------------------------------- ActivityNet
def _anet_json(tmp_path):
    database = {
        'vid_a':
        dict(
            subset='training',
            annotations=[
                dict(label='Walking the dog', segment=[1.0, 5.0]),
                dict(label='Archery', segment=[6.0, 9.0])
            ]),
        'vid_b':
        dict(
            subset='training',
            annotations=[dict(label='Archery', segment=[0.0, 3.0])]),
        'vid_c':
        dict(subset='training', annotations=[]),
        'vid_d':
        dict(
            subset='validation',
            annotations=[dict(label='Zumba', segment=[2.0, 4.0])]),
        'vid_e':
        dict(subset='testing', annotations=[]),
    }
    taxonomy = [
        dict(nodeId=0, nodeName='Root', parentId=None, parentName=None),
        dict(nodeId=1, nodeName='Sports', parentId=0, parentName='Root'),
        dict(nodeId=2, nodeName='Zumba', parentId=1, parentName='Sports'),
        dict(nodeId=3, nodeName='Archery', parentId=1, parentName='Sports'),
        dict(
            nodeId=4,
            nodeName='Walking the dog',
            parentId=0,
            parentName='Root'),
    ]
    path = tmp_path / 'activity_net.v1-3.min.json'
    path.write_text(
        json.dumps(
            dict(version='VERSION 1.3', database=database, taxonomy=taxonomy)))
    return str(path)


def test_activitynet_round_trip(tools, tmp_path):
    ann = _anet_json(tmp_path)
    _touch(tmp_path / 'videos', ['v_vid_a.mp4', 'v_vid_b.mp4', 'v_vid_d.mp4'])
    report = tools['prepare_activitynet'].main(['--json', ann] +
                                               _common(tmp_path))
    out = tmp_path / 'out'
    assert _lines(
        out / 'anet_label_map.txt') == ['Archery', 'Walking the dog', 'Zumba']
    # first annotation's label; vid_c (no annotation) is skipped
    assert _lines(
        out / 'anet_train_video.txt') == ['v_vid_a.mp4 1', 'v_vid_b.mp4 0']
    assert _lines(out / 'anet_val_video.txt') == ['v_vid_d.mp4 2']
    assert _lines(out / 'anet_test_video.txt') == ['v_vid_e.mp4']
    assert _lines(out / 'anet_full_video.txt') == [
        'v_vid_a.mp4 1', 'v_vid_b.mp4 0', 'v_vid_d.mp4 2'
    ]
    assert report['missing'] == ['v_vid_e.mp4']

    # another class order does not renumber the folder's lists
    taxonomy = ['--json', ann, '--class-source', 'taxonomy']
    with pytest.raises(ValueError, match="orders the classes otherwise"):
        tools['prepare_activitynet'].main(taxonomy + _common(tmp_path))
    assert _lines(out / 'anet_val_video.txt') == ['v_vid_d.mp4 2']
    tools['prepare_activitynet'].main(taxonomy +
                                      _common(tmp_path, out='out2'))
    out2 = tmp_path / 'out2'
    assert _lines(
        out2 / 'anet_label_map.txt') == ['Zumba', 'Archery', 'Walking the dog']
    assert _lines(out2 / 'anet_val_video.txt') == ['v_vid_d.mp4 0']


def test_activitynet_bad_json(tools, tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'results': {}}))
    (tmp_path / 'videos').mkdir()
    with pytest.raises(AnnotationError, match='database'):
        tools['prepare_activitynet'].main(['--json', str(bad)] +
                                          _common(tmp_path))


# --------------------------------------------------------- --check-decode
def test_check_decode_reports_undecodable(tools, tmp_path):
    cv2 = pytest.importorskip('cv2')
    pytest.importorskip('decord')
    ann = _anet_json(tmp_path)
    _touch(tmp_path / 'videos', ['v_vid_b.mp4', 'v_vid_d.mp4', 'v_vid_e.mp4'])
    writer = cv2.VideoWriter(
        str(tmp_path / 'videos' / 'v_vid_a.mp4'),
        cv2.VideoWriter_fourcc(*'mp4v'), 10, (32, 32))
    for i in range(5):
        writer.write(np.full((32, 32, 3), 20 * i, np.uint8))
    writer.release()
    (tmp_path / 'videos' / 'v_vid_d.mp4').unlink()
    report = tools['prepare_activitynet'].main(
        ['--json', ann, '--check-decode', '--drop-missing'] +
        _common(tmp_path))
    out = tmp_path / 'out'
    assert report['missing'] == ['v_vid_d.mp4']
    assert report['undecodable'] == ['v_vid_b.mp4', 'v_vid_e.mp4']
    assert _lines(out /
                  'undecodable_videos.txt') == ['v_vid_b.mp4', 'v_vid_e.mp4']
    assert _lines(out / 'anet_train_video.txt') == ['v_vid_a.mp4 1']
    assert _lines(out / 'anet_val_video.txt') == []
