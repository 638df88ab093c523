"""The embedded default (`make demo`): Text4Vis in miniature on this CPU.

1. generate the toy dataset once (``data/toy``);
2. train the toy config through mmengine's Runner (frozen classifier =
   all-MiniLM-L6-v2 embeddings of the seen class names);
3. test on the seen classes with multi-view (2 clips x 3 crops);
4. zero-shot on unseen compositions: swap in the text classifier of the
   unseen class names (no retraining, no checkpoint edit), and, as a
   control, a random classifier of the same size;
5. print a results table.
"""
import argparse
import os.path as osp
import time

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import t4v_mmaction  # noqa: F401
from t4v_mmaction.toy import (make_toy_dataset, run_zero_shot, use_data_root,
                              zero_shot_config)

DEFAULT_CONFIG = 'configs/toy/text4vis_tiny-vit-ttrans_1xb16-seg8-36e_toy-rgb.py'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--data-root', default='data/toy')
    parser.add_argument('--work-dir', default='work_dirs/toy_demo')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main():
    args = parse_args()
    t0 = time.time()
    print(f'==> [1/4] toy dataset in {args.data_root}')
    manifest = make_toy_dataset(args.data_root, seed=args.seed, progress=True)
    counts = manifest['counts']
    print(f'    {counts}')

    cfg = Config.fromfile(args.config)
    use_data_root(cfg, args.data_root)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    print('==> [2/4] training (frozen MiniLM text classifier)')
    runner = Runner.from_cfg(cfg)
    runner.train()
    checkpoint = osp.join(args.work_dir, f'epoch_{cfg.train_cfg.max_epochs}'
                          '.pth')

    print('==> [3/4] testing on seen classes, 2 clips x 3 crops')
    seen = runner.test()

    print('==> [4/4] zero-shot on unseen compositions')
    num_unseen = manifest['num_classes']['unseen']
    unseen = f'{args.data_root}/classes_unseen.txt'
    # the trained model's own text classifier on the unseen names, and a
    # random classifier of the same size as a control
    specs = [('text', 'text'),
             ('random', dict(type='random', classes=unseen, seed=0))]
    results = {}
    for name, spec in specs:
        zcfg = zero_shot_config(cfg, args.data_root, checkpoint,
                                osp.join(args.work_dir, f'zeroshot_{name}'))
        results[name] = run_zero_shot(zcfg, spec)

    num_seen = manifest['num_classes']['seen']
    rows = [
        ('seen classes, multi-view', num_seen, seen['acc/top1'],
         1 / num_seen),
        ('unseen, text classifier (zero-shot)', num_unseen,
         results['text']['acc/top1'], 1 / num_unseen),
        ('unseen, random classifier (control)', num_unseen,
         results['random']['acc/top1'], 1 / num_unseen),
    ]
    print('\n| evaluation | classes | top-1 | chance |')
    print('| --- | --- | --- | --- |')
    for label, k, top1, chance in rows:
        print(f'| {label} | {k} | {100 * top1:.1f} | {100 * chance:.1f} |')
    print(f'\ntotal time {time.time() - t0:.0f} s')


if __name__ == '__main__':
    main()
