"""The paper in miniature: Text4Vis Tables 5, 6 and 8 on the toy dataset.

Trains the toy model (tiny CLIP-architecture ViT, random init, + T-Trans)
once per variant with the same data, schedule and seed, validating after
every epoch, then evaluates zero-shot on the unseen compositions:

* Table 5 (frozen classifiers): ``text`` (all-MiniLM-L6-v2 embeddings of
  the class names, i.e. Text4Vis), ``random``, ``orthogonal``, ``lda``
  (LDA on features of the *randomly initialised* encoder + TAP: the
  paper's recipe uses the pretrained CLIP encoder, which is not available
  offline);
* Table 6 (vision-only): ``linear``, a learnable linear classifier;
* Table 8 (contrastive): ``contrastive`` / ``contrastive-nogather`` (frozen
  text embeddings, "offline") and ``contrastive-online`` /
  ``contrastive-online-nogather`` (MiniLM fine-tuned). In one process a
  batch of 16 *is* the gathered batch of 4 ranks x 4 videos; the no-gather
  runs compute the loss within 4 slices of 4 (``emulated_ranks``), which is
  what 4 processes without gathering compute (DDP averages their
  gradients, i.e. the slice losses).

Writes ``<work-dir>/<run>/result.json``, ``results.json``, a markdown
table (``--out-md``) and a plot of the per-epoch curves (``--out-png``).
"""
import argparse
import itertools
import json
import os
import os.path as osp
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

import t4v_mmaction  # noqa: F401
from t4v_mmaction.toy import (run_zero_shot, use_data_root,
                              zero_shot_config)
from t4v_mmaction.toy.videos import MANIFEST, make_toy_dataset

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
_SUFFIX = 'tiny-vit-ttrans_1xb16-seg8-36e_toy-rgb.py'
TEXT_CFG = osp.join(REPO, 'configs', 'toy', f'text4vis_{_SUFFIX}')
LINEAR_CFG = osp.join(REPO, 'configs', 'toy', f'linear_{_SUFFIX}')
CONTRASTIVE_CFG = osp.join(REPO, 'configs', 'toy', f'contrastive_{_SUFFIX}')
ONLINE_CFG = osp.join(REPO, 'configs', 'toy', f'contrastive-online_{_SUFFIX}')

# name -> config, paper table, paradigm, what differs, extra head options
RUNS = {
    'text': (TEXT_CFG, 'T5/T6/T8', 'frozen classifier',
             'MiniLM text embeddings of the class names (Text4Vis)', {}),
    'random': (TEXT_CFG, 'T5', 'frozen classifier',
               'random normal matrix', {}),
    'orthogonal': (TEXT_CFG, 'T5', 'frozen classifier',
                   'random orthogonal matrix', {}),
    'lda': (TEXT_CFG, 'T5', 'frozen classifier',
            'LDA of random-init encoder + TAP features', {}),
    'linear': (LINEAR_CFG, 'T6', 'vision-only',
               'learnable linear classifier (random init)', {}),
    'contrastive': (CONTRASTIVE_CFG, 'T8', 'contrastive',
                    'offline text, batch gather', {}),
    'contrastive-nogather': (CONTRASTIVE_CFG, 'T8', 'contrastive',
                             'offline text, no gather', {'gather': False}),
    'contrastive-online': (ONLINE_CFG, 'T8', 'contrastive',
                           'online text (MiniLM fine-tuned), batch gather',
                           {}),
    'contrastive-online-nogather': (ONLINE_CFG, 'T8', 'contrastive',
                                    'online text, no gather',
                                    {'gather': False}),
}
_RUN_IDS = itertools.count()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='runs: ' + ', '.join(RUNS))
    parser.add_argument(
        '--data-root',
        default='data/toy',
        help='toy dataset; generated with the default settings when it '
        'holds none')
    parser.add_argument('--work-dir', default='work_dirs/toy_ablation')
    parser.add_argument('--epochs', type=int, default=36)
    parser.add_argument(
        '--runs',
        default=','.join(RUNS),
        help='comma-separated subset of the runs (default: all)')
    parser.add_argument(
        '--nogather-ranks',
        type=int,
        default=4,
        help='processes emulated by the no-gather runs: the contrastive '
        'loss is computed within this many slices of each batch')
    parser.add_argument(
        '--lda-per-class',
        type=int,
        default=None,
        help='training videos per class for the LDA (paper: 60); default '
        'min(60, videos per class)')
    parser.add_argument(
        '--num-workers', type=int, default=None,
        help='dataloader workers (default: the config\'s)')
    parser.add_argument(
        '--reuse',
        action='store_true',
        help='keep the result.json of runs that already finished with '
        'the same number of epochs')
    parser.add_argument(
        '--text-classifiers',
        nargs=2,
        metavar=('SEEN', 'UNSEEN'),
        help='precomputed classifier files (tools/build_classifier.py) of '
        'the seen and unseen class names, used instead of running the '
        "config's language model (e.g. on a machine without it); the "
        'online-text runs still need the model')
    parser.add_argument('--out-md', help='default <work-dir>/ablation.md')
    parser.add_argument('--out-png', help='default <work-dir>/ablation.png')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides applied to every run (e.g. a smaller model)')
    args = parser.parse_args(argv)
    args.runs = [r.strip() for r in args.runs.split(',') if r.strip()]
    unknown = [r for r in args.runs if r not in RUNS]
    if unknown or not args.runs:
        parser.error(f'unknown runs {unknown}; choose from {list(RUNS)}')
    if args.epochs < 1 or args.nogather_ranks < 1:
        parser.error('--epochs and --nogather-ranks must be >= 1')
    return args


