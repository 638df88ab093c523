"""tools/test_zero_shot_splits.py (aggregation and a tiny end-to-end run)
and the dataset / zero-shot / few-shot / fine-tune configs of Tables 1-4."""
import glob
import importlib
import importlib.util
import json
import os.path as osp

import pytest
import torch
from _tiny_models import TINY_VIT, save_classifier_tensor
from _tiny_video_data import make_tiny_videos
from mmengine.config import Config
from mmaction.registry import DATASETS, MODELS

from _paths import REPO
CONFIGS = osp.join(REPO, 'configs', 'text4vis')
K400_L14 = osp.join(
    CONFIGS, 'kinetics400',
    'text4vis_vit-l14-ttrans_32xb8-seg8-30e_kinetics400-rgb.py')
ZERO_SHOT = sorted(glob.glob(osp.join(CONFIGS, 'zero_shot', '*.py')))
K600_SPLITS = [p for p in ZERO_SHOT if 'k600-split' in p]
FEW_SHOT = sorted(glob.glob(osp.join(CONFIGS, 'few_shot', '*.py')))
FINE_TUNE = sorted(
    glob.glob(osp.join(CONFIGS, 'ucf101', '*.py')) +
    glob.glob(osp.join(CONFIGS, 'hmdb51', '*.py')) +
    glob.glob(osp.join(CONFIGS, 'activitynet', '*.py')))


