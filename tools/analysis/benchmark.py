"""Inference throughput (videos/s), GFLOPs per view and parameters of a
config's model; with ``--train``, the time of a training step (forward,
backward, optimizer update through the config's optimizer) instead.
Both report peak memory (CUDA allocations on a GPU, peak RSS on the CPU).

The input is random, of the config's test shape (views x 3 x T x S x S, from
running its test pipeline on a synthetic video). The timed function is
:class:`t4v_mmaction.apis.FusedRecognizer`: normalisation, backbone, head,
view fusion and softmax (what ``tools/deployment/export_onnx.py`` exports).

By default the model runs offline: its weights are random (the backbone's
``pretrained`` weights are not loaded) and the head is given a random
classifier of the right shape (the speed is the same as with real weights).
``--keep-classifier`` builds the config's own classifier instead (this may
download CLIP weights).

``--train --videos LIST`` feeds the steps with real clips instead: the
config's training dataset and pipeline over the list's files, decoded by
``--workers`` DataLoader processes, so the rate is end to end. With
``--peak-tflops`` the model FLOP utilisation is reported too.

Prints one summary line and, with ``--json``, writes every number.
"""
import argparse
import itertools
import json
import os
import os.path as osp
import platform
from typing import Iterator

import torch
from mmengine.config import Config, DictAction
from tqdm import tqdm

from mmaction.structures import ActionDataSample
from mmengine.optim import build_optim_wrapper

