"""Files that crash the decoder (the fuzz corpus of tests/data/fuzz_videos:
decord dies with SIGABRT or SIGSEGV opening them as ``DecordInit`` does;
PyAV dies decoding ``crash-pyav-*``) are broken videos like any other:
training skips and counts them, with and without DataLoader workers and on
2 processes, with decord (guarded) or ``ExactPyAV*`` (isolated) pipelines;
testing scores them as failed; the checking tools report them and finish."""
import glob
import importlib.util
import os.path as osp
import shutil
import sys

import pytest
from _fuzz_videos import CORPUS, mutant, unprotected
from _runs import run, train_command
from _tiny_recipe import TINY_CFG, tiny_cfg
from _tiny_video_data import make_tiny_videos
from mmengine.config import Config
from mmengine.runner import Runner

from t4v_mmaction.datasets import RobustVideoDataset
from t4v_mmaction.datasets.decoder_guard import DecoderGuard

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
CRASHERS = sorted(osp.basename(p)
                  for p in glob.glob(osp.join(CORPUS, 'crash-*.mp4')))
PYAV_CRASHERS = [n for n in CRASHERS if n.startswith('crash-pyav-')]
NUM_GOOD = 6
needs_av = pytest.mark.skipif(importlib.util.find_spec('av') is None,
                              reason='PyAV is not installed')


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """(root, list of good videos + the crashing files)."""
    root = tmp_path_factory.mktemp('videos')
    good = make_tiny_videos(str(root), num_videos=NUM_GOOD, num_classes=2)
    (root / 'crash').mkdir()
    for name in CRASHERS:
        shutil.copy(osp.join(CORPUS, name), root / 'crash' / name)
    mixed = root / 'mixed.txt'
    with open(good) as f:  # a crashing file between good ones
        lines = f.read().splitlines(keepends=True)
    for i, name in enumerate(CRASHERS):
        lines.insert(2 * i + 1, f'crash/{name} {i % 2}\n')
    mixed.write_text(''.join(lines))
    return str(root), str(mixed)


def test_the_corpus_comes_from_the_seeded_generator():
    assert len(CRASHERS) >= 6 and len(PYAV_CRASHERS) >= 2
    for name in CRASHERS:
        index = int(name[:-len('.mp4')].rsplit('-', 1)[1])
        with open(osp.join(CORPUS, name), 'rb') as f:
            assert f.read() == mutant(index), name


@pytest.mark.parametrize('name', CRASHERS)
def test_each_file_crashes_unprotected_decord(name):
    """The premise: without the guard, decord (0.6.0) dies on it."""
    outcome = unprotected(osp.join(CORPUS, name), 'decord')
    assert outcome.startswith('crash at open'), outcome


@needs_av
@pytest.mark.parametrize('name', PYAV_CRASHERS)
def test_each_pyav_file_crashes_unprotected_pyav(name):
    """The premise: decoding in this process, PyAV (18.1) dies on it."""
    outcome = unprotected(osp.join(CORPUS, name), 'pyav')
    assert outcome.startswith('crash at decode'), outcome


def test_guard_reports_a_crash_and_goes_on():
    guard = DecoderGuard()
    try:
        for name in CRASHERS:
            probe = guard.open(osp.join(CORPUS, name))
            assert probe.kind == 'decoder crash', probe
            assert 'SIG' in probe.detail, probe
        assert guard.open(osp.join(CORPUS, 'source.mp4')).num_frames == 30
    finally:
        guard.close()


def test_guard_does_not_wait_forever_on_a_malformed_answer(tmp_path,
                                                          monkeypatch):
    """A child that answers nonsense and lives on is killed: the file is a
    decoder crash, not a hang of the run."""
    from t4v_mmaction.datasets import decoder_guard
    child = tmp_path / 'babbling_child.py'
    child.write_text(
        'import struct, sys, time\n'
        'sys.stdin.buffer.read(8)\n'
        'sys.stdout.buffer.write(struct.pack(">II", 5, 0) + b"{{{{{")\n'
        'sys.stdout.buffer.flush()\n'
        'time.sleep(3600)\n')
    monkeypatch.setattr(decoder_guard, '_CHILD', str(child))
    guard = DecoderGuard(timeout=2.)
    try:
        probe = guard.open(osp.join(CORPUS, 'source.mp4'))
    finally:
        guard.close()
    assert (probe.kind, probe.detail) == ('decoder crash',
                                          'a malformed answer')