def _tool():
    path = osp.join(REPO, 'tools', 'test_zero_shot_splits.py')
    spec = importlib.util.spec_from_file_location('zero_shot_splits_tool',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _tool()


# ------------------------------------------------------------ aggregation
def test_summary_is_mean_and_population_std():
    # BIKE's published K600 splits: 70.14 / 68.31 / 67.15 -> 68.53 +- 1.23
    results = [{'acc/top1': 0.7014, 'acc/top5': 0.9, 'note': 'x'},
               {'acc/top1': 0.6831, 'acc/top5': 0.8},
               {'acc/top1': 0.6715, 'acc/top5': 0.7}]
    summary = tool.summarize_splits(results)
    assert list(summary) == ['acc/top1', 'acc/top5']  # shared numbers only
    mean, std = summary['acc/top1']
    assert mean == pytest.approx(0.685333, abs=1e-6)
    assert std == pytest.approx(0.012308, abs=1e-6)  # ddof=0 (ddof=1: .0151)
    assert summary['acc/top5'] == pytest.approx((0.8, (2 / 300)**0.5))
    assert tool.summarize_splits([{'acc/top1': 0.5}]) == {
        'acc/top1': (0.5, 0.0)
    }


def test_summary_rejects_empty_and_disjoint_results():
    with pytest.raises(ValueError, match='no split results'):
        tool.summarize_splits([])
    with pytest.raises(ValueError, match='share no numeric metric'):
        tool.summarize_splits([{'acc/top1': 0.5}, {'zeroshot/x': 0.5}])


def test_format_summary_shows_percent_rows_and_mean_std():
    results = [{'acc/top5': 0.9, 'acc/top1': 0.7014, 'num_samples': 10},
               {'acc/top5': 0.8, 'acc/top1': 0.6831, 'num_samples': 12},
               {'acc/top5': 0.7, 'acc/top1': 0.6715, 'num_samples': 14}]
    text = tool.format_summary(['s1', 's2', 's3'], results,
                               tool.summarize_splits(results))
    lines = text.splitlines()
    assert len(lines) == 5
    assert lines[0].split() == ['split', 'acc/top1', 'acc/top5',
                                'num_samples']  # top-1 first
    assert lines[1].split() == ['s1', '70.14', '90.00', '10']
    assert lines[4].split() == [
        'mean', '+-', 'std', '68.53', '+-', '1.23', '80.00', '+-', '8.16',
        '12', '+-', '1.63299'
    ]
    with pytest.raises(ValueError, match='2 names for 3 results'):
        tool.format_summary(['a', 'b'], results, {})


def test_default_configs_are_the_three_k600_splits():
    assert [osp.basename(p) for p in tool.DEFAULT_CONFIGS] == [
        osp.basename(p) for p in K600_SPLITS
    ]
    assert all(osp.isfile(p) for p in tool.DEFAULT_CONFIGS)


def test_cli_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        tool.main([str(tmp_path / 'none.pth')])
    ckpt = tmp_path / 'c.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(FileNotFoundError, match=r'configs not found.*y\.py'):
        tool.main([str(ckpt), '--configs', K600_SPLITS[0], 'y.py'])
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    for sub in 'ab':
        (tmp_path / sub / 'x.py').write_text('')
    with pytest.raises(ValueError, match='distinct file names'):
        tool.main([
            str(ckpt), '--configs',
            str(tmp_path / 'a' / 'x.py'),
            str(tmp_path / 'b' / 'x.py')
        ])


# ------------------------------------------------------- end-to-end run
def _split_config(path, base, ann_file, video_root, clf):
    """A split config: ``base`` with a tiny 224-input ViT and our list."""
    arch = dict(TINY_VIT, image_size=224, patch_size=56, _delete_=True)
    path.write_text(f'''_base_ = [{base!r}]
model = dict(
    backbone=dict(arch={arch!r}),
    cls_head=dict(in_channels=32, classifier={clf!r},
                  temporal=dict(num_layers=1)))
test_dataloader = dict(
    batch_size=5,
    dataset=dict(
        ann_file={ann_file!r}, data_prefix=dict(video={video_root!r}),
        class_names=None))
''')
    return str(path)


def test_tool_runs_every_split_and_aggregates(tmp_path, capsys):
    """Two 'splits' (the K600 split 1 and 2 configs) over the same 5 videos
    and a 2-class classifier, split j labelling every video j: each video's
    prediction matches exactly one split, so the two top-1s sum to 1 and
    differ (5 is odd), which a run that mixed the splits up would not give;
    K = 2 < 5, so top-5 is 1."""
    videos = tmp_path / 'videos'
    ann = make_tiny_videos(
        str(videos), num_videos=5, num_classes=2, num_frames=8)
    paths = [line.split()[0] for line in open(ann)]
    clf = save_classifier_tensor(tmp_path / 'clf.pt', 2, 32, seed=1)
    configs = []
    for j in range(2):
        ann_j = tmp_path / f'labels_{j}.txt'
        ann_j.write_text(''.join(f'{p} {j}\n' for p in paths))
        configs.append(
            _split_config(tmp_path / f'split_{j}.py', K600_SPLITS[j],
                          str(ann_j), str(videos), clf))
    cfg = Config.fromfile(configs[0])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)

    work_dir = tmp_path / 'work'
    report = tool.main([
        ckpt, '--configs', *configs, '--work-dir',
        str(work_dir), '--cfg-options', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ])
    splits = report['splits']
    assert list(splits) == ['split_0', 'split_1']
    top1 = [r['acc/top1'] for r in splits.values()]
    assert sum(top1) == pytest.approx(1.0) and top1[0] != top1[1]
    assert 5 * top1[0] == pytest.approx(round(5 * top1[0]))
    assert [r['acc/top5'] for r in splits.values()] == [1.0, 1.0]
    assert report['mean']['acc/top1'] == pytest.approx(0.5)
    assert report['std']['acc/top1'] == pytest.approx(abs(top1[0] - 0.5))
    saved = json.loads((work_dir / 'zero_shot_splits.json').read_text())
    assert saved == json.loads(json.dumps(report))
    assert (work_dir / 'split_0').is_dir() and (work_dir / 'split_1').is_dir()
    out = capsys.readouterr().out
    assert 'mean +- std' in out and '50.00 +-' in out


# ---------------------------------------------------------------- configs
def _model_without_classifier(cfg):
    model = cfg.model.to_dict()
    clf = model['cls_head'].pop('classifier')
    for key in ('num_classes', 'in_channels'):
        model['cls_head'].pop(key)
    for key in ('pretrained', 'grad_checkpointing'):
        model['backbone'].pop(key)
    return model, clf


