"""The upstream fixes of ``t4v_mmaction.compat`` work end to end.

Trains a tiny mmaction2-native recognizer (``tests/configs/``) on generated
videos, then checks safe resuming and testing on torch >= 2.6, the refusal of
malicious checkpoints, the trust tool, 2-process CPU DDP through
``tools/dist_train.sh`` and the launcher scripts' argument forwarding.
"""
import ast
import fractions
import os
import os.path as osp
import pickle
import runpy
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import CheckpointLoader, Runner, load_checkpoint

import t4v_mmaction
from _tiny_video_data import make_tiny_videos
from t4v_mmaction.compat import (UnsafeCheckpointError,
                                 trusted_checkpoint_loading)

from _paths import REPO
TOOLS = osp.join(REPO, 'tools')
RUNTIME_CFG = osp.join(REPO, 'configs', '_base_', 'default_runtime.py')
TINY_CFG = osp.join(REPO, 'tests', 'configs', 'tiny_mobilenetv2_tsn_videos.py')
TRUST_TOOL = osp.join(TOOLS, 'misc', 'trust_checkpoint.py')
TIMEOUT_S = 300
# Environment switches that would hide the behaviour under test.
WEIGHTS_ONLY_OVERRIDES = ('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD',
                          'TORCH_FORCE_WEIGHTS_ONLY_LOAD')


