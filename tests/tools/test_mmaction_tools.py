"""mmaction2's own tools (from its wheel, ``mmaction/.mim/tools``) on a
shipped config, shrunk to a tiny model and generated videos, in fresh
processes that import nothing first: ``train.py`` (its AMP recipe on the
CPU), ``dist_train.sh`` (2 processes), ``test.py --dump``,
``analysis_tools/confusion_matrix.py``, ``get_flops.py``,
``analyze_logs.py`` and ``visualizations/browse_dataset.py``."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import mmaction
import pytest
from _paths import CONFIGS, REPO
from _tiny_inference import TINY_CLIP
from _tiny_models import TINY_VIT
from _tiny_video_data import make_tiny_videos

MMA_TOOLS = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools')
BASE = osp.join(CONFIGS, 'text4vis', 'kinetics400',
                'text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py')
CLASSES = ['abseiling', 'playing guitar', 'riding a bike']
PIPELINES = dict(
    train=[
        dict(type='DecordInit'),
        dict(type='SegmentSampleFrames', num_segments=4),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 36)),
        dict(type='RandomResizedCrop'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ],
    test=[
        dict(type='DecordInit'),
        dict(type='SegmentSampleFrames', num_segments=4, test_mode=True),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 36)),
        dict(type='CenterCrop', crop_size=32),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ])


def shrunk_config(root: str) -> str:
    """The shipped ViT-B/16 K400 config with a tiny model, a tiny random
    text tower and the generated videos; everything else as shipped (AMP,
    AdamW, the hooks, RobustVideoDataset, RobustAccMetric)."""
    ann_file = make_tiny_videos(osp.join(root, 'videos'), num_videos=6,
                                num_classes=3, num_frames=10)
    classes = osp.join(root, 'classes.txt')
    with open(classes, 'w') as f:
        f.write('\n'.join(CLASSES) + '\n')
    clip = osp.join(root, 'tiny-clip.json')
    with open(clip, 'w') as f:
        json.dump(TINY_CLIP, f)
    data = dict(class_names=classes, ann_file=ann_file,
                data_prefix=dict(video=osp.join(root, 'videos')))
    loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
    text = f"""_base_ = [{BASE!r}]
model = dict(
    backbone=dict(arch=dict(_delete_=True, **{TINY_VIT!r}), pretrained=None,
                  num_frames=4),
    cls_head=dict(in_channels={TINY_VIT['embed_dim']},
                  classifier=dict(model={clip!r}, pretrained=None,
                                  class_names={classes!r}),
                  temporal=dict(num_layers=1)))
train_dataloader = dict(**{loader!r}, dataset=dict(
    pipeline={PIPELINES['train']!r}, **{data!r}))
val_dataloader = dict(**{loader!r}, dataset=dict(
    pipeline={PIPELINES['test']!r}, **{data!r}))
test_dataloader = val_dataloader
test_pipeline = {PIPELINES['test']!r}
train_cfg = dict(max_epochs=1)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True,
                        begin=0, end=1)]
"""
    path = osp.join(root, 'shrunk_config.py')
    with open(path, 'w') as f:
        f.write(text)
    return path


def run(args, root, env, script=True):
    command = ([sys.executable, osp.join(MMA_TOOLS, args[0])] + args[1:]
               if script else args)
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """The config trained one epoch by mmaction2's train.py."""
    root = str(tmp_path_factory.mktemp('mmaction_tools'))
    env = dict(os.environ, T4V_CACHE_DIR=osp.join(root, 'cache'),
               PYTHONWARNINGS='ignore',
               PATH=osp.dirname(sys.executable) + os.pathsep +
               os.environ.get('PATH', ''))
    config = shrunk_config(root)
    proc = run(['train.py', config, '--work-dir', 'work'], root, env)
    log = proc.stdout + proc.stderr
    return dict(root=root, env=env, config=config, log=log,
                checkpoint=osp.join(root, 'work', 'epoch_1.pth'))


def test_train_runs_the_amp_recipe_on_the_cpu(trained):
    assert osp.isfile(trained['checkpoint'])
    assert 'training runs in fp32 with OptimWrapper' in trained['log']


def test_dist_train_two_processes(trained):
    run(['bash', osp.join(MMA_TOOLS, 'dist_train.sh'), trained['config'],
         '2', '--work-dir', 'work_dist'], trained['root'], trained['env'],
        script=False)
    assert osp.isfile(osp.join(trained['root'], 'work_dist', 'epoch_1.pth'))


def test_test_dump_and_confusion_matrix(trained):
    root, env = trained['root'], trained['env']
    run(['test.py', trained['config'], trained['checkpoint'], '--dump',
         'preds.pkl'], root, env)
    # confusion_matrix.py imports mmaction.models before it reads the
    # config: the wheel's missing drn module must be absorbed at start-up
    run(['analysis_tools/confusion_matrix.py', trained['config'],
         'preds.pkl', '--out', 'confusion.pkl', '--label-file',
         osp.join(root, 'classes.txt')], root, env)
    assert osp.getsize(osp.join(root, 'confusion.pkl')) > 0


def test_get_flops(trained):
    proc = run(['analysis_tools/get_flops.py', trained['config'], '--shape',
                '1', '3', '4', '32', '32'], trained['root'], trained['env'])
    assert 'Flops:' in proc.stdout


def test_analyze_logs(trained):
    root = trained['root']
    scalars = [osp.join(dirpath, 'scalars.json')
               for dirpath, _, files in os.walk(osp.join(root, 'work'))
               if 'scalars.json' in files]
    proc = run(['analysis_tools/analyze_logs.py', 'cal_train_time',
                scalars[0]], root, trained['env'])
    assert 'average iter time' in proc.stdout


@pytest.mark.skipif(importlib.util.find_spec('moviepy') is None,
                    reason='browse_dataset.py writes videos with moviepy')
def test_browse_dataset(trained):
    """mmaction2's tool records every pipeline step by replacing the
    dataset's Compose; RobustVideoDataset runs the replacement."""
    root = trained['root']
    run(['visualizations/browse_dataset.py', trained['config'], 'browse',
         '--phase', 'train', '--show-number', '1', '--mode', 'pipeline'],
        root, trained['env'])
    assert osp.getsize(osp.join(root, 'browse', 'video_0.mp4')) > 0


def test_our_launcher_works_without_an_activated_venv(trained):
    """tools/dist_train.sh runs this checkout's .venv Python (or $PYTHON):
    nothing needs to be on PATH."""
    if osp.dirname(sys.executable) != osp.join(REPO, '.venv', 'bin'):
        pytest.skip('the tests do not run in this checkout\'s .venv')
    env = {k: v for k, v in trained['env'].items() if k != 'PYTHON'}
    env['PATH'] = '/usr/bin:/bin'
    run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'),
         trained['config'], '1', '--work-dir', 'work_ours'],
        trained['root'], env, script=False)