def test_zero_shot_configs_are_the_k400_l14_model_with_a_new_classifier():
    k400 = Config.fromfile(K400_L14)
    ref_model, ref_clf = _model_without_classifier(k400)
    assert len(ZERO_SHOT) == 6
    for path in ZERO_SHOT:
        cfg = Config.fromfile(path)
        model, clf = _model_without_classifier(cfg)
        assert model == ref_model, path
        assert cfg.model.cls_head.num_classes is None
        assert cfg.model.cls_head.in_channels == 768
        assert {k: v for k, v in clf.items() if k != 'class_names'} == {
            k: v for k, v in ref_clf.items() if k != 'class_names'}
        assert clf['class_names'] != ref_clf['class_names']
        assert cfg.model.backbone.pretrained is None  # all from the ckpt
        pipeline = cfg.test_dataloader.dataset.pipeline
        assert pipeline == k400.val_pipeline  # 8 frames, single view
        for key in ('train_dataloader', 'val_dataloader', 'train_cfg',
                    'optim_wrapper'):
            assert cfg.get(key) is None, (path, key)
        evaluator = cfg.test_evaluator
        if 'k600' in path:
            assert evaluator == dict(type='RobustAccMetric')
        else:
            assert evaluator == dict(
                type='RobustMetric',
                metric=dict(type='ZeroShotMetric', num_splits=10,
                            topk=(1, 5)))


def test_k600_split_configs_differ_only_in_classes_and_list():
    cfgs = [Config.fromfile(p) for p in K600_SPLITS]
    for k, cfg in enumerate(cfgs, 1):
        assert cfg.model.cls_head.classifier.class_names == \
            f'data/kinetics600/k160_labels_split{k}.csv'
        dataset = cfg.test_dataloader.dataset
        assert dataset.ann_file == f'data/kinetics600/test_split{k}_exist.txt'
        assert dataset.class_names == \
            f'data/kinetics600/k160_labels_split{k}.csv'
        assert dataset.data_prefix.video == 'data/kinetics600/videos_test'
        rest = cfg.to_dict()
        del rest['model']['cls_head']['classifier']['class_names']
        del rest['test_dataloader']['dataset']['ann_file']
        del rest['test_dataloader']['dataset']['class_names']
        if k == 1:
            first = rest
        assert rest == first


def test_fine_tune_configs_follow_the_original_recipe():
    assert len(FINE_TUNE) == 6
    for path in FINE_TUNE:
        cfg = Config.fromfile(path)
        is336 = 'l14-336' in path
        assert cfg.model.backbone.arch == ('ViT-L-14-336'
                                           if is336 else 'ViT-L-14')
        assert cfg.model.backbone.num_frames == 16
        assert cfg.model.cls_head.temporal.type == 'TemporalTransformer'
        assert cfg.train_dataloader.dataset.pipeline[1] == dict(
            type='SegmentSampleFrames', num_segments=16)
        assert cfg.test_dataloader.dataset.pipeline[3]['scale'] == (
            -1, 336 if is336 else 256)
        assert cfg.train_cfg.max_epochs == 30 and cfg.train_cfg.val_interval \
            == 5
        bs, acc = cfg.train_dataloader.batch_size, \
            cfg.optim_wrapper.accumulative_counts
        assert 32 * bs * acc == 256 and f'32xb{bs}' in path
        assert cfg.optim_wrapper.optimizer.lr == 5e-5
        assert cfg.load_from.endswith('_kinetics400.pth')
        assert ('l14-336' in cfg.load_from) == is336
        if 'activitynet' in path:
            assert cfg.val_evaluator.metric.type == 'ClsMAPMetric'
        else:
            assert cfg.val_evaluator == dict(
                type='RobustAccMetric',
                metric_list=('top_k_accuracy', 'mean_class_accuracy'))


def test_few_shot_configs_wrap_the_train_set(tmp_path):
    assert len(FEW_SHOT) == 4
    for path in FEW_SHOT:
        cfg = Config.fromfile(path)
        assert cfg.model.backbone.arch == 'ViT-L-14'
        assert cfg.model.backbone.num_frames == 8
        assert cfg.model.backbone.pretrained == 'openai'
        assert cfg.model.cls_head.temporal == dict(
            type='TemporalAveragePooling')
        assert cfg.get('load_from') is None
        dataset = cfg.train_dataloader.dataset
        assert (dataset.type, dataset.shots, dataset.repeat) == (
            'FewShotDataset', 2, 'auto')
        assert dataset.dataset.ann_file == cfg.ann_file_train
        assert cfg.train_cfg.val_interval == (1 if 'kinetics400' in path
                                              else 5)

    # build one with a 2-class list of 5 + 5 videos: K=2 -> 4 videos,
    # repeated 10 // 4 = 2 times; 'all' -> every video once
    ann = tmp_path / 'train.txt'
    ann.write_text(''.join(f'v{i}.mp4 {i % 2}\n' for i in range(10)))
    cfg = Config.fromfile(FEW_SHOT[0])
    cfg.merge_from_dict({
        'train_dataloader.dataset.dataset.ann_file': str(ann),
        'train_dataloader.dataset.dataset.data_prefix.video': str(tmp_path)
    })
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert (len(dataset.subset_indices), len(dataset)) == (4, 8)
    cfg.merge_from_dict({'train_dataloader.dataset.shots': 'all'})
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert (len(dataset.subset_indices), len(dataset)) == (10, 10)


