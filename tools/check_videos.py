"""Find the broken videos of an mmaction2 video list before training.

Example::

    python tools/check_videos.py \\
        data/kinetics400/kinetics400_train_list_videos.txt \\
        --root data/kinetics400/videos_train --workers 16 \\
        --out data/kinetics400/kinetics400_train_list_videos_clean.txt

Every video is opened with decord and its first, middle and last frame are
decoded, in parallel. Prints a table of the problems (missing, empty,
unreadable, too short, undecodable) and, with ``--out``, writes the lines of
the good videos unchanged. Exits with status 0 whatever it finds (1 only for
a list it cannot read), so it can run before a training script.
"""
import argparse
import multiprocessing
import os.path as osp
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional

from tqdm import tqdm

from t4v_mmaction.datasets.annotation import read_text_lines
from t4v_mmaction.datasets.decoder_guard import DecoderGuard
from t4v_mmaction.datasets.video_list import parse_video_list
from t4v_mmaction.datasets.video_probe import VideoProbe


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Check that every video of an mmaction2 list can be '
        'decoded; print the problems and write a list of the good ones.')
    parser.add_argument('ann_file', help='video list: "relpath label" lines')
    parser.add_argument('--root', required=True,
                        help='folder the list paths are relative to (the '
                        "dataset's data_prefix.video)")
    parser.add_argument('--workers', type=int, default=None,
                        help='processes (default: every CPU)')
    parser.add_argument('--out', help='write the lines of the good videos '
                        'here (a clean list)')
    parser.add_argument('--min-frames', type=int, default=1,
                        help='videos with fewer frames count as problems '
                        '(e.g. the frames sampled per clip)')
    parser.add_argument('--multi-class', action='store_true',
                        help='lines may hold several labels')
    parser.add_argument('--delimiter', default=' ',
                        help='field separator of the list')
    args = parser.parse_args(argv)
    if args.min_frames < 1:
        parser.error('--min-frames must be >= 1')
    if args.workers is not None and args.workers < 1:
        parser.error('--workers must be >= 1')
    return args


def probe_all(paths: List[str], min_frames: int,
              workers: int) -> List[VideoProbe]:
    """Probe every path (in order) in ``workers`` disposable processes
    (:class:`DecoderGuard`): a file that crashes the decoder kills only the
    process probing it, and is reported."""
    local, guards = threading.local(), []

    def probe(path: str) -> VideoProbe:
        if not hasattr(local, 'guard'):
            local.guard = DecoderGuard()
            guards.append(local.guard)
        return local.guard.probe(path, min_frames)

    bar = dict(total=len(paths), desc='videos', unit='video')
    try:
        with ThreadPoolExecutor(workers) as pool:
            return list(tqdm(pool.map(probe, paths), **bar))
    finally:
        for guard in guards:
            guard.close()


def print_table(rows: List[tuple], total: int) -> None:
    """Print ``(line, path, probe)`` rows and a summary."""
    if not rows:
        print(f'all {total} videos are readable')
        return
    width = min(max(len(r[1]) for r in rows), 60)
    print(f'{"line":>6}  {"video":<{width}}  {"frames":>6}  problem')
    for lineno, path, probe in rows:
        shown = path if len(path) <= width else '...' + path[-width + 3:]
        print(f'{lineno:>6}  {shown:<{width}}  {probe.num_frames:>6}  '
              f'{probe.problem}')
    kinds = Counter(r[2].kind for r in rows)
    print(f'{len(rows)} of {total} lines name a broken video: ' +
          ', '.join(f'{k} {n}' for k, n in kinds.most_common()))


def main(argv: Optional[List[str]] = None) -> List[tuple]:
    """Run the check; returns the problem rows ``(line, path, probe)``."""
    args = parse_args(argv)
    try:
        entries = parse_video_list(
            args.ann_file,
            multi_class=args.multi_class,
            delimiter=args.delimiter,
            require_labels=False)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    unique = list(dict.fromkeys(osp.join(args.root, e.path)
                                for e in entries))
    workers = args.workers or multiprocessing.cpu_count()
    probes = {
        p.path: p
        for p in probe_all(unique, args.min_frames, min(workers, len(unique)))
    }
    rows, good = [], set()
    for entry in entries:
        probe = probes[osp.join(args.root, entry.path)]
        if probe.kind is None:
            good.add(entry.lineno)
        else:
            rows.append((entry.lineno, entry.path, probe))
    print_table(rows, len(entries))
    if args.out:
        lines = [line for n, line in read_text_lines(args.ann_file)
                 if n in good]
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(''.join(f'{line}\n' for line in lines))
        print(f'wrote {len(lines)} of {len(entries)} lines to {args.out}')
    return rows


if __name__ == '__main__':
    main()
