"""Byte-mutated mp4 files: the seeded generator of the fuzz corpus in
``tests/data/fuzz_videos/`` and a campaign that tries many of them.

Mutant ``i`` of ``mutants(source, seed)`` overwrites 1-32 random bytes of
``source.mp4`` (a 64x48, 30-frame libx264 mp4 of 2.8 KB), 70 % of the time
inside its ``moov`` index, where a decoder is most easily derailed. The
files ``crash-decord-{i}.mp4`` of the corpus are mutants ``i`` of seed
:data:`CORPUS_SEED` that crash decord opening them (SIGABRT from
``std::bad_alloc`` or SIGSEGV in ``VideoReader``); ``crash-pyav-{i}.mp4``
crash PyAV decoding them too (SIGSEGV).

Run as a script for the figures of the README's robustness table::

    python tests/reliability/_fuzz_videos.py --count 2000 [--decoder pyav]

It writes the mutants to a temporary folder, records what each does to the
unprotected decoder in a fresh interpreter (decoded / error / crash / hang, at
open or at decode), then reads every one with the test and train pipelines
of ``RobustVideoDataset`` (decord, as shipped, or ``ExactPyAV*``) in this
process: if any file took the process down, the campaign would not finish.
"""
import argparse
import collections
import io
import os.path as osp
import signal
import subprocess
import sys
import tempfile
import time
from typing import Iterator, List

import numpy as np

CORPUS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data',
                  'fuzz_videos')
SOURCE = osp.join(CORPUS, 'source.mp4')
CORPUS_SEED = 3
REPO = osp.dirname(osp.dirname(osp.dirname(CORPUS)))
CHILD_FLAG = '--unprotected-child'


def mutants(data: bytes, seed: int = CORPUS_SEED) -> Iterator[bytes]:
    """Endless mutants of ``data``; the same ``seed`` gives the same ones."""
    moov = data.find(b'moov')
    if moov < 4:
        raise ValueError('the source has no moov atom')
    size = int.from_bytes(data[moov - 4:moov], 'big')
    rng = np.random.default_rng(seed)
    while True:
        mutant = bytearray(data)
        count = int(rng.integers(1, 33))
        inside = rng.random() < 0.7
        lo, hi = (moov - 4, moov - 4 + size) if inside else (0, len(data))
        for pos in rng.integers(lo, hi, count):
            mutant[pos] = int(rng.integers(0, 256))
        yield bytes(mutant)


def mutant(index: int, seed: int = CORPUS_SEED, source: str = SOURCE):
    """Mutant ``index`` (0-based) of ``seed``."""
    with open(source, 'rb') as f:
        generator = mutants(f.read(), seed)
    for _ in range(index):
        next(generator)
    return next(generator)


def _open_and_decode(path: str, decoder: str) -> None:
    """In the child: open ``path`` as the pipeline would, report reaching
    the decode stage on stdout, decode three frames."""
    with open(path, 'rb') as f:  # in memory, as DecordInit reads
        data = f.read()
    if decoder == 'decord':
        import decord
        decord.logging.set_level(decord.logging.QUIET)
        reader = decord.VideoReader(io.BytesIO(data), num_threads=1)
        n = len(reader)
        _reached_decode()
        reader.get_batch([0, n // 2, n - 1] if n else [0]).asnumpy()
    else:  # the module alone: the child need not import torch
        import importlib.util
        spec = importlib.util.spec_from_file_location('packet_index', osp.join(
            REPO, 't4v_mmaction', 'datasets', 'packet_index.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        index = module.PacketIndex(data)
        n = len(index)
        _reached_decode()
        index.frames([0, n // 2, n - 1] if n else [0])


def _reached_decode() -> None:
    sys.stdout.write('d')
    sys.stdout.flush()


def unprotected(path: str, decoder: str = 'decord',
                timeout: float = 20.) -> str:
    """What ``path`` does to a decoder without protection (decord opened
    from memory as ``DecordInit`` does, or PyAV as ``ExactPyAVInit`` does;
    three frames decoded), in a fresh interpreter, so that the outcome does
    not depend on the caller's heap: ``'decoded'``, ``'error at open'``,
    ``'error at decode'``, ``'crash at open (SIGABRT)'``, ``'crash at
    decode (...)'`` or ``'hang'``."""
    try:
        proc = subprocess.run(
            [sys.executable, osp.abspath(__file__), CHILD_FLAG, path,
             decoder], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            timeout=timeout)
    except subprocess.TimeoutExpired:
        return 'hang'
    stage = 'decode' if proc.stdout else 'open'
    if proc.returncode < 0:
        return f'crash at {stage} ({signal.Signals(-proc.returncode).name})'
    return 'decoded' if proc.returncode == 0 else f'error at {stage}'


def pipeline(num_frames: int, test_mode: bool,
             decoder: str = 'decord') -> List[dict]:
    """The shipped pipelines' decoding steps at the mutants' size."""
    init, decode = ('DecordInit', 'DecordDecode') if decoder == 'decord' \
        else ('ExactPyAVInit', 'ExactPyAVDecode')
    return [
        dict(type=init),
        dict(type='SegmentSampleFrames', num_segments=num_frames,
             test_mode=test_mode),
        dict(type=decode),
        dict(type='Resize', scale=(-1, 32)),
        dict(type='CenterCrop', crop_size=32),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ]


def campaign(count: int, seed: int, folder: str,
             decoder: str = 'decord') -> dict:
    """Write ``count`` mutants into ``folder``; what decord does to each and
    how the dataset ends with it (see the module docstring)."""
    from mmengine.registry import init_default_scope

    from t4v_mmaction.datasets import RobustVideoDataset
    init_default_scope('mmaction')

    with open(SOURCE, 'rb') as f:
        generator = mutants(f.read(), seed)
    plain = collections.Counter()
    lines = []
    for i in range(count):
        name = f'mutant-{i}.mp4'
        with open(osp.join(folder, name), 'wb') as f:
            f.write(next(generator))
        plain[unprotected(osp.join(folder, name), decoder)] += 1
        lines.append(f'{name} 0\n')
    ann_file = osp.join(folder, 'mutants.txt')
    with open(ann_file, 'w') as f:
        f.writelines(lines)

    tested = RobustVideoDataset(ann_file, pipeline(8, True, decoder),
                                data_prefix=dict(video=folder),
                                test_mode=True)
    test_mode = collections.Counter()
    for idx in range(len(tested)):
        sample = tested[idx]['data_samples']
        reason = sample.metainfo.get('read_error', '')
        kind = 'decoder crash' if 'decoder crash' in reason else \
            reason.split(' (')[0].split(':')[0]
        test_mode[kind or 'scored'] += 1
    trained = RobustVideoDataset(ann_file, pipeline(8, False, decoder),
                                 data_prefix=dict(video=folder), max_skips=1.)
    trained.set_seed(seed)
    for idx in range(len(trained)):
        trained[idx]
    return dict(count=count, seed=seed, decoder=decoder,
                unprotected=dict(plain),
                test_mode=dict(test_mode),
                train_mode=dict(samples=len(trained),
                                distinct_broken=len(trained._skipped)))


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [CHILD_FLAG]:
        _open_and_decode(*argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--count', type=int, default=2000)
    parser.add_argument('--seed', type=int, default=CORPUS_SEED)
    parser.add_argument('--decoder', choices=('decord', 'pyav'),
                        default='decord')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        start = time.monotonic()
        result = campaign(args.count, args.seed, folder, args.decoder)
    result['seconds'] = round(time.monotonic() - start, 1)
    print(result)


if __name__ == '__main__':
    sys.exit(main())