@pytest.mark.parametrize('num_workers', [0, 2])
def test_training_skips_and_counts_decoder_crashes(data, tmp_path,
                                                   num_workers):
    root, mixed = data
    cfg = tiny_cfg(root, mixed, tmp_path, train_cfg=dict(max_epochs=1),
                   train_dataloader=dict(num_workers=num_workers))
    cfg.train_dataloader.dataset.max_skips = len(CRASHERS)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    assert runner.message_hub.get_info('train_broken_videos') == len(
        CRASHERS)
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    for name in CRASHERS:
        assert f'crash/{name}' in log
    assert 'decoder crash (the decoder died with SIG' in log


@needs_av
@pytest.mark.parametrize('num_workers', [0, 2])
def test_isolated_pyav_decoding_skips_and_counts_decoder_crashes(
        data, tmp_path, num_workers):
    root, mixed = data
    cfg = tiny_cfg(root, mixed, tmp_path, train_cfg=dict(max_epochs=1),
                   train_dataloader=dict(num_workers=num_workers))
    cfg.train_dataloader.dataset.pipeline = _exact_pyav(
        cfg.train_dataloader.dataset.pipeline)
    cfg.train_dataloader.dataset.max_skips = len(CRASHERS)
    runner = Runner.from_cfg(cfg)
    runner.train()
    # PyAV reads some of the files that crash decord
    broken = runner.message_hub.get_info('train_broken_videos')
    assert len(PYAV_CRASHERS) <= broken <= len(CRASHERS)
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    for name in PYAV_CRASHERS:  # PyAV opens them, and dies decoding them
        assert f'crash/{name}: ExactPyAVDecode: DecoderCrash' in log, name


def _exact_pyav(steps):
    swap = dict(DecordInit='ExactPyAVInit', DecordDecode='ExactPyAVDecode')
    return [dict(s, type=swap.get(s['type'], s['type'])) for s in steps]


def test_two_process_training_skips_and_counts_decoder_crashes(
        data, tmp_path):
    root, mixed = data
    options = {
        'train_dataloader.dataset.ann_file': mixed,
        'train_dataloader.dataset.data_prefix.video': root,
        'train_dataloader.dataset.max_skips': len(CRASHERS),
        'train_dataloader.num_workers': 2,
        'train_cfg.max_epochs': 1,
        'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None,
    }
    output = run(train_command(TINY_CFG, tmp_path, options, nproc=2),
                 str(tmp_path / 'train.log'))
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    assert f'{len(CRASHERS)} distinct broken videos since the start' \
        in output
    for name in CRASHERS:
        assert f'crash/{name}' in output


@pytest.mark.parametrize(
    'decoder', ['decord', pytest.param('pyav', marks=needs_av)])
def test_testing_scores_decoder_crashes_as_failed(data, tmp_path, decoder):
    root, mixed = data
    cfg = tiny_cfg(root, mixed, tmp_path)
    if decoder == 'pyav':
        cfg.test_dataloader.dataset.pipeline = _exact_pyav(
            cfg.test_dataloader.dataset.pipeline)
    metrics = Runner.from_cfg(cfg).test()
    if decoder == 'decord':
        assert metrics['acc/num_scored'] == NUM_GOOD
        assert metrics['acc/num_failed'] == len(CRASHERS)
    else:  # PyAV reads some of the files that crash decord
        assert metrics['acc/num_scored'] >= NUM_GOOD
        assert metrics['acc/num_failed'] >= len(PYAV_CRASHERS)
        assert metrics['acc/num_scored'] + metrics['acc/num_failed'] == \
            NUM_GOOD + len(CRASHERS)


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_check_videos_reports_decoder_crashes(data, tmp_path, capsys):
    root, mixed = data
    out = tmp_path / 'clean.txt'
    rows = _load_tool('check_videos').main(
        [mixed, '--root', root, '--workers', '2', '--out', str(out)])
    assert sorted(osp.basename(path) for _, path, _ in rows) == CRASHERS
    assert {probe.kind for _, _, probe in rows} == {'decoder crash'}
    assert len(out.read_text().splitlines()) == NUM_GOOD
    assert f'decoder crash {len(CRASHERS)}' in capsys.readouterr().out