class _CreatesMarker:
    """Unpickling this object creates ``path``: stands in for any payload."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, 'w')


@pytest.fixture(autouse=True)
def _default_weights_only(monkeypatch):
    for name in WEIGHTS_ONLY_OVERRIDES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('tiny_videos')
    ann_file = make_tiny_videos(root, num_videos=8, num_classes=2)
    return str(root), ann_file


def _data_options(tiny_data):
    root, ann_file = tiny_data
    options = {}
    for split in ('train', 'val', 'test'):
        options[f'{split}_dataloader.dataset.ann_file'] = ann_file
        options[f'{split}_dataloader.dataset.data_prefix.video'] = root
    return options


def _cli_options(options):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]


def _env(**extra):
    env = {
        k: v
        for k, v in os.environ.items() if k not in WEIGHTS_ONLY_OVERRIDES
    }
    # torchrun and `python` in the scripts must be this environment's.
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env.update(extra)
    return env


def _run(cmd, **env):
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S)
    proc.output = proc.stdout + proc.stderr
    return proc


def _tiny_cfg(tiny_data, work_dir, name, **options):
    cfg = Config.fromfile(TINY_CFG)
    cfg.merge_from_dict(_data_options(tiny_data))
    cfg.merge_from_dict(options)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = name
    cfg.randomness = dict(seed=0)
    return cfg


def _loss_history(runner):
    return runner.message_hub.get_scalar('train/loss').data[0]


def _pred_scores(dump_file):
    with open(dump_file, 'rb') as f:  # written by this test's own runs
        results = pickle.load(f)
    return np.stack([np.asarray(r['pred_score']) for r in results])


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_import_patches_mmaction_and_drn_stand_in():
    import mmaction.models  # noqa: F401  (fails on the 1.2.0 wheel alone)
    from mmaction.models.localizers import DRN
    from mmaction.registry import MODELS

    assert t4v_mmaction.__version__
    assert MODELS.get('Recognizer2D') is not None
    wheel_lacks_drn = not osp.exists(
        osp.join(
            osp.dirname(mmaction.models.__file__), 'localizers', 'drn',
            'drn.py'))
    if wheel_lacks_drn:
        with pytest.raises(ImportError, match='2714'):
            DRN()


def test_apply_all_is_idempotent():
    loaders = dict(CheckpointLoader._schemes)
    t4v_mmaction.compat.apply_all()
    assert CheckpointLoader._schemes == loaders
    assert all(
        getattr(loader, '_t4v_wrapped', False) for loader in loaders.values())


@pytest.mark.parametrize('path', [RUNTIME_CFG, TINY_CFG])
def test_configs_have_no_imports(path):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    imports = [
        node.lineno for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    assert imports == [], f'{path}: import statements on lines {imports}'


def test_default_runtime_registers_plugin_and_hooks():
    from mmaction.registry import HOOKS
    from mmengine.registry import init_default_scope

    cfg = Config.fromfile(RUNTIME_CFG)
    assert cfg.custom_imports == dict(
        imports=['t4v_mmaction'], allow_failed_imports=False)
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    init_default_scope(cfg.default_scope)
    for name, hook_cfg in cfg.default_hooks.items():
        assert HOOKS.get(hook_cfg['type']) is not None, name
    assert cfg.default_hooks.visualization.enable is False


def test_resume_and_test_tool_under_weights_only(tiny_data, tmp_path):
    # Epoch 1 with mmengine's Runner; CheckpointHook writes epoch_1.pth.
    runner_a = Runner.from_cfg(
        _tiny_cfg(
            tiny_data, tmp_path / 'a', 'run_a', train_cfg=dict(max_epochs=1)))
    runner_a.train()
    ckpt_1 = tmp_path / 'a' / 'epoch_1.pth'
    assert ckpt_1.is_file()
    assert torch.serialization.get_unsafe_globals_in_checkpoint(
        str(ckpt_1)) == []

    # Without t4v_mmaction, safe loading (torch >= 2.6's default) refuses it.
    plain = _run([
        sys.executable, '-c',
        'import sys, torch; torch.load(sys.argv[1], weights_only=True)',
        str(ckpt_1)
    ])
    assert plain.returncode != 0
    assert 'HistoryBuffer' in plain.output

    # Resume to epoch 2, then test in-process and dump the scores.
    inproc_dump = tmp_path / 'inproc.pkl'
    runner_b = Runner.from_cfg(
        _tiny_cfg(
            tiny_data,
            tmp_path / 'b',
            'run_b',
            load_from=str(ckpt_1),
            resume=True,
            test_evaluator=[
                dict(type='AccMetric'),
                dict(type='DumpResults', out_file_path=str(inproc_dump))
            ]))
    runner_b.train()
    assert (runner_b.epoch, runner_b.iter) == (2, 4)
    history_a, history_b = _loss_history(runner_a), _loss_history(runner_b)
    assert len(history_a) == 2 and len(history_b) == 4
    np.testing.assert_array_equal(history_b[:2], history_a)
    lr = runner_b.message_hub.get_scalar('train/lr').data[0]
    np.testing.assert_allclose(lr, [0.05, 0.05, 0.005, 0.005])
    runner_b.test()

    # tools/test.py CONFIG CKPT in a fresh process gives the same scores.
    sub_dump = tmp_path / 'sub.pkl'
    proc = _run([
        sys.executable,
        osp.join(TOOLS, 'test.py'), TINY_CFG,
        str(tmp_path / 'b' / 'epoch_2.pth'), '--work-dir',
        str(tmp_path / 'test'), '--dump',
        str(sub_dump)
    ] + _cli_options(_data_options(tiny_data)))
    assert proc.returncode == 0, proc.output[-3000:]
    assert 'acc/top1' in proc.output
    inproc_scores, sub_scores = _pred_scores(inproc_dump), _pred_scores(
        sub_dump)
    assert sub_scores.shape == (8, 2)
    np.testing.assert_allclose(sub_scores, inproc_scores, atol=1e-5)
    np.testing.assert_allclose(sub_scores.sum(1), 1.0, atol=1e-5)


def _malicious_checkpoint(tmp_path):
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'malicious.pth'
    torch.save(
        dict(
            state_dict=dict(weight=torch.ones(1, 1)),
            meta=_CreatesMarker(marker)), path)
    return path, marker


def test_malicious_checkpoint_is_refused(tmp_path):
    path, marker = _malicious_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError, match='trust_checkpoint'):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    with pytest.raises(UnsafeCheckpointError, match='malicious.pth'):
        load_checkpoint(torch.nn.Linear(1, 1, bias=False), str(path))
    assert not marker.exists()

    # Control: the payload is live, so the refusal above is what stopped it.
    trusted_checkpoint_loading(str(path))
    assert marker.exists()


def _run_tool(monkeypatch, path, *args):
    """Run a tool's ``__main__`` in this process (no interpreter start-up)."""
    monkeypatch.setattr(sys, 'argv', [path] + [str(arg) for arg in args])
    monkeypatch.setenv('LOCAL_RANK', '0')  # tools/test.py sets it otherwise
    runpy.run_path(path, run_name='__main__')