class EpochAccuracy(Hook):
    """Records ``acc/top1`` of every validation, with its epoch."""

    priority = 'LOW'

    def __init__(self):
        self.curve = []

    def after_val_epoch(self, runner, metrics=None):
        self.curve.append([runner.epoch, float(metrics['acc/top1'])])


def load_or_make_dataset(root: str) -> dict:
    """The manifest of the dataset in ``root``; generated if there is none.

    An existing complete dataset is used whatever its settings (e.g. a
    small one made for a quick check).
    """
    path = osp.join(root, MANIFEST)
    if osp.isfile(path):
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
        if manifest.get('complete'):
            return manifest
    return make_toy_dataset(root, seed=0, progress=True)


def set_schedule(cfg: Config, epochs: int) -> None:
    """``epochs`` epochs: 1 of warm-up then cosine (as the toy config),
    validation after every epoch, the last checkpoint kept."""
    cfg.train_cfg = dict(
        type='EpochBasedTrainLoop',
        max_epochs=epochs,
        val_begin=1,
        val_interval=1)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0,
             end=1, convert_to_iter_based=True)
    ]
    if epochs > 1:
        cfg.param_scheduler.append(
            dict(type='CosineAnnealingLR', T_max=epochs - 1, eta_min=0,
                 by_epoch=True, begin=1, end=epochs,
                 convert_to_iter_based=True))
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=epochs, max_keep_ckpts=1)


def set_workers(cfg: Config, workers: int) -> None:
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = workers
        cfg[key].persistent_workers = workers > 0


def common_config(path: str, args, manifest: dict) -> Config:
    """A toy config pointed at the data, with the ablation's schedule."""
    cfg = Config.fromfile(path)
    use_data_root(cfg, args.data_root)
    cfg.model.cls_head.num_classes = manifest['num_classes']['seen']
    set_schedule(cfg, args.epochs)
    if args.num_workers is not None:
        set_workers(cfg, args.num_workers)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.text_classifiers and 'classifier' in cfg.model.cls_head:
        cfg.model.cls_head.classifier = args.text_classifiers[0]
    return cfg


def classifier_spec(name: str, cfg: Config, args, manifest: dict):
    """The frozen classifier of a Table 5 run (None: the config's)."""
    num_classes = manifest['num_classes']['seen']
    dim = cfg.model.cls_head.in_channels
    if name == 'random':
        return dict(type='random', num_classes=num_classes, dim=dim, seed=0)
    if name == 'orthogonal':
        return dict(type='orthogonal', dim=dim, seed=0)
    if name != 'lda':
        return None
    # LDA on the video features of the text config's (random-init) model:
    # the backbone's per-frame embeddings, averaged (TAP).
    feature_cfg = common_config(TEXT_CFG, args, manifest)
    os.makedirs(cfg.work_dir, exist_ok=True)
    path = osp.join(cfg.work_dir, 'lda_feature_config.py')
    feature_cfg.dump(path)
    per_class = args.lda_per_class or min(
        60, manifest['settings']['videos_per_class'])
    return dict(
        type='lda',
        config=path,
        num_per_class=per_class,
        seed=0,
        device='cuda' if torch.cuda.is_available() else 'cpu',
        num_workers=args.num_workers if args.num_workers is not None else 2)


