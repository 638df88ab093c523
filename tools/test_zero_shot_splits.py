"""Test one checkpoint on the three Kinetics-600 zero-shot splits.

Text4Vis evaluates its Kinetics-400 ViT-L/14 8-frame model on three splits of
160 Kinetics-600 classes (the classes that are not in Kinetics-400) and
reports top-1 as the mean and population standard deviation over the splits
(Table 4: 68.9 +- 1.0); the original computed the mean by hand. This tool
runs mmengine's ``Runner.test`` on every split config in one command (each
split in ``WORK_DIR/<config name>``), prints the per-split metrics and their
mean +- std, and writes them to ``WORK_DIR/zero_shot_splits.json``.

Example::

    python tools/test_zero_shot_splits.py k400_vit-l14_seg8.pth
    # 8 GPUs
    torchrun --nproc-per-node 8 tools/test_zero_shot_splits.py \\
        k400_vit-l14_seg8.pth --launcher pytorch
"""
import argparse
import json
import math
import numbers
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mmaction.registry import RUNNERS

import t4v_mmaction  # noqa: F401  (compat fixes before any config is read)

_ZERO_SHOT_DIR = osp.join(
    osp.dirname(osp.abspath(__file__)), '..', 'configs', 'text4vis',
    'zero_shot')
DEFAULT_CONFIGS = [
    osp.normpath(
        osp.join(
            _ZERO_SHOT_DIR,
            'text4vis_vit-l14-ttrans_32xb8-seg8-30e_kinetics400-rgb_'
            f'zero-shot-k600-split{k}.py')) for k in (1, 2, 3)
]
#: metrics printed first, in this order, when the splits report them
HEADLINE_KEYS = ('acc/top1', 'acc/top5')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test a checkpoint on several zero-shot split configs '
        '(default: the three Kinetics-600 splits) and report each split '
        'and the mean +- population std over the splits.')
    parser.add_argument('checkpoint', help='checkpoint to test')
    parser.add_argument(
        '--configs',
        nargs='+',
        default=DEFAULT_CONFIGS,
        metavar='CONFIG',
        help='split configs, tested in this order (default: the three '
        'Kinetics-600 zero-shot configs of configs/text4vis/zero_shot/)')
    parser.add_argument(
        '--work-dir',
        default=osp.join('work_dirs', 'zero_shot_splits'),
        help='each split logs to WORK_DIR/<config name>; the summary goes '
        'to WORK_DIR/zero_shot_splits.json (default: %(default)s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides applied to every split config, xxx=yyy as in '
        'tools/test.py')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def summarize_splits(
        results: Sequence[Mapping[str, float]]
) -> Dict[str, Tuple[float, float]]:
    """Mean and population std over splits of every metric they share.

    Args:
        results (Sequence[Mapping[str, float]]): The metrics of each split,
            e.g. ``[{'acc/top1': 0.70, 'acc/top5': 0.92}, ...]``.

    Returns:
        dict[str, tuple[float, float]]: ``{key: (mean, std)}`` for every
        numeric key that all splits report, in the first split's key order;
        ``std`` is the population standard deviation (``ddof=0``), as the
        original reports.

    Raises:
        ValueError: If ``results`` is empty or the splits share no numeric
            metric.
    """
    if not results:
        raise ValueError('no split results to summarize')
    keys = [
        key for key in results[0]
        if all(_is_number(r.get(key)) for r in results)
    ]
    if not keys:
        raise ValueError('the splits share no numeric metric; got keys '
                         f'{[sorted(r) for r in results]}')
    summary = {}
    for key in keys:
        values = [float(r[key]) for r in results]
        mean = sum(values) / len(values)
        var = sum((v - mean)**2 for v in values) / len(values)
        summary[key] = (mean, math.sqrt(var))
    return summary


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def format_summary(names: Sequence[str],
                   results: Sequence[Mapping[str, float]],
                   summary: Mapping[str, Tuple[float, float]]) -> str:
    """A plain-text table: one row per split, then ``mean +- std``.

    Accuracies (fractions in [0, 1]) are shown in percent, counts
    (``num_samples`` and the like) as they are.

    Args:
        names (Sequence[str]): Split names, one per result.
        results (Sequence[Mapping[str, float]]): The metrics of each split.
        summary (Mapping[str, tuple[float, float]]): The output of
            :func:`summarize_splits`.

    Returns:
        str: The table, lines separated by ``\\n``.
    """
    if len(names) != len(results):
        raise ValueError(f'{len(names)} names for {len(results)} results')
    keys = [k for k in HEADLINE_KEYS if k in summary]
    keys += [k for k in summary if k not in keys]
    width = max([len('mean +- std')] + [len(n) for n in names])
    lines = [f'{"split":<{width}}  ' + '  '.join(f'{k:>16}' for k in keys)]
    for name, result in zip(names, results):
        cells = [f'{_show(k, result[k]):>16}' for k in keys]
        lines.append(f'{name:<{width}}  ' + '  '.join(cells))
    cells = [
        f'{_show(k, summary[k][0]) + " +- " + _show(k, summary[k][1]):>16}'
        for k in keys
    ]
    lines.append(f'{"mean +- std":<{width}}  ' + '  '.join(cells))
    return '\n'.join(lines)


def _show(key: str, value: float) -> str:
    if 'num_' in key:  # counts such as num_samples
        return f'{value:g}'
    return f'{100 * value:.2f}'


def split_name(config: str) -> str:
    """The split's name: the config file name without ``.py``."""
    return osp.splitext(osp.basename(config))[0]


def run_split(config: str,
              checkpoint: str,
              work_dir: str,
              cfg_options: Optional[dict] = None,
              launcher: str = 'none') -> Dict[str, float]:
    """Run ``Runner.test`` of one split config with ``checkpoint``.

    Args:
        config (str): The split's config file.
        checkpoint (str): Checkpoint loaded into the config's model.
        work_dir (str): The split's work dir (logs, metrics).
        cfg_options (dict, optional): Overrides merged into the config.
            Defaults to None.
        launcher (str): Job launcher. Defaults to ``'none'``.

    Returns:
        dict[str, float]: The metrics of the test evaluator.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'split config not found: {config}')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    cfg.work_dir = work_dir
    cfg.load_from = checkpoint
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    metrics = runner.test()
    # numpy scalars -> float, for the summary and its JSON file
    return {
        k: float(v) if _is_number(v) else v
        for k, v in metrics.items()
    }


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    absent = [c for c in args.configs if not osp.isfile(c)]
    if absent:
        raise FileNotFoundError(f'split configs not found: {absent}')
    names = [split_name(c) for c in args.configs]
    if len(set(names)) != len(names):
        raise ValueError(f'--configs must have distinct file names (each '
                         f'names its work dir), got {names}')
    results = []
    for config, name in zip(args.configs, names):
        results.append(
            run_split(config, args.checkpoint,
                      osp.join(args.work_dir, name), args.cfg_options,
                      args.launcher))
    summary = summarize_splits(results)
    report = dict(
        checkpoint=args.checkpoint,
        splits={n: r
                for n, r in zip(names, results)},
        mean={k: v[0]
              for k, v in summary.items()},
        std={k: v[1]
             for k, v in summary.items()})
    if is_main_process():
        print(format_summary(names, results, summary))
        os.makedirs(args.work_dir, exist_ok=True)
        out = osp.join(args.work_dir, 'zero_shot_splits.json')
        with open(out, 'w', encoding='utf-8') as f:
            json.dump(report, f, indent=2)
        print(f'summary written to {out}')
    return report


if __name__ == '__main__':
    main()
