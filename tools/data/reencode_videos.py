"""Write training copies of the videos of a list: re-encoded once at the
recipe's resolution with a short key-frame interval, so that decoding the
few sampled frames of a clip decodes little.

Each video ``ROOT/PATH`` of the list becomes ``OUT_ROOT/PATH`` (every frame
kept, in order: the list stays valid, with ``data_prefix.video=OUT_ROOT``),
see :mod:`t4v_mmaction.datasets.reencode`. Sources are never written:
``OUT_ROOT`` must differ from ``ROOT``, and a file already at an output
path that this tool did not write is refused. Interrupted runs resume:
every copy is written to ``*.part`` and renamed once complete and
recorded in ``OUT_ROOT/reencode_log.jsonl``, whose entries are skipped on
the next run.

Example (the Kinetics-400 recipe: short side 256, a key frame every 8
frames)::

    python tools/data/reencode_videos.py \\
        data/kinetics400/kinetics400_train_list_videos.txt \\
        --root data/kinetics400/videos_train \\
        --out-root data/kinetics400/videos_train_256_g8 --workers 16

It prints the size ratio of the copies to the sources and their PSNR
against the source frames scaled the same way.
"""
import argparse
import concurrent.futures as futures
import contextlib
import json
import os
import os.path as osp
import sys
from concurrent.futures.process import BrokenProcessPool
from typing import Dict, List, Optional

from tqdm import tqdm

from t4v_mmaction.datasets.reencode import copies_summary, reencode_video
from t4v_mmaction.datasets.video_list import parse_video_list

LOG_NAME = 'reencode_log.jsonl'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('ann_file', help='mmaction2 video list')
    parser.add_argument('--root', required=True,
                        help='folder the list paths are relative to')
    parser.add_argument('--out-root', required=True,
                        help='folder of the copies (same relative paths)')
    parser.add_argument('--short-side', type=int, default=256,
                        help='short side of the copies, never upscaled; 0 '
                        'keeps the size (default 256)')
    parser.add_argument('--gop', type=int, default=8,
                        help='frames per key frame; 1 makes every frame one '
                        '(default 8)')
    parser.add_argument('--crf', type=int, default=18,
                        help='libx264 quality, lower is better (default 18)')
    parser.add_argument('--preset', default='veryfast',
                        help='libx264 preset (default veryfast)')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.gop < 1 or args.workers < 1 or args.short_side < 0:
        parser.error('--gop and --workers must be >= 1, --short-side >= 0')
    if osp.realpath(args.root) == osp.realpath(args.out_root):
        parser.error('--out-root is --root: the sources would be replaced')
    return args


def read_log(path: str) -> Dict[str, dict]:
    """Copies already written (relative path -> record); a last line cut by
    an interruption is dropped from the file."""
    done = {}
    if osp.isfile(path):
        with open(path, 'rb+') as f:
            data = f.read()
            if data and not data.endswith(b'\n'):
                f.truncate(data.rfind(b'\n') + 1)
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    done[record['path']] = record
    return done


def _encode(job: tuple) -> dict:
    rel, src, dst, options = job
    part = dst + '.part'
    try:
        os.makedirs(osp.dirname(dst), exist_ok=True)
        record = reencode_video(src, part, **options)
    except Exception as err:  # a source the decoder cannot read
        if osp.exists(part):
            os.remove(part)
        return dict(path=rel, error=f'{type(err).__name__}: {err}')
    record['path'] = rel
    return record