def test_data_prep_check_decode_reports_decoder_crashes(data):
    from t4v_mmaction.datasets import find_missing_videos
    root, _ = data
    paths = ['class_0/video_000.mp4'] + [f'crash/{n}' for n in CRASHERS]
    missing, broken = find_missing_videos(root, paths, check_decode=True,
                                          progress=False)
    assert (missing, broken) == ([], paths[1:])


def test_dataset_without_guard_would_die(data):
    """What the guard prevents, in a child process: the same sample read
    with ``guard_decoder=False`` kills the process."""
    import multiprocessing
    root, mixed = data
    ctx = multiprocessing.get_context('fork')
    proc = ctx.Process(target=_read_unguarded, args=(root, mixed))
    proc.start()
    proc.join(120)
    assert proc.exitcode is not None and proc.exitcode < 0, proc.exitcode


def _read_unguarded(root, mixed):
    import faulthandler
    faulthandler.disable()  # the expected crash needs no traceback
    dataset = RobustVideoDataset(
        mixed, Config.fromfile(TINY_CFG).pipeline,
        data_prefix=dict(video=root), test_mode=True, guard_decoder=False)
    for idx in range(len(dataset)):
        dataset[idx]


def test_guard_opens_each_readable_file_once_per_run(data, tmp_path,
                                                     monkeypatch):
    """Workers share which files opened fine: 2 epochs with 2 fresh workers
    each open every good file once, not once per worker and epoch."""
    from torch.utils.data import DataLoader
    root, _ = data
    good = tmp_path / 'good.txt'
    good.write_text(''.join(f'class_{i % 2}/video_{i:03d}.mp4 {i % 2}\n'
                            for i in range(NUM_GOOD)))
    calls = tmp_path / 'opens.txt'
    original = DecoderGuard.open

    def counted(self, path):
        with open(calls, 'a') as f:
            f.write(path + '\n')
        return original(self, path)

    monkeypatch.setattr(DecoderGuard, 'open', counted)
    dataset = RobustVideoDataset(
        str(good), Config.fromfile(TINY_CFG).pipeline,
        data_prefix=dict(video=root))
    for _ in range(2):  # new worker processes every epoch
        for _ in DataLoader(dataset, batch_size=1, num_workers=2,
                            collate_fn=lambda batch: batch):
            pass
    opened = calls.read_text().splitlines()
    assert len(opened) == len(set(opened)) == NUM_GOOD


@pytest.mark.parametrize('context', ['spawn', 'forkserver'])
def test_guarded_dataset_copies_and_starts_workers_any_way(data, context):
    """The shared flags do not stop a dataset from being copied, pickled or
    sent to workers that are not forked."""
    import copy
    import pickle
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader
    root, mixed = data
    dataset = RobustVideoDataset(
        mixed, Config.fromfile(TINY_CFG).pipeline,
        data_prefix=dict(video=root), test_mode=True)
    dataset[0]
    for clone in (copy.deepcopy(dataset),
                  pickle.loads(pickle.dumps(dataset))):
        assert clone[0]['inputs'].shape == dataset[0]['inputs'].shape
    loader = DataLoader(dataset, batch_size=1, num_workers=1,
                        multiprocessing_context=context,
                        collate_fn=pseudo_collate)
    failed = sum(bool(batch['data_samples'][0].get('read_failed'))
                 for batch in loader)
    assert failed == len(CRASHERS)
