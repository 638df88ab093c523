"""Decode + augmentation throughput of a config's training pipeline, per
data-loader worker, and how much faster decoding variants are.

Every variant runs the config's ``train_pipeline`` (or its training
dataset's) in this single process, one thread (as one data-loader worker:
OpenCV single-threaded, decord ``num_threads=1``), over the given videos:

* ``accurate``: the pipeline as configured (mmaction ``DecordDecode``
  ``mode='accurate'``: frame-exact ``get_batch``).
* ``efficient``: ``DecordDecode(mode='efficient')``: one seek per frame,
  which lands on the key frame before it (not frame-exact).
* ``scaled``: decord decodes straight to the short side of the first
  ``Resize(scale=(-1, S))`` after ``DecordDecode`` (FFmpeg's scaler inside
  the decoder), and that ``Resize`` is dropped. Frame-exact, but resampled
  by FFmpeg instead of OpenCV.
* ``scaled-efficient``: both.
* ``guarded``: ``accurate`` as ``RobustVideoDataset`` runs it by default:
  each video first opened in the decoder guard's child process
  (:class:`~t4v_mmaction.datasets.decoder_guard.DecoderGuard`), here on
  every visit (no verdict kept: the cost of a first visit).

Exactness: with the same seeds (so the same frame indices, crops and flips)
each variant's network input is compared with ``accurate``'s: the share of
frames that are pixel-identical, and the mean absolute difference (0-255).

Videos: ``--videos`` (e.g. ``../shared/data/videos/demo.mp4``) and/or
``--generate N`` synthetic mp4 clips (moving shapes over noise, OpenCV
``mp4v``) of ``--gen-size`` pixels.

Example::

    python tools/analysis/pipeline_throughput.py \\
        configs/text4vis/kinetics400/text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py \\
        --videos ../shared/data/videos/demo.mp4 --generate 3 --json tp.json
"""
import argparse
import copy
import json
import os
import os.path as osp
import platform
import random
import statistics
import tempfile
import time
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from tqdm import tqdm

import t4v_mmaction  # noqa: F401  (registers transforms, compat fixes)

VARIANTS = ('accurate', 'efficient', 'scaled', 'scaled-efficient', 'guarded')


class ScaledDecordInit:
    """``DecordInit`` whose reader decodes straight to short side
    ``short_side`` (same rounding as mmcv's ``rescale_size``).

    Args:
        short_side (int): Output short side.
    """

    def __init__(self, short_side: int):
        self.short_side = short_side

    def __call__(self, results: dict) -> dict:
        import cv2
        import decord
        filename = results['filename']
        capture = cv2.VideoCapture(filename)
        w = capture.get(cv2.CAP_PROP_FRAME_WIDTH)
        h = capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
        capture.release()
        if not w or not h:
            raise ValueError(f'{filename}: cannot read the frame size')
        scale = self.short_side / min(w, h)
        reader = decord.VideoReader(
            filename,
            num_threads=1,
            width=int(w * scale + 0.5),
            height=int(h * scale + 0.5))
        results['video_reader'] = reader
        results['total_frames'] = len(reader)
        results['avg_fps'] = reader.get_avg_fps()
        return results


class GuardedOpen:
    """The decoder guard's check before ``DecordInit`` (every visit)."""

    def __init__(self):
        from t4v_mmaction.datasets.decoder_guard import DecoderGuard
        self.guard = DecoderGuard(remember=False)

    def __call__(self, results: dict) -> dict:
        probe = self.guard.open(results['filename'])
        if probe.kind is not None:
            raise RuntimeError(probe.problem)
        return results


def short_side_resize(step: dict) -> Optional[int]:
    """S of a ``Resize(scale=(-1, S))`` step, else None."""
    scale = step.get('scale')
    if step.get('type') == 'Resize' and isinstance(
            scale, (tuple, list)) and len(scale) == 2 and scale[0] == -1:
        return int(scale[1])
    return None