def run_config(name: str, args, manifest: dict) -> Config:
    path, _, _, _, head_options = RUNS[name]
    cfg = common_config(path, args, manifest)
    cfg.work_dir = osp.join(args.work_dir, name)
    spec = classifier_spec(name, cfg, args, manifest)
    if spec is not None:
        cfg.model.cls_head.classifier = spec
    head_options = dict(head_options)
    if head_options.get('gather') is False:
        head_options['emulated_ranks'] = args.nogather_ranks
    cfg.model.cls_head.update(head_options)
    cfg.experiment_name = f'{name}_{os.getpid()}_{next(_RUN_IDS)}'
    return cfg


def zero_shot_spec(args, manifest: dict):
    """The text classifier of the unseen names: a precomputed file, or the
    text run's encoder on the unseen names."""
    if args.text_classifiers:
        return args.text_classifiers[1]
    base = common_config(TEXT_CFG, args, manifest).model.cls_head.classifier
    return dict(base, class_names=osp.join(args.data_root,
                                           'classes_unseen.txt'))


def train_and_evaluate(name: str, args, manifest: dict) -> dict:
    """Train one run, validate every epoch, then evaluate zero-shot."""
    start = time.perf_counter()
    cfg = run_config(name, args, manifest)
    runner = Runner.from_cfg(cfg)
    recorder = EpochAccuracy()
    runner.register_hook(recorder)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    runner.train()
    train = time.perf_counter() - start
    head_type = cfg.model.cls_head.type
    del runner

    zero_shot, zs_time = None, 0.
    if head_type != 'LinearVideoHead':
        start = time.perf_counter()
        checkpoint = osp.join(cfg.work_dir, f'epoch_{args.epochs}.pth')
        zcfg = zero_shot_config(cfg, args.data_root, checkpoint,
                                osp.join(cfg.work_dir, 'zeroshot'))
        zcfg.experiment_name = f'{cfg.experiment_name}_zeroshot'
        metrics = run_zero_shot(zcfg, zero_shot_spec(args, manifest))
        zero_shot = float(metrics['acc/top1'])
        zs_time = time.perf_counter() - start
    _, table, paradigm, what, _ = RUNS[name]
    accs = [acc for _, acc in recorder.curve]
    return dict(
        run=name,
        table=table,
        paradigm=paradigm,
        what=what,
        head=head_type,
        epochs=args.epochs,
        batch_size=cfg.train_dataloader.batch_size,
        curve=recorder.curve,
        seen_top1=accs[-1],
        best_top1=max(accs),
        best_epoch=recorder.curve[accs.index(max(accs))][0],
        zero_shot_top1=zero_shot,
        setup_s=round(setup, 1),
        train_s=round(train, 1),
        zero_shot_s=round(zs_time, 1),
        device='cuda' if torch.cuda.is_available() else 'cpu')


def _pct(value) -> str:
    return 'n/a' if value is None else f'{100 * value:.1f}'