from t4v_mmaction.apis import (FusedRecognizer, count_flops, count_parameters,
                               get_input_shape, init_recognizer,
                               measure_throughput, measure_train_step,
                               peak_memory_mb)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Benchmark a config: videos/s, GFLOPs/view, params')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        '--batch-size', type=int, default=16, help='videos per forward pass')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1')
    parser.add_argument(
        '--amp', action='store_true', help='bf16 autocast (CPU and CUDA)')
    parser.add_argument(
        '--bf16-weights',
        action='store_true',
        help='inference with bf16 weights under bf16 autocast (the fast '
        'mode of Text4VisRecognizer.set_inference_precision; implies --amp)')
    parser.add_argument(
        '--compile', action='store_true', help='torch.compile the model')
    parser.add_argument('--num-warmup', type=int, default=5)
    parser.add_argument(
        '--num-iters', type=int, default=20, help='timed passes per repeat')
    parser.add_argument(
        '--repeats', type=int, default=5, help='independent timings')
    parser.add_argument(
        '--threads', type=int, help='torch CPU threads (default: torch\'s)')
    parser.add_argument(
        '--keep-classifier',
        action='store_true',
        help='build the config\'s classifier (may download weights) instead '
        'of a random one of the same shape')
    parser.add_argument(
        '--no-flops', action='store_true', help='skip the flop count')
    parser.add_argument(
        '--train',
        action='store_true',
        help='time training steps (one view per video) instead of '
        'inference; with --amp on CUDA the optimizer wrapper is '
        'AmpOptimWrapper in bf16')
    parser.add_argument(
        '--videos',
        help='with --train: a video list whose clips feed the steps through '
        "the config's training pipeline and a DataLoader (end to end, the "
        'CPU decoding), instead of random clips')
    parser.add_argument('--video-root', default='',
                        help='folder the --videos paths are relative to')
    parser.add_argument(
        '--workers', type=int, default=os.cpu_count() or 1,
        help='DataLoader workers for --videos (default: all cores)')
    parser.add_argument(
        '--peak-tflops', type=float,
        help="the device's peak TFLOP/s at this precision, for the model "
        'FLOP utilisation (training counts 3x the forward FLOPs)')
    parser.add_argument('--json', help='write the results to this file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    args = parser.parse_args()
    if args.bf16_weights and args.train:
        parser.error('--bf16-weights is for inference; use --amp to train')
    if args.videos and not args.train:
        parser.error('--videos feeds training steps: add --train')
    args.amp = args.amp or args.bf16_weights
    return args


def use_random_classifier(model) -> None:
    """Give the head a random classifier of its shape (K classes, its
    embedding width), so that nothing is built or downloaded. K is the
    classifier's, else the config's dataset ``num_classes`` (the class-name
    file need not exist)."""
    head = getattr(model, 'cls_head', None)
    if not hasattr(head, 'set_classifier'):
        return
    num_classes = head.num_classes or head.classifier_source.num_classes or \
        model.cfg.get('num_classes')
    if num_classes is None:
        raise SystemExit('the number of classes is not known before '
                         'building the classifier; pass --cfg-options '
                         'model.cls_head.num_classes=K')
    head.set_classifier(dict(type='random', num_classes=num_classes,
                             seed=0))


def video_batches(cfg: Config, args, num_classes: int) -> Iterator[dict]:
    """Endless batches of real clips: the config's training dataset type
    and pipeline over ``--videos`` (labels taken modulo the classes),
    ``--workers`` persistent workers, pinned memory."""
    from mmengine.dataset import DefaultSampler, pseudo_collate
    from mmengine.registry import DATASETS
    from torch.utils.data import DataLoader
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg.update(ann_file=args.videos,
                       data_prefix=dict(video=args.video_root))
    dataset_cfg.pop('class_names', None)
    dataset_cfg.pop('num_classes', None)
    dataset = DATASETS.build(dataset_cfg)
    for info in dataset.data_list:
        info['label'] = int(info['label']) % num_classes
    loader = DataLoader(
        dataset, batch_size=args.batch_size, num_workers=args.workers,
        persistent_workers=args.workers > 0, pin_memory=True,
        drop_last=True, collate_fn=pseudo_collate,
        sampler=DefaultSampler(dataset, shuffle=True, seed=0))
    if len(loader) == 0:
        raise SystemExit(f'{args.videos}: fewer videos than one batch of '
                         f'{args.batch_size}')
    epoch = 0
    while True:
        loader.sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


def train_timing(model, cfg: Config, args, device: torch.device,
                 shape: tuple, gen: torch.Generator) -> dict:
    """Time ``model.train_step`` on random clips with the config's
    optimizer (its learning rates and parameter groups)."""
    model = model.to(device).train()
    if args.compile:
        model.backbone = torch.compile(model.backbone)
    optim_cfg = cfg.optim_wrapper.copy()
    use_amp = args.amp and device.type == 'cuda'
    optim_cfg.type = 'AmpOptimWrapper' if use_amp else 'OptimWrapper'
    if use_amp:
        optim_cfg.dtype = 'bfloat16'
    optim_cfg.pop('accumulative_counts', None)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    num_classes = model.cls_head.num_classes
    if args.videos:
        batches = video_batches(cfg, args, num_classes)
    else:
        data = dict(
            inputs=[
                torch.randint(0, 256, (1, ) + shape, generator=gen).float()
                for _ in range(args.batch_size)
            ],
            data_samples=[
                ActionDataSample().set_gt_label(i % num_classes)
                for i in range(args.batch_size)
            ])
        batches = itertools.repeat(data)
    total = args.num_warmup + args.num_iters * args.repeats
    with tqdm(total=total, desc='train steps', disable=None) as bar:
        timing = measure_train_step(
            lambda: model.train_step(next(batches), optim_wrapper), device,
            args.num_warmup, args.num_iters, args.repeats, bar.update)
    timing['videos_per_s'] = args.batch_size / timing['s_per_step']
    timing['videos_per_s_min'] = args.batch_size / timing['s_per_step_max']
    timing['videos_per_s_max'] = args.batch_size / timing['s_per_step_min']
    timing['ms_per_batch'] = 1000 * timing['s_per_step']
    return timing


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    device = torch.device(args.device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    model = init_recognizer(cfg, device='cpu')
    if not args.keep_classifier:
        use_random_classifier(model)
    views, channels, frames, height, width = get_input_shape(cfg)
    fused = FusedRecognizer(model, views).eval()
    flops = None if args.no_flops else count_flops(
        FusedRecognizer(model, 1).eval(),
        torch.zeros(1, 1, channels, frames, height, width))
    params = count_parameters(fused)
    gen = torch.Generator().manual_seed(0)
    if args.train:
        views = 1
        timing = train_timing(model, cfg, args, device,
                              (channels, frames, height, width), gen)
    else:
        if args.bf16_weights:
            if not hasattr(model, 'set_inference_precision'):
                raise SystemExit('--bf16-weights needs a Text4VisRecognizer '
                                 f'model, not {type(model).__name__}')
            model.set_inference_precision('bf16')  # fused shares its modules
        fused = fused.to(device)
        runner = torch.compile(fused) if args.compile else fused
        inputs = torch.randint(
            0, 256, (args.batch_size, views, channels, frames, height, width),
            generator=gen).float().to(device)
        total = args.num_warmup + args.num_iters * args.repeats
        with tqdm(total=total, desc='benchmark', disable=None) as bar:
            timing = measure_throughput(runner, inputs, args.num_warmup,
                                        args.num_iters, args.repeats,
                                        args.amp, bar.update)
    timing['peak_memory_mb'] = peak_memory_mb(device)
    if flops is not None and args.peak_tflops:
        per_video = flops * views * (3 if args.train else 1)
        timing['model_flop_utilisation'] = (
            timing['videos_per_s'] * per_video / (args.peak_tflops * 1e12))
    result = dict(
        config=osp.basename(args.config),
        device=str(device),
        device_name=(torch.cuda.get_device_name(device) if device.type ==
                     'cuda' else platform.processor() or platform.machine()),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        batch_size=args.batch_size,
        views=views,
        num_frames=frames,
        input_size=[height, width],
        amp=args.amp,
        bf16_weights=args.bf16_weights,
        compile=args.compile,
        mode='train' if args.train else 'inference',
        num_warmup=args.num_warmup,
        num_iters=args.num_iters,
        repeats=args.repeats,
        random_classifier=not args.keep_classifier,
        data=('videos' if args.videos else 'random clips'),
        workers=args.workers if args.videos else None,
        gflops_per_view=None if flops is None else flops / 1e9,
        gflops_per_video=None if flops is None else flops * views / 1e9,
        params=params,
        params_m=params / 1e6,
        **timing)
    flop_text = 'n/a' if flops is None else f'{flops / 1e9:.2f}'
    precision = 'bf16-weights' if args.bf16_weights else \
        'bf16-amp' if args.amp else 'fp32'
    where = f'{device}' + (f' ({result["threads"]} threads)'
                           if device.type == 'cpu' else '')
    print(f'{result["config"]} | {where} '
          f'{"train " if args.train else ""}'
          f'{precision}'
          f'{" compiled" if args.compile else ""} | batch '
          f'{args.batch_size} x {views} view(s) x {frames}x{height}x{width} '
          f'| {timing["videos_per_s"]:.2f} videos/s (median of '
          f'{args.repeats}; min {timing["videos_per_s_min"]:.2f}, max '
          f'{timing["videos_per_s_max"]:.2f}) | '
          f'{timing["ms_per_batch"]:.1f} ms/batch | {flop_text} GFLOPs/view '
          f'| {params / 1e6:.1f} M params | peak '
          f'{timing["peak_memory_mb"]:.0f} MiB' +
          (f' | MFU {100 * timing["model_flop_utilisation"]:.1f}%'
           if 'model_flop_utilisation' in timing else '') +
          (f' | from videos, {args.workers} workers' if args.videos else
           ''))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