def test_test_tool_refuses_malicious_checkpoint(tiny_data, tmp_path,
                                                monkeypatch):
    path, marker = _malicious_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError, match='malicious.pth'):
        _run_tool(monkeypatch, osp.join(TOOLS, 'test.py'), TINY_CFG, path,
                  '--work-dir', tmp_path / 'test',
                  *_cli_options(_data_options(tiny_data)))
    assert not marker.exists()


def test_trust_tool_refuses_without_flag(tmp_path, monkeypatch):
    path, marker = _malicious_checkpoint(tmp_path)
    dst = tmp_path / 'converted.pth'
    with pytest.raises(SystemExit, match='--yes-i-trust-this-file'):
        _run_tool(monkeypatch, TRUST_TOOL, path, dst)
    assert not dst.exists()
    assert not marker.exists()


# Written by plain mmengine (no t4v_mmaction): HistoryBuffer goes through
# builtins.getattr, as in every checkpoint saved before the fix.
_WRITE_OLD_CHECKPOINT = """
import sys, numpy as np, torch
from mmengine.logging import MessageHub
hub = MessageHub.get_instance('old')
for loss in (1.5, 0.5):
    hub.update_scalar('train/loss', loss)
torch.save(dict(state_dict=dict(weight=torch.arange(4.)),
                meta=dict(seed=np.int64(3)),
                message_hub=hub.state_dict()), sys.argv[1])
"""


def test_trust_tool_converts_old_checkpoint(tmp_path, monkeypatch):
    src, dst = tmp_path / 'old.pth', tmp_path / 'out' / 'new.pth'
    proc = _run([sys.executable, '-c', _WRITE_OLD_CHECKPOINT, str(src)])
    assert proc.returncode == 0, proc.output[-3000:]
    assert 'builtins.getattr' in \
        torch.serialization.get_unsafe_globals_in_checkpoint(str(src))
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(str(src), map_location='cpu')

    _run_tool(monkeypatch, TRUST_TOOL, src, dst, '--yes-i-trust-this-file')
    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    torch.testing.assert_close(ckpt['state_dict']['weight'], torch.arange(4.))
    assert ckpt['meta']['seed'] == 3
    history = ckpt['message_hub']['log_scalars']['train/loss']
    np.testing.assert_array_equal(history.data[0], [1.5, 0.5])
    assert history.mean() == 1.0


def test_trust_tool_rejects_objects_beyond_allow_list(tmp_path, monkeypatch):
    src, dst = tmp_path / 'foreign.pth', tmp_path / 'new.pth'
    torch.save(dict(meta=dict(ratio=fractions.Fraction(1, 3))), src)
    with pytest.raises(SystemExit, match='fractions.Fraction'):
        _run_tool(monkeypatch, TRUST_TOOL, src, dst, '--yes-i-trust-this-file')
    assert not dst.exists()