def markdown(results: list, manifest: dict, args) -> str:
    """The results table, the per-epoch curves and what they mean."""
    seen = manifest['num_classes']['seen']
    unseen = manifest['num_classes']['unseen']
    counts = manifest['counts']
    batch = results[0]['batch_size'] if results else 16
    ranks = args.nogather_ranks
    lines = [
        '# Toy ablation: Text4Vis Tables 5, 6 and 8 in miniature', '',
        f'Data `{args.data_root}`: {seen} seen classes ({counts["train"]} '
        f'train / {counts["val"]} val videos), {unseen} unseen '
        f'compositions ({counts["zeroshot"]} videos). Same model (tiny '
        'CLIP-architecture ViT, random init, + T-Trans), schedule '
        f'({args.epochs} epochs), batch and seed for every run; device '
        f'{results[0]["device"] if results else "-"}.', '',
        '| run | table | paradigm | classifier / text side | seen top-1 '
        '| best (epoch) | zero-shot top-1 | train s | total s |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'
    ]
    for r in results:
        total = r['setup_s'] + r['train_s'] + r['zero_shot_s']
        lines.append(
            f'| {r["run"]} | {r["table"]} | {r["paradigm"]} | {r["what"]} '
            f'| {_pct(r["seen_top1"])} | {_pct(r["best_top1"])} '
            f'({r["best_epoch"]}) | {_pct(r["zero_shot_top1"])} '
            f'| {r["train_s"]:.0f} | {total:.0f} |')
    lines += [
        '', f'Chance: {100 / seen:.1f} (seen), {100 / unseen:.1f} '
        '(zero-shot).', '', '## Validation top-1 after each epoch', '',
        '| run | ' + ' | '.join(f'e{e}' for e in range(1, args.epochs + 1))
        + ' |', '| --- |' + ' --- |' * args.epochs
    ]
    for r in results:
        lines.append(f'| {r["run"]} | ' +
                     ' | '.join(_pct(acc) for _, acc in r['curve']) + ' |')
    lines += [
        '', '## Notes', '',
        '- *seen top-1*: single-view validation after the last epoch; '
        '*best*: the best epoch.',
        '- *zero-shot top-1*: the trained checkpoint tested on the unseen '
        "compositions with the head's classifier swapped for the MiniLM "
        'embeddings of the unseen class names (online contrastive runs '
        're-encode them with their fine-tuned MiniLM). For `random`, '
        '`orthogonal` and `lda` the video embeddings were never trained '
        'towards text, so this column is a control (expected near chance). '
        'n/a: the linear head has no class semantics to swap.',
        '- *lda*: the paper fits LDA on features of the pretrained CLIP '
        'encoder; here the encoder is randomly initialised (no CLIP weights '
        'offline), so the LDA classifier encodes much weaker class '
        'structure than in the paper.',
        f'- *gather / no gather*: one process; its batch of {batch} is '
        f'what {ranks} ranks x {batch // ranks} videos gather, and the '
        f'no-gather runs compute the loss within {ranks} slices of the '
        f'batch, exactly what {ranks} processes without gathering optimise '
        '(DDP averages their gradients).',
        '- *online*: MiniLM fine-tuned at 1/100 of the learning rate; '
        '*offline*: its frozen class-name embeddings.',
        '- times are wall-clock seconds on this machine: *train* includes '
        'the per-epoch validation, *total* adds building the model (and '
        'classifier, e.g. the LDA features) and the zero-shot test.'
    ]
    return '\n'.join(lines) + '\n'


def plot(results: list, manifest: dict, path: str) -> None:
    """Validation top-1 against epochs, one line per run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, ax = plt.subplots(figsize=(8, 5))
    for r in results:
        epochs, accs = zip(*r['curve'])
        style = '--' if r['paradigm'] == 'contrastive' else '-'
        ax.plot(epochs, [100 * a for a in accs], style, marker='o',
                markersize=3,
                label=f'{r["run"]} ({r["table"]}), zero-shot '
                f'{_pct(r["zero_shot_top1"])}')
    ax.axhline(100 / manifest['num_classes']['seen'], color='grey',
               linestyle=':', label='chance')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.set_xlabel('epoch')
    ax.set_ylabel('val top-1 (%), seen classes')
    ax.set_title('Toy ablation: accuracy after each epoch')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    manifest = load_or_make_dataset(args.data_root)
    os.makedirs(args.work_dir, exist_ok=True)
    results = []
    for i, name in enumerate(args.runs, 1):
        path = osp.join(args.work_dir, name, 'result.json')
        if args.reuse and osp.isfile(path):
            with open(path, encoding='utf-8') as f:
                result = json.load(f)
            if result.get('epochs') == args.epochs:
                results.append(result)
                print(f'==> [{i}/{len(args.runs)}] {name}: reused {path}')
                continue
        print(f'==> [{i}/{len(args.runs)}] {name}: {RUNS[name][3]}')
        result = train_and_evaluate(name, args, manifest)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(result, f, indent=2)
        results.append(result)
    with open(osp.join(args.work_dir, 'results.json'), 'w',
              encoding='utf-8') as f:
        json.dump(results, f, indent=2)
    out_md = args.out_md or osp.join(args.work_dir, 'ablation.md')
    out_png = args.out_png or osp.join(args.work_dir, 'ablation.png')
    text = markdown(results, manifest, args)
    with open(out_md, 'w', encoding='utf-8') as f:
        f.write(text)
    plot(results, manifest, out_png)
    print(text)
    print(f'wrote {out_md} and {out_png}')
    return results


if __name__ == '__main__':
    main()