def plan(args: argparse.Namespace, log: Dict[str, dict]) -> List[tuple]:
    """The copies still to write; refuses foreign files at output paths
    and outputs that are sources."""
    entries = parse_video_list(args.ann_file, require_labels=False)
    sources = {osp.realpath(osp.join(args.root, e.path)) for e in entries}
    options = dict(short_side=args.short_side or None, gop=args.gop,
                   crf=args.crf, preset=args.preset)
    jobs, foreign = [], []
    for rel in dict.fromkeys(e.path for e in entries):
        dst = osp.join(args.out_root, rel)
        if osp.realpath(dst) in sources:
            sys.exit(f'error: the copy of {rel} would replace the source '
                     f'{dst}; choose another --out-root')
        if rel in log:
            continue
        if osp.exists(dst):
            foreign.append(dst)
            continue
        jobs.append((rel, osp.join(args.root, rel), dst, options))
    if foreign:
        sys.exit(f'error: {len(foreign)} output paths hold files this tool '
                 f'did not write (not in {LOG_NAME}), e.g. {foreign[0]}; '
                 'remove them or choose another --out-root')
    return jobs


def run(jobs: List[tuple], workers: int, log_path: str,
        progress: bool) -> List[dict]:
    """Encode in ``workers`` processes; each finished copy is renamed into
    place and logged at once. A process killed by its decoder fails its
    files, not the run."""
    results = []
    bar = tqdm(total=len(jobs), unit='video', disable=not progress)
    pending = list(jobs)
    while pending:
        chunk, pending = pending[:max(workers * 4, 1)], pending[max(
            workers * 4, 1):]
        outcomes = [None] * len(chunk)
        try:
            with futures.ProcessPoolExecutor(min(workers, len(chunk))) as ex:
                submitted = [ex.submit(_encode, job) for job in chunk]
                for i, (future, job) in enumerate(zip(submitted, chunk)):
                    with contextlib.suppress(BrokenProcessPool):
                        outcomes[i] = _finish(future.result(), job, log_path)
        except BrokenProcessPool:  # broke while submitting
            pass
        # the files of a pool that a decoder killed, and only those, again
        # one process each
        results += [_isolated(job, log_path) if outcome is None else outcome
                    for outcome, job in zip(outcomes, chunk)]
        bar.update(len(chunk))
    bar.close()
    return results


def _isolated(job: tuple, log_path: str) -> dict:
    """One file in a process of its own (after a crash in a chunk)."""
    try:
        with futures.ProcessPoolExecutor(1) as ex:
            return _finish(ex.submit(_encode, job).result(), job, log_path)
    except BrokenProcessPool:
        return dict(path=job[0], error='the decoder process died on it')


def _finish(record: dict, job: tuple, log_path: str) -> dict:
    if 'error' not in record:
        dst = job[2]
        os.replace(dst + '.part', dst)
        with open(log_path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(record) + '\n')
    return record


def summary(records: List[dict]) -> dict:
    good = [r for r in records if 'error' not in r]
    return dict(
        copies=len(good),
        failed={r['path']: r['error'] for r in records if 'error' in r},
        **copies_summary(good))


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    os.makedirs(args.out_root, exist_ok=True)
    log_path = osp.join(args.out_root, LOG_NAME)
    log = read_log(log_path)
    jobs = plan(args, log)
    print(f'{len(log)} copies already written, {len(jobs)} to write '
          f'(short side {args.short_side or "kept"}, a key frame every '
          f'{args.gop} frames, crf {args.crf})')
    failed = [r for r in run(jobs, args.workers, log_path,
                             not args.no_progress) if 'error' in r]
    wanted = {e.path for e in parse_video_list(args.ann_file,
                                                require_labels=False)}
    records = [r for r in read_log(log_path).values() if r['path'] in wanted]
    result = summary(records + failed)
    ratio = 'n/a' if result['size_ratio'] is None else \
        f'{result["size_ratio"]:.2f}x'
    psnr = 'n/a' if result['psnr_mean'] is None else \
        f'{result["psnr_mean"]:.1f} dB (min {result["psnr_min"]:.1f})'
    print(f'{result["copies"]} copies in {args.out_root}: size {ratio} the '
          f'sources, PSNR {psnr}')
    for path, error in list(result['failed'].items())[:20]:
        print(f'FAILED {path}: {error}')
    return result


if __name__ == '__main__':
    main()
