"""Image towers side by side: this package's backbone vs open_clip's own.

For each open_clip architecture, the backbone that ``CLIPViT`` builds for it
(our OpenAI-style ViT, or open_clip's tower inside ``OpenCLIPVisual``) and
open_clip's ``model.visual`` with the same random weights encode the same
frames, interleaved (A B B A ...) in one process: frames per second of each,
their ratio, the largest difference relative to the embedding norm,
parameters and GFLOPs of one 8-frame view. Prints a markdown table; with
``--json``, writes every number.

Example::

    python tools/analysis/benchmark_towers.py --archs ViT-B-16 \\
        PE-Core-B-16 ViT-B-16-SigLIP2 EVA02-B-16 MobileCLIP2-S2 \\
        convnext_base_w --frames 8 --repeats 3 --threads 2
"""
import argparse
import json
import platform
import statistics
import time

import torch

import t4v_mmaction  # noqa: F401  (registries, compat fixes)
from t4v_mmaction.apis import count_flops, count_parameters


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--archs', nargs='+', default=[
        'ViT-B-16', 'PE-Core-B-16', 'ViT-B-16-SigLIP2', 'EVA02-B-16',
        'MobileCLIP2-S2', 'convnext_base_w'])
    parser.add_argument('--frames', type=int, default=8,
                        help='frames per forward pass (one view)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--json', help='write the results to this file')
    return parser.parse_args(argv)


def build_pair(arch: str, frames: int):
    """(ours, open_clip's tower, image size), same weights, eval mode."""
    import open_clip
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    torch.manual_seed(0)
    ours = MODELS.build(dict(type='CLIPViT', arch=arch, num_frames=frames))
    theirs = open_clip.create_model(arch).visual
    if type(ours).__name__ == 'OpenCLIPVisual':
        theirs.load_state_dict(ours.tower.state_dict())
    else:
        theirs.load_state_dict(ours.state_dict(), strict=False)
        missing = set(theirs.state_dict()) - set(ours.state_dict())
        if missing:
            raise RuntimeError(f'{arch}: {sorted(missing)[:5]} differ')
    size = ours.source.vision_cfg.get('image_size', 224)
    size = size[0] if isinstance(size, (list, tuple)) else size
    return ours.eval(), theirs.eval(), size


def seconds(fn, frames: torch.Tensor, device) -> float:
    start = time.perf_counter()
    fn(frames)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def benchmark(arch: str, args) -> dict:
    device = torch.device(args.device)
    ours, theirs, size = build_pair(arch, args.frames)
    ours, theirs = ours.to(device), theirs.to(device)
    frames = torch.randn(args.frames, 3, size, size,
                         generator=torch.Generator().manual_seed(1)).to(device)
    times = dict(ours=[], open_clip=[])
    with torch.inference_mode():
        a, b = ours.encode_frames(frames), theirs(frames)  # warm-up
        diff = ((a - b).abs() / b.norm(dim=-1, keepdim=True)).max().item()
        for r in range(args.repeats):
            order = ('ours', 'open_clip') if r % 2 == 0 else ('open_clip',
                                                              'ours')
            for name in order:
                fn = ours.encode_frames if name == 'ours' else theirs
                times[name].append(seconds(fn, frames, device))
    flops = count_flops(ours.cpu(), torch.zeros(1, 3, args.frames, size,
                                                size))
    rate = {k: args.frames / statistics.median(v) for k, v in times.items()}
    return dict(
        arch=arch, backbone=type(ours).__name__, image_size=size,
        params_m=count_parameters(ours) / 1e6,
        gflops_per_view=None if flops is None else flops / 1e9,
        frames_per_s_ours=rate['ours'],
        frames_per_s_open_clip=rate['open_clip'],
        speedup=rate['ours'] / rate['open_clip'],
        max_rel_diff=diff, times=times)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = [benchmark(arch, args) for arch in args.archs]
    where = (torch.cuda.get_device_name(args.device)
             if args.device.startswith('cuda') else
             f'{platform.processor() or platform.machine()}, '
             f'{torch.get_num_threads()} threads')
    print(f'{args.frames} frames per view, {args.repeats} repeats, {where}, '
          f'torch {torch.__version__}\n')
    print('| tower | built as | px | params (M) | GFLOPs / view | frames/s '
          'ours | frames/s open_clip | ratio | max rel. diff |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for r in rows:
        flops = 'n/a' if r['gflops_per_view'] is None else \
            f'{r["gflops_per_view"]:.1f}'
        print(f'| {r["arch"]} | {r["backbone"]} | {r["image_size"]} | '
              f'{r["params_m"]:.1f} | {flops} | '
              f'{r["frames_per_s_ours"]:.2f} | '
              f'{r["frames_per_s_open_clip"]:.2f} | {r["speedup"]:.2f}x | '
              f'{r["max_rel_diff"]:.1e} |')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(device=where, frames=args.frames,
                           repeats=args.repeats, torch=torch.__version__,
                           rows=rows), f, indent=2)


if __name__ == '__main__':
    main()
