"""Our Text4Vis model vs the original implementation, side by side.

Both models get identical weights (the original's random initialisation,
converted with
:func:`t4v_mmaction.models.utils.convert.convert_text4vis_state_dict`)
and identical inputs. Each one lives in its own worker process (same thread
count); the timed passes are interleaved (A B B A ...) so that a change of
machine load hits both alike, and every figure is a median over repeats.
Peak memory is read in a fresh process per measured setting, with
:func:`t4v_mmaction.apis.memory_mib` (CPU: the peak resident set size,
``VmHWM``, reset after the model is built; CUDA:
``torch.cuda.max_memory_allocated``).

Settings (``--settings``):

* ``infer-fp32``: video embeddings and logits of ``--batch`` videos,
  ``torch.no_grad``, fp32 (the original as its ``test.py`` runs it).
* ``infer-bf16``: the same under ``torch.autocast(dtype=torch.bfloat16)``.
* ``infer-fast``: ours in the recommended fast mode (``--fast-mode``; by
  default bf16 weights + autocast where the device has native bf16, fp32
  otherwise). The original is compared with its fp32 and bf16 settings.
* ``infer-compiled``: ours under ``torch.compile`` (fp32).
* ``train-cp`` / ``train-nocp``: one training step (forward, cross-entropy,
  backward, AdamW step) on ``--train-batch`` videos, with gradient
  checkpointing on / off. The original hard-wires checkpointing twice:
  per block (``Transformer.grad_checkpointing``) and again around attention
  and MLP inside each block; ``train-cp`` is the original as shipped,
  ``train-nocp`` turns only the outer level off (the inner one cannot be
  switched off without editing its code). Ours checkpoints whole blocks.

The original code is imported from ``--original`` at run time (nothing of it
is copied); ``clip/__init__.py`` is skipped (it needs tokenizer packages).

Regression check (``--reference-tree``): instead of the original, the
reference is our own package from another source tree, e.g. a pinned
release checked out with ``git worktree``; both trees get the same weights
and inputs and every setting is compared with itself.

The parts are in ``compare/`` next to this file (listed in its
``__init__``); this file parses the command line and runs them.

Examples::

    python tools/analysis/compare_original.py --original ~/src/Text4Vis \\
        --threads 2 --repeats 5 --json work_dirs/compare.json
    git worktree add /tmp/t4v-ref v0.1.0
    python tools/analysis/compare_original.py --reference-tree /tmp/t4v-ref
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
from typing import Dict, List

# compare/ is imported as a package from this file's folder, also when this
# file is loaded by path (importlib) instead of being run
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from compare.agreement import agreement, load_clips  # noqa: E402
from compare.measure import interleaved_timing, peak_memory  # noqa: E402
from compare.process import WorkerProcess, serve  # noqa: E402
from compare.report import machine_info, markdown, summarize  # noqa: E402
from compare.settings import (ARCHS, COMPARISONS, FAST_MODES,  # noqa: E402
                              OURS_ONLY, SETTINGS)
from compare.specs import (base_spec, original_specs,  # noqa: E402
                           regression_specs, save_classifier)


def parse_args(argv=None):
    """The command line (``argv``, default ``sys.argv[1:]``), checked."""
    parser = argparse.ArgumentParser(
        description='Our Text4Vis model vs the original implementation: '
        'inference videos/s, training step time and peak memory, with '
        'identical weights and inputs')
    parser.add_argument(
        '--original', help='path to a Text4Vis checkout (clip/, modules/)')
    parser.add_argument(
        '--reference-tree',
        help='regression check: compare this tree with our package in '
        'another source tree (e.g. a git worktree of a release) instead of '
        'the original')
    parser.add_argument('--arch', default='ViT-B-16', choices=list(ARCHS))
    parser.add_argument(
        '--head', default='transf', choices=['transf', 'tap'],
        help='video head: T-Trans or temporal average pooling')
    parser.add_argument(
        '--backbone-temporal', default=None,
        choices=['tokent1d', 'tokenshift'],
        help='in-backbone temporal module (default: none)')
    parser.add_argument('--num-frames', type=int, default=8)
    parser.add_argument('--num-classes', type=int, default=400)
    parser.add_argument(
        '--batch', type=int, default=2, help='videos per inference pass')
    parser.add_argument(
        '--train-batch', type=int, default=1, help='videos per train step')
    parser.add_argument(
        '--settings', nargs='+', default=['infer-fp32', 'infer-bf16',
                                          'infer-fast', 'train-cp',
                                          'train-nocp'],
        choices=SETTINGS)
    parser.add_argument(
        '--fast-mode', default='auto', choices=FAST_MODES,
        help='ours in infer-fast: auto = bf16-weights where bf16 is native '
        '(CUDA, AVX512-BF16/AMX CPUs), else fp32')
    parser.add_argument(
        '--no-fused-adamw', action='store_true',
        help='ours: the default (for-loop/foreach) AdamW, as the original')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--warmup', type=int, default=1, help='untimed passes per run')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--no-memory', action='store_true', help='skip peak memory')
    parser.add_argument(
        '--videos', nargs='+', default=[],
        help='real videos for the top-1 agreement of the bf16/fast settings '
        'with fp32')
    parser.add_argument('--clips-per-video', type=int, default=2)
    parser.add_argument('--json', help='write all numbers here')
    parser.add_argument('--log', help='append the workers\' stderr here')
    parser.add_argument(
        '--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.worker and not (args.original or args.reference_tree):
        parser.error('give --original or --reference-tree')
    if args.original and args.reference_tree:
        parser.error('--original and --reference-tree exclude each other')
    if args.repeats < 1 or args.warmup < 0:
        parser.error('need --repeats >= 1 and --warmup >= 0')
    return args


def make_progress(total: int):
    """A tqdm bar of ``total`` steps and its ``tick(run, seconds)``, which
    shows the run and the load average."""
    from tqdm import tqdm
    bar = tqdm(total=total, desc='benchmark', disable=None)

    def tick(run, seconds):
        bar.set_postfix_str(f'{run[0]}/{run[1]} load '
                            f'{os.getloadavg()[0]:.1f}')
        bar.update()

    return bar, tick


def run_benchmark(args,
                  spec_of: Dict[str, dict],
                  names: tuple,
                  runs: List[tuple],
                  comparisons=COMPARISONS) -> dict:
    """Timing (interleaved), fp32 logit check, agreement and memory."""
    import torch
    batch = dict(infer=args.batch, train=args.train_batch)
    load = [os.getloadavg()]
    total = len(runs) * (args.repeats + 1) + (0 if args.no_memory else
                                              len(runs))
    bar, tick = make_progress(total)
    workers = {}
    result = dict(machine=machine_info(args.threads, args.device))
    try:
        for name in names[::-1]:  # the reference writes the shared weights
            workers[name] = WorkerProcess(name, spec_of[name], args.log)
            spec_of[name].pop('make_weights', None)
            spec_of[name].pop('save_weights', None)
        result['setup_s'] = {n: w.setup_s for n, w in workers.items()}
        if any(s == 'infer-fp32' for _, s in runs):
            a, b = (torch.tensor(workers[n].call(
                'logits', setting='infer-fp32')['logits']) for n in names)
            result['fp32_logits_max_abs_diff'] = (a - b).abs().max().item()
        times = interleaved_timing(workers, runs, args.repeats, args.warmup,
                                   tick)
        load.append(os.getloadavg())
        result['notes'] = {n: w.call('notes') for n, w in workers.items()}
        if args.videos:
            clips = osp.join(spec_of[names[0]]['tmp'], 'clips.pt')
            torch.save(
                load_clips(args.videos, args.num_frames,
                           ARCHS[args.arch]['image_size'],
                           args.clips_per_video), clips)
            pairs = [(w, s) for w, s in runs
                     if s.startswith('infer') and s != 'infer-fp32']
            result['agreement'] = agreement(workers, clips, pairs)
    finally:
        for worker in workers.values():
            worker.close()
    memory = {}
    if not args.no_memory:
        memory = peak_memory(spec_of, runs, args.log, tick)
        load.append(os.getloadavg())
    bar.close()
    result.update(summarize(times, batch, names, comparisons))
    result['memory'] = {f'{w}/{s}': m for (w, s), m in memory.items()}
    result['loadavg'] = load
    result['table'] = markdown(result, memory, names)
    return result


def main(argv=None):
    """Compare, print the tables and write ``--json``; with ``--worker``,
    serve as a worker process instead."""
    args = parse_args(argv)
    if args.worker:
        return serve()
    regression = bool(args.reference_tree)
    names = ('current', 'reference') if regression else ('ours', 'original')
    with tempfile.TemporaryDirectory(prefix='t4v_compare_') as tmp:
        spec = base_spec(args, tmp)
        save_classifier(spec)
        make_specs = regression_specs if regression else original_specs
        spec_of = make_specs(args, spec, tmp)
        runs, comparisons = [], COMPARISONS
        for setting in args.settings:
            for who in names[::-1]:
                if regression or who == 'ours' or setting not in OURS_ONLY:
                    runs.append((who, setting))
        if regression:
            comparisons = tuple((s, s, s) for s in args.settings)
        result = run_benchmark(args, spec_of, names, runs, comparisons)
    result['args'] = vars(args)
    print(f'\nmachine: {result["machine"]}\nload average (1/5/15 min) at '
          f'start / after timing / end: {result["loadavg"]}\n')
    print(result['table'])
    if 'agreement' in result:
        print('\nagreement with fp32 on real clips:')
        for key, row in result['agreement'].items():
            print(f'  {key}: {row}')
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
