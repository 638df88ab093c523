"""Write the procedurally generated toy video dataset used by the demo.

Example::

    python tools/make_toy_dataset.py data/toy --workers 2

Skips the work when OUT_DIR already holds a complete dataset with the same
settings (checked through its manifest.json).
"""
import argparse
import time
from typing import List, Optional

from t4v_mmaction.toy import make_toy_dataset


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write compositional toy videos ("a red circle moving '
        'up"), mmaction2 annotation lists for seen classes and a zero-shot '
        'list of held-out compositions.')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    parser.add_argument('--videos-per-class', type=int, default=30,
                        help='training videos per seen class')
    parser.add_argument('--val-per-class', type=int, default=10,
                        help='validation videos per seen class')
    parser.add_argument('--zeroshot-per-class', type=int, default=10,
                        help='videos per unseen (zero-shot) class')
    parser.add_argument('--num-frames', type=int, default=16,
                        help='frames per video')
    parser.add_argument('--size', type=int, default=64,
                        help='frame height and width in pixels')
    parser.add_argument('--workers', type=int, default=None,
                        help='worker processes (default: every CPU)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    manifest = make_toy_dataset(
        args.out_dir, seed=args.seed,
        videos_per_class=args.videos_per_class,
        val_per_class=args.val_per_class,
        zeroshot_per_class=args.zeroshot_per_class,
        num_frames=args.num_frames, size=args.size, workers=args.workers,
        progress=True)
    counts = ', '.join(f'{k} {v}' for k, v in manifest['counts'].items())
    classes = manifest['num_classes']
    print(f'{args.out_dir}: {classes["seen"]} seen and {classes["unseen"]} '
          f'unseen classes; videos: {counts} '
          f'({time.perf_counter() - start:.1f} s)')
    return manifest


if __name__ == '__main__':
    main()
