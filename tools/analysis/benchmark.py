# Copyright (c) OpenMMLab. All rights reserved.
"""Inference throughput (videos/s), GFLOPs per view and parameters of a
config's model.

The input is random, of the config's test shape (views x 3 x T x S x S, from
running its test pipeline on a synthetic video). The timed function is
:class:`t4v_mmaction.apis.FusedRecognizer`: normalisation, backbone, head,
view fusion and softmax (what ``tools/deployment/export_onnx.py`` exports).

By default the model runs offline: the backbone's ``pretrained`` is dropped
and the classifier is a random matrix of the right shape (the speed is the
same as with real weights). ``--keep-classifier`` builds the config's own
classifier instead (this may download CLIP weights).

Prints one summary line and, with ``--json``, writes every number.
"""
import argparse
import json
import os.path as osp
import platform

import torch
from mmengine.config import Config, DictAction
from tqdm import tqdm

from t4v_mmaction.apis import (FusedRecognizer, count_flops, count_parameters,
                               get_input_shape, init_recognizer,
                               measure_throughput)


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
    parser.add_argument('--json', help='write the results to this file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    return parser.parse_args()


def _lm_width(spec: dict, default: int) -> int:
    """Hidden size of an ``'lm'`` classifier's encoder, read offline."""
    from transformers import AutoConfig

    from t4v_mmaction.models.classifiers import default_lm_path
    try:
        return AutoConfig.from_pretrained(
            spec.get('model') or default_lm_path(),
            local_files_only=True).hidden_size
    except (OSError, ImportError, ValueError):
        return default


def offline_model_cfg(cfg: Config) -> None:
    """Drop pretrained weights and swap the classifier for a random one of
    the same shape, in place."""
    model = cfg.model
    if 'pretrained' in model.get('backbone', {}):
        model.backbone.pretrained = None
    head = model.get('cls_head', {})
    spec = head.get('classifier')
    if spec is None:
        return
    if head.get('num_classes') is None:
        raise ValueError('cls_head.num_classes is not set in the config; '
                         'pass --cfg-options model.cls_head.num_classes=K')
    dim = head.in_channels
    if isinstance(spec, dict) and spec.get('type') == 'lm':
        dim = _lm_width(spec, dim)
    head.classifier = dict(
        type='random', num_classes=head.num_classes, dim=dim, seed=0)


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if not args.keep_classifier:
        offline_model_cfg(cfg)
    device = torch.device(args.device)
    model = init_recognizer(cfg, device='cpu')
    views, channels, frames, height, width = get_input_shape(cfg)
    fused = FusedRecognizer(model, views).eval()
    flops = None if args.no_flops else count_flops(
        FusedRecognizer(model, 1).eval(),
        torch.zeros(1, 1, channels, frames, height, width))
    params = count_parameters(fused)

    fused = fused.to(device)
    runner = torch.compile(fused) if args.compile else fused
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randint(
        0, 256, (args.batch_size, views, channels, frames, height, width),
        generator=gen).float().to(device)
    total = args.num_warmup + args.num_iters * args.repeats
    with tqdm(total=total, desc='benchmark', disable=None) as bar:
        timing = measure_throughput(runner, inputs, args.num_warmup,
                                    args.num_iters, args.repeats, args.amp,
                                    bar.update)
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
        compile=args.compile,
        num_warmup=args.num_warmup,
        num_iters=args.num_iters,
        repeats=args.repeats,
        random_classifier=not args.keep_classifier,
        gflops_per_view=None if flops is None else flops / 1e9,
        gflops_per_video=None if flops is None else flops * views / 1e9,
        params=params,
        params_m=params / 1e6,
        **timing)
    flop_text = 'n/a' if flops is None else f'{flops / 1e9:.2f}'
    where = f'{device}' + (f' ({result["threads"]} threads)'
                           if device.type == 'cpu' else '')
    print(f'{result["config"]} | {where} '
          f'{"bf16-amp" if args.amp else "fp32"}'
          f'{" compiled" if args.compile else ""} | batch '
          f'{args.batch_size} x {views} view(s) x {frames}x{height}x{width} '
          f'| {timing["videos_per_s"]:.2f} videos/s (median of '
          f'{args.repeats}; min {timing["videos_per_s_min"]:.2f}, max '
          f'{timing["videos_per_s_max"]:.2f}) | '
          f'{timing["ms_per_batch"]:.1f} ms/batch | {flop_text} GFLOPs/view '
          f'| {params / 1e6:.1f} M params')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