def variant_pipeline(pipeline: List[dict], variant: str) -> list:
    """The pipeline's transforms for ``variant`` (see the module doc)."""
    from mmaction.registry import TRANSFORMS
    steps = copy.deepcopy(list(pipeline))
    types = [s.get('type') for s in steps]
    if 'DecordDecode' not in types:
        raise ValueError(f'the pipeline has no DecordDecode step: {types}')
    decode = types.index('DecordDecode')
    if 'efficient' in variant:
        steps[decode]['mode'] = 'efficient'
    built = [TRANSFORMS.build(s) for s in steps]
    if 'scaled' in variant:
        init = types.index('DecordInit') if 'DecordInit' in types else None
        side = next((short_side_resize(s) for s in steps[decode + 1:]
                     if short_side_resize(s)), None)
        if init is None or side is None:
            raise ValueError('scaled decoding needs a DecordInit step and a '
                             'Resize(scale=(-1, S)) after DecordDecode; got '
                             f'{types}')
        resize = decode + 1 + [short_side_resize(s) for s in steps[decode +
                                                                    1:]
                               ].index(side)
        built[init] = ScaledDecordInit(side)
        del built[resize]
    if variant == 'guarded':
        built.insert(0, GuardedOpen())
    return built


def run_pipeline(transforms: list, filename: str, seed: int) -> np.ndarray:
    """The network input (uint8 array) of one video, seeded."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    results = dict(filename=filename, label=0, start_index=0, modality='RGB')
    for t in transforms:
        results = t(results)
    inputs = results['inputs']
    return inputs.numpy() if torch.is_tensor(inputs) else np.asarray(inputs)


def make_videos(out_dir: str, count: int, size: tuple, frames: int,
                seed: int = 0) -> List[str]:
    """Synthetic mp4 clips: coloured discs moving over a smooth background
    with mild camera noise (per-pixel noise alone would exaggerate how much
    two resamplers differ)."""
    import cv2
    w, h = size
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = osp.join(out_dir, f'generated_{i}_{w}x{h}.mp4')
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                                 (w, h))
        if not writer.isOpened():
            raise RuntimeError(f'OpenCV cannot write {path}')
        centres = rng.uniform(0, 1, (4, 2)) * (w, h)
        velocity = rng.normal(0, 0.01, (4, 2)) * (w, h)
        colours = rng.integers(0, 256, (4, 3)).tolist()
        coarse = rng.uniform(0, 255, (max(h // 32, 2), max(w // 32, 2), 3))
        background = cv2.resize(
            coarse.astype(np.float32), (w, h),
            interpolation=cv2.INTER_CUBIC)
        for t in range(frames):
            noisy = background + rng.normal(0, 4.0, background.shape)
            frame = np.clip(noisy, 0, 255).astype(np.uint8)
            for c, v, colour in zip(centres, velocity, colours):
                x, y = (c + t * v) % (w, h)
                cv2.circle(frame, (int(x), int(y)), max(h // 8, 2), colour,
                           -1)
            writer.write(frame)
        writer.release()
        paths.append(path)
    return paths


def _summary(seconds: List[float], count: int, exact: list,
             diff: list) -> dict:
    return dict(
        videos_per_s=statistics.median(count / s for s in seconds),
        seconds_per_pass=seconds,
        exact_frames=statistics.mean(exact) if exact else None,
        mean_abs_diff=statistics.mean(diff) if diff else None)


def measure(pipeline: List[dict], videos: List[str], variants: List[str],
            passes: int, seed: int) -> Dict[str, Dict[str, dict]]:
    """Videos/s of each variant (median over passes; the variants take
    turns on every video, in alternating order) and its exactness against
    ``accurate``.

    Returns:
        dict: ``{'all': {variant: summary}, <video name>: {...}}``.
    """
    built = {v: variant_pipeline(pipeline, v) for v in variants}
    names = ['all'] + [osp.basename(v) for v in videos]
    seconds = {n: {v: [0.0] * passes for v in variants} for n in names}
    exact = {n: {v: [] for v in variants} for n in names}
    diff = {n: {v: [] for v in variants} for n in names}
    with tqdm(total=passes * len(videos) * len(variants),
              desc='pipeline', disable=None) as bar:
        for p in range(passes):
            for i, video in enumerate(videos):
                name = osp.basename(video)
                outputs = {}
                order = variants if (p + i) % 2 == 0 else variants[::-1]
                for v in order:
                    start = time.perf_counter()
                    outputs[v] = run_pipeline(built[v], video,
                                              seed + 1000 * p + i)
                    took = time.perf_counter() - start
                    seconds['all'][v][p] += took
                    seconds[name][v][p] += took
                    bar.update()
                ref = outputs.get('accurate')
                for v, out in outputs.items():
                    if ref is None:
                        break
                    if out.shape != ref.shape:
                        same, mad = 0.0, float('nan')
                    else:
                        # (N, C, T, H, W): one flag per frame of each view
                        same = float((out == ref).all(axis=(-4, -2,
                                                            -1)).mean())
                        mad = float(
                            np.abs(out.astype(np.float32) -
                                   ref.astype(np.float32)).mean())
                    for n in ('all', name):
                        exact[n][v].append(same)
                        diff[n][v].append(mad)
    out = {}
    for n in names:
        count = len(videos) if n == 'all' else 1
        out[n] = {
            v: _summary(seconds[n][v], count, exact[n][v], diff[n][v])
            for v in variants
        }
        if 'accurate' in out[n]:
            for v in variants:
                out[n][v]['gain'] = out[n][v]['videos_per_s'] / out[n][
                    'accurate']['videos_per_s']
    return out


def markdown(result: Dict[str, dict]) -> str:
    lines = [
        '| variant | videos/s per worker | gain vs accurate | frames '
        'pixel-identical to accurate | mean abs diff (0-255) |',
        '| --- | --- | --- | --- | --- |'
    ]
    for v, r in result.items():
        gain = f'{r["gain"]:.2f}x' if 'gain' in r else 'n/a'
        exact = 'n/a' if r['exact_frames'] is None else \
            f'{100 * r["exact_frames"]:.0f}%'
        diff = 'n/a' if r['mean_abs_diff'] is None else \
            f'{r["mean_abs_diff"]:.2f}'
        lines.append(f'| {v} | {r["videos_per_s"]:.2f} | {gain} | {exact} '
                     f'| {diff} |')
    return '\n'.join(lines)


def train_pipeline(cfg: Config) -> List[dict]:
    if 'train_pipeline' in cfg:
        return cfg.train_pipeline
    try:
        return cfg.train_dataloader.dataset.pipeline
    except AttributeError:
        raise ValueError('the config has neither train_pipeline nor '
                         'train_dataloader.dataset.pipeline')


def parse_size(text: str) -> tuple:
    try:
        w, h = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected WxH, got {text!r}')
    return w, h


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Decode + augmentation videos/s per worker of a '
        'config\'s training pipeline; decord decoding variants')
    parser.add_argument('config', help='config with a train pipeline')
    parser.add_argument('--videos', nargs='*', default=[], help='mp4 files')
    parser.add_argument(
        '--generate', type=int, default=0, help='synthetic clips to add')
    parser.add_argument('--gen-size', type=parse_size, default=(640, 480))
    parser.add_argument('--gen-frames', type=int, default=250)
    parser.add_argument(
        '--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument(
        '--passes', type=int, default=3, help='passes over the videos')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='write the numbers here')
    args = parser.parse_args(argv)
    if not args.videos and not args.generate:
        parser.error('give --videos and/or --generate N')
    missing = [v for v in args.videos if not osp.isfile(v)]
    if missing:
        parser.error(f'videos not found: {missing}')
    if args.passes < 1:
        parser.error('--passes must be >= 1')
    return args


def main(argv=None):
    import cv2
    from mmengine.registry import init_default_scope
    args = parse_args(argv)
    cv2.setNumThreads(0)  # as mmengine sets it in data-loader workers
    torch.set_num_threads(1)
    init_default_scope('mmaction')
    pipeline = train_pipeline(Config.fromfile(args.config))
    with tempfile.TemporaryDirectory(prefix='t4v_pipeline_') as tmp:
        videos = list(args.videos)
        if args.generate:
            videos += make_videos(tmp, args.generate, args.gen_size,
                                  args.gen_frames, args.seed)
        throughput = measure(pipeline, videos, args.variants, args.passes,
                             args.seed)
    result = dict(
        config=args.config,
        videos=[osp.basename(v) for v in videos],
        machine=dict(
            cpu=platform.processor() or platform.machine(),
            loadavg=os.getloadavg()),
        throughput=throughput)
    for name, rows in throughput.items():
        title = f'all {len(videos)} videos' if name == 'all' else name
        print(f'\n{title}:')
        print(markdown(rows))
    print(f'\nload average: {os.getloadavg()}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