def test_one_clip_three_crop_override_of_the_docs():
    # docs/reproducing.md: the 32-frame model's 1x3 views from its 4x3 config
    cfg = Config.fromfile(
        osp.join(
            CONFIGS, 'kinetics400',
            'text4vis_vit-l14-336-ttrans_64xb1-seg32-30e_kinetics400-rgb_'
            '4x3-views.py'))
    cfg.merge_from_dict({'test_dataloader.dataset.pipeline.1.num_clips': 1})
    step = cfg.test_dataloader.dataset.pipeline[1]
    assert step.type == 'SegmentSampleFrames' and step.num_clips == 1


# ------------------------------------- config paths = data tool outputs
def _write_annotations(root):
    """Tiny official annotations of every dataset."""
    ucf = root / 'ucfTrainTestlist'
    ucf.mkdir()
    (ucf / 'classInd.txt').write_text('1 ApplyEyeMakeup\n')
    for k in (1, 2, 3):
        (ucf / f'trainlist0{k}.txt').write_text(
            'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1\n')
        (ucf / f'testlist0{k}.txt').write_text(
            'ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi\n')
    hmdb = root / 'hmdb_splits'
    hmdb.mkdir()
    for k in (1, 2, 3):
        (hmdb / f'brush_hair_test_split{k}.txt').write_text('a.avi 1\n'
                                                            'b.avi 2\n')
    anet = root / 'anet.json'
    anet.write_text(
        json.dumps(
            dict(database={
                'a': dict(subset='training', annotations=[dict(label='X')]),
                'b': dict(subset='validation', annotations=[dict(label='X')])
            })))
    kinetics = root / 'k.csv'
    kinetics.write_text('label,youtube_id,time_start,time_end,split\n'
                        'abseiling,aaa,0,10,train\nabseiling,bbb,0,10,val\n')
    return dict(ucf=ucf, hmdb=hmdb, anet=anet, kinetics=kinetics)


def _data_paths(cfg):
    """Every ``data/...`` file a config reads."""
    paths = {cfg.model.cls_head.classifier.get('class_names')}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            dataset = cfg[key].dataset
            dataset = dataset.get('dataset', dataset)  # FewShotDataset
            paths.add(dataset.ann_file)
    return {p for p in paths if p and p.startswith('data/')}


def test_config_paths_are_what_the_data_tools_write(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(osp.join(REPO, 'tools', 'data'))
    src = _write_annotations(tmp_path)
    data = tmp_path / 'data'
    (tmp_path / 'videos').mkdir()

    def run(name, *args, out):
        importlib.import_module(name).main([
            *map(str, args), '--video-root',
            str(tmp_path / 'videos'), '--out-dir',
            str(data / out), '--no-progress'
        ])

    run('prepare_ucf101', '--ann-dir', src['ucf'], out='ucf101')
    run('prepare_hmdb51', '--split-dir', src['hmdb'], out='hmdb51')
    run('prepare_activitynet', '--json', src['anet'], out='activitynet')
    run('prepare_kinetics', src['kinetics'], out='kinetics400')
    run('prepare_kinetics', src['kinetics'], '--name', 'kinetics600',
        out='kinetics600')
    # the K600 zero-shot splits are the original repository's files
    for k in (1, 2, 3):
        for name in (f'k160_labels_split{k}.csv', f'test_split{k}_exist.txt'):
            (data / 'kinetics600' / name).write_text('')

    configs = ZERO_SHOT + FEW_SHOT + FINE_TUNE
    checked = set()
    for path in configs:
        for rel in _data_paths(Config.fromfile(path)):
            assert (tmp_path / rel).is_file(), (path, rel)
            checked.add(rel)
    assert len(checked) == 21