def _fake_launcher(tmp_path, name):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    launcher = bin_dir / name
    launcher.write_text('#!/usr/bin/env bash\n'
                        'printf "%s\\n" "$@" > "$FAKE_ARGS_FILE"\n')
    launcher.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize(
    'script, launcher, args, env, expected',
    [('dist_train.sh', 'python', ['c.py', '2', '--seed', '0'], {}, [
        '-m', 'torch.distributed.run', '--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
        '--nproc_per_node=2', '--master_port=29500', '{tools}/train.py',
        'c.py', '--launcher', 'pytorch', '--seed', '0'
    ]),
     ('dist_test.sh', 'python', ['c.py', 'k.pth', '4', '--dump', 'a b.pkl'],
      dict(NNODES='2', NODE_RANK='1', MASTER_ADDR='10.0.0.2', PORT='1234'), [
          '-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1', '--master_addr=10.0.0.2',
          '--nproc_per_node=4', '--master_port=1234', '{tools}/test.py',
          'c.py', 'k.pth', '--launcher', 'pytorch', '--dump', 'a b.pkl'
      ]),
     ('slurm_train.sh', 'srun', ['part', 'job', 'c.py', 'wd', '--amp'],
      dict(GPUS='4', GPUS_PER_NODE='2', SRUN_ARGS='--qos=low'), [
          '-p', 'part', '--job-name=job', '--gres=gpu:2', '--ntasks=4',
          '--ntasks-per-node=2', '--cpus-per-task=5', '--kill-on-bad-exit=1',
          '--qos=low', 'python', '-u', '{tools}/train.py', 'c.py',
          '--work-dir=wd', '--launcher=slurm', '--amp'
      ]),
     ('slurm_test.sh', 'srun', ['part', 'job', 'c.py', 'k.pth'], {}, [
         '-p', 'part', '--job-name=job', '--gres=gpu:8', '--ntasks=8',
         '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
         'python', '-u', '{tools}/test.py', 'c.py', 'k.pth', '--launcher=slurm'
     ])])
def test_launcher_scripts_forward_arguments(tmp_path, script, launcher, args,
                                            env, expected):
    bin_dir = _fake_launcher(tmp_path, launcher)
    args_file = tmp_path / 'args.txt'
    cmd = ['bash', osp.join(TOOLS, script)]
    env = dict(env, FAKE_ARGS_FILE=str(args_file))
    for name in ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT', 'GPUS',
                 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS'):
        env.setdefault(name, '')  # unset-like: the scripts use ${X:-default}
    env['PATH'] = f'{bin_dir}{os.pathsep}{os.environ["PATH"]}'
    env['PYTHON'] = 'python'  # the fake one on PATH (slurm: srun runs it)
    proc = subprocess.run(
        cmd + args, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert args_file.read_text().splitlines() == [
        arg.format(tools=TOOLS) for arg in expected
    ]

    too_few = subprocess.run(
        cmd + args[:1], env=env, capture_output=True, text=True, timeout=60)
    assert too_few.returncode == 2
    assert 'usage' in too_few.stderr


def test_dist_train_two_cpu_processes(tiny_data, tmp_path):
    work_dir = tmp_path / 'ddp'
    proc = _run(
        [
            'bash',
            osp.join(TOOLS, 'dist_train.sh'), TINY_CFG, '2', '--work-dir',
            str(work_dir), '--seed', '0'
        ] + _cli_options(
            dict(_data_options(tiny_data), **{'train_cfg.max_epochs': 1})),
        PORT=str(_free_port()),
        OMP_NUM_THREADS='1',
        CUDA_VISIBLE_DEVICES='')  # the CPU path, also on a GPU machine
    assert proc.returncode == 0, proc.output[-3000:]
    assert 'Distributed training: True' in proc.output
    assert 'GPU number: 2' in proc.output
    ckpt = CheckpointLoader.load_checkpoint(
        str(work_dir / 'epoch_1.pth'), map_location='cpu')
    assert ckpt['meta']['epoch'] == 1
    # 8 videos, 4 per batch and process: one iteration per process.
    assert ckpt['meta']['iter'] == 1
    assert 'backbone.conv1.conv.weight' in ckpt['state_dict']


def test_cpu_process_group_is_destroyed_at_exit(monkeypatch):
    """The gloo group the CPU path creates registers its own destruction
    (a live gloo group at interpreter shutdown can abort the process)."""
    from t4v_mmaction.compat import cpu_distributed
    registered = []
    monkeypatch.setattr(cpu_distributed.atexit, 'register',
                        registered.append)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(_free_port()))
    with pytest.warns(UserWarning, match='gloo'):
        cpu_distributed._init_dist_pytorch_cpu(
            None, 'nccl', rank=0, world_size=1)
    try:
        assert torch.distributed.get_backend() == 'gloo'
        assert len(registered) == 1
        registered[0]()
        assert not torch.distributed.is_initialized()
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
