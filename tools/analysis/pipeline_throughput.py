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
* ``exact-pyav``: ``ExactPyAVInit`` + ``ExactPyAVDecode`` instead of
  decord: the same frames (bit for bit), less decoding (key-frame seeks,
  non-reference frames skipped, only targets converted to RGB).
* ``guarded``: ``accurate`` as ``RobustVideoDataset`` runs it by default:
  each video first opened in the decoder guard's child process
  (:class:`~t4v_mmaction.datasets.decoder_guard.DecoderGuard`), here on
  every visit (no verdict kept: the cost of a first visit).

Exactness: with the same seeds (so the same frame indices, crops and flips)
each variant's network input is compared with ``accurate``'s on the same
videos: the share of frames that are pixel-identical, and the mean absolute
difference (0-255).

``--reencode 8 1`` adds training copies of the videos (key frames every 8
frames, every frame; ``tools/data/reencode_videos.py``), timed in the same
run with ``--copy-variants`` (rows ``g8/accurate``, ...; gains are against
``accurate`` on the originals), with their size ratio and PSNR.
``--workers 2 16`` adds the videos/s of a DataLoader with that many worker
processes over a ``RobustVideoDataset`` (decoder guard on, as shipped),
up to normalised clips in the main process: uint8 clips normalised there as
``ActionDataPreprocessor`` does (on the GPU in a real run), against clips
normalised in the workers (float32 through the loader).

Videos: ``--videos`` (your own mp4 files) and/or
``--generate N`` synthetic H.264 clips (moving shapes over noise, libx264
defaults) of ``--gen-size`` pixels.

Example::

    python tools/analysis/pipeline_throughput.py \\
        configs/text4vis/kinetics400/text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py \\
        --videos path/to/clip.mp4 --generate 3 \\
        --reencode 8 1 --workers 2 --json tp.json
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
from t4v_mmaction.datasets.pipeline_steps import step_name

VARIANTS = ('accurate', 'exact-pyav', 'efficient', 'scaled',
            'scaled-efficient', 'guarded')


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
        self.guard = DecoderGuard()

    def __call__(self, results: dict) -> dict:
        probe = self.guard.open(results['filename'])
        if probe.kind is not None:
            raise RuntimeError(probe.problem)
        return results


def short_side_resize(step: dict) -> Optional[int]:
    """S of a ``Resize(scale=(-1, S))`` step, else None."""
    scale = step.get('scale')
    if step_name(step) == 'Resize' and isinstance(
            scale, (tuple, list)) and len(scale) == 2 and scale[0] == -1:
        return int(scale[1])
    return None


def variant_pipeline(pipeline: List[dict], variant: str) -> list:
    """The pipeline's transforms for ``variant`` (see the module doc)."""
    from mmaction.registry import TRANSFORMS
    steps = copy.deepcopy(list(pipeline))
    types = [step_name(s) for s in steps]
    if 'DecordDecode' not in types:
        raise ValueError(f'the pipeline has no DecordDecode step: {types}')
    decode = types.index('DecordDecode')
    if 'efficient' in variant:
        steps[decode]['mode'] = 'efficient'
    if variant == 'exact-pyav':
        init = types.index('DecordInit')
        steps[init] = dict(steps[init], type='ExactPyAVInit')
        steps[decode] = dict(type='ExactPyAVDecode')
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
    """Synthetic H.264 clips as a camera and YouTube would give them:
    coloured discs moving over a smooth background with mild noise (per-
    pixel noise alone would exaggerate how much two resamplers differ),
    libx264 defaults (B-frames, key frames every 250 frames at most)."""
    import av
    import cv2
    w, h = size
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = osp.join(out_dir, f'generated_{i}_{w}x{h}.mp4')
        centres = rng.uniform(0, 1, (4, 2)) * (w, h)
        velocity = rng.normal(0, 0.01, (4, 2)) * (w, h)
        colours = rng.integers(0, 256, (4, 3)).tolist()
        coarse = rng.uniform(0, 255, (max(h // 32, 2), max(w // 32, 2), 3))
        background = cv2.resize(
            coarse.astype(np.float32), (w, h),
            interpolation=cv2.INTER_CUBIC)
        with av.open(path, 'w') as container:
            stream = container.add_stream('libx264', rate=25)
            stream.width, stream.height, stream.pix_fmt = w, h, 'yuv420p'
            stream.options = {'crf': '23'}
            for t in range(frames):
                noisy = background + rng.normal(0, 4.0, background.shape)
                frame = np.clip(noisy, 0, 255).astype(np.uint8)
                for c, v, colour in zip(centres, velocity, colours):
                    x, y = (c + t * v) % (w, h)
                    cv2.circle(frame, (int(x), int(y)), max(h // 8, 2),
                               colour, -1)
                image = av.VideoFrame.from_ndarray(frame, format='rgb24')
                for packet in stream.encode(image):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        paths.append(path)
    return paths


def _summary(seconds: List[float], count: int, exact: list,
             diff: list) -> dict:
    return dict(
        videos_per_s=statistics.median(count / s for s in seconds),
        seconds_per_pass=seconds,
        exact_frames=statistics.mean(exact) if exact else None,
        mean_abs_diff=statistics.mean(diff) if diff else None)


def _compare(out: np.ndarray, ref: np.ndarray) -> tuple:
    """(share of pixel-identical frames, mean absolute difference)."""
    if out.shape != ref.shape:
        return 0.0, float('nan')
    # (N, C, T, H, W): one flag per frame of each view
    same = float((out == ref).all(axis=(-4, -2, -1)).mean())
    return same, float(np.abs(out.astype(np.float32) -
                              ref.astype(np.float32)).mean())


def measure(pipeline: List[dict], sets: Dict[str, List[str]],
            cases: List[tuple], passes: int,
            seed: int) -> Dict[str, Dict[str, dict]]:
    """Videos/s of each case, a ``(video set, variant)`` pair (median over
    passes; the cases take turns on every video, in alternating order), and
    its exactness against ``accurate`` on the same set. The sets hold the
    same videos (e.g. originals and their re-encoded copies), in order.

    Returns:
        dict: ``{'all': {case: summary}, <video name>: {...}}``, a case
        named ``variant`` on the set ``original``, else ``set/variant``;
        ``gain`` is against ``accurate`` on the originals.
    """
    def name(case):
        return case[1] if case[0] == 'original' else '/'.join(case)

    built = {c: variant_pipeline(pipeline, c[1]) for c in cases}
    videos = sets['original']
    for case in cases:  # warm-up: decoder processes started, caches filled
        run_pipeline(built[case], sets[case[0]][0], seed)
    names = ['all'] + [osp.basename(v) for v in videos]
    seconds = {n: {c: [0.0] * passes for c in cases} for n in names}
    exact = {n: {c: [] for c in cases} for n in names}
    diff = {n: {c: [] for c in cases} for n in names}
    with tqdm(total=passes * len(videos) * len(cases),
              desc='pipeline', disable=None) as bar:
        for p in range(passes):
            for i, video in enumerate(videos):
                label = osp.basename(video)
                outputs = {}
                order = cases if (p + i) % 2 == 0 else cases[::-1]
                for case in order:
                    start = time.perf_counter()
                    outputs[case] = run_pipeline(built[case],
                                                 sets[case[0]][i],
                                                 seed + 1000 * p + i)
                    took = time.perf_counter() - start
                    seconds['all'][case][p] += took
                    seconds[label][case][p] += took
                    bar.update()
                for case, out in outputs.items():
                    ref = outputs.get((case[0], 'accurate'))
                    if ref is None:
                        continue
                    same, mad = _compare(out, ref)
                    for n in ('all', label):
                        exact[n][case].append(same)
                        diff[n][case].append(mad)
    result = {}
    for n in names:
        count = len(videos) if n == 'all' else 1
        rows = {name(c): _summary(seconds[n][c], count, exact[n][c],
                                  diff[n][c]) for c in cases}
        if 'accurate' in rows:
            for row in rows.values():
                row['gain'] = row['videos_per_s'] / rows['accurate'][
                    'videos_per_s']
        result[n] = rows
    return result


class FloatNormalize:
    """Normalise in the data-loader worker (float32 clips travel to the
    main process) instead of in ``ActionDataPreprocessor`` (uint8 clips
    travel, the model's device normalises); placed before ``FormatShape``.
    """

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)

    def __call__(self, results: dict) -> dict:
        results['imgs'] = [(np.asarray(img, np.float32) - self.mean) /
                           self.std for img in results['imgs']]
        return results


def loader_throughput(pipeline: List[dict], videos: List[str],
                      variant: str, workers: int, repeats: int,
                      normalize: Optional[tuple] = None) -> float:
    """Videos/s of a ``RobustVideoDataset`` (decoder guard on, as shipped)
    read by a DataLoader with ``workers`` processes, after the first batch
    of each worker, up to normalised float32 clips in the main process:
    by default the loader gives uint8 clips, normalised in the main process
    as ``ActionDataPreprocessor`` does on the CPU; with ``normalize=(mean,
    std)`` the workers normalise (:class:`FloatNormalize`)."""
    from torch.utils.data import DataLoader

    from t4v_mmaction.datasets import RobustVideoDataset
    transforms = variant_pipeline(pipeline, variant)
    if normalize is not None:
        at = [step_name(t) for t in transforms].index('FormatShape')
        transforms.insert(at, FloatNormalize(*normalize))
    with tempfile.TemporaryDirectory(prefix='t4v_loader_') as tmp:
        ann = osp.join(tmp, 'list.txt')
        items = (videos * repeats * (1 + workers * 8 //
                                     (len(videos) * repeats)))
        with open(ann, 'w') as f:
            f.writelines(f'{osp.abspath(v)} 0\n' for v in items)
        dataset = RobustVideoDataset(
            ann, transforms, data_prefix=dict(video=''), max_skips=0)
        loader = DataLoader(dataset, batch_size=1, num_workers=workers,
                            collate_fn=lambda batch: batch)
        mean = torch.tensor(normalize[0] if normalize else (0., ) * 3)
        std = torch.tensor(normalize[1] if normalize else (1., ) * 3)
        shape = (-1, 1, 1, 1)  # (C, T, H, W) of one view

        def consume(batch):
            inputs = batch[0]['inputs']
            if normalize is None:  # ActionDataPreprocessor, on the CPU
                (inputs.float() - mean.view(shape)) / std.view(shape)

        iterator = iter(loader)
        for _ in range(max(workers, 1)):
            consume(next(iterator))
        start, count = time.perf_counter(), 0
        for batch in iterator:
            consume(batch)
            count += 1
        return count / (time.perf_counter() - start)


def markdown(result: Dict[str, dict]) -> str:
    lines = [
        '| case | videos/s per worker | gain vs accurate | frames '
        'pixel-identical to accurate (same videos) | mean abs diff (0-255) |',
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
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Decode + augmentation videos/s per worker of a '
        'config\'s training pipeline: decoders, decoding variants, '
        're-encoded copies, N data-loader workers')
    parser.add_argument('config', nargs='?',
                        help='config with a train pipeline')
    parser.add_argument('--videos', nargs='*', default=[], help='mp4 files')
    parser.add_argument(
        '--generate', type=int, default=0, help='synthetic clips to add')
    parser.add_argument('--gen-size', type=parse_size, default=(640, 480))
    parser.add_argument('--gen-frames', type=int, default=250)
    parser.add_argument(
        '--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument(
        '--reencode', type=int, nargs='*', default=[], metavar='GOP',
        help='also time re-encoded copies (tools/data/reencode_videos.py) '
        'with these key-frame intervals, at the short side of the '
        "pipeline's first Resize(scale=(-1, S))")
    parser.add_argument(
        '--copy-variants', nargs='+', default=['accurate', 'exact-pyav'],
        choices=VARIANTS, help='variants timed on the copies')
    parser.add_argument(
        '--workers', type=int, nargs='*', default=[],
        help='also time a DataLoader with N workers (accurate and '
        'exact-pyav, decoder guard on as shipped)')
    parser.add_argument(
        '--passes', type=int, default=3, help='passes over the videos')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='write the numbers here')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, as tools/train.py does')
    parser.add_argument(
        '--write-videos', metavar='DIR',
        help='only write the --generate clips and a list (list.txt, label '
        'i for clip i) into DIR, for other benchmarks')
    args = parser.parse_args(argv)
    if args.write_videos:
        if not args.generate:
            parser.error('--write-videos needs --generate N')
        return args
    if not args.config:
        parser.error('the config is required (unless --write-videos)')
    if not args.videos and not args.generate:
        parser.error('give --videos and/or --generate N')
    missing = [v for v in args.videos if not osp.isfile(v)]
    if missing:
        parser.error(f'videos not found: {missing}')
    if args.passes < 1 or any(n < 1 for n in args.workers + args.reencode):
        parser.error('--passes, --workers and --reencode must be >= 1')
    return args


def _normalization(cfg: Config) -> Optional[tuple]:
    """(mean, std) of the model's data preprocessor, if it normalises."""
    pre = cfg.get('model', {}).get('data_preprocessor', {}) or {}
    if pre.get('mean') is None or pre.get('std') is None:
        return None
    return tuple(pre['mean']), tuple(pre['std'])


def make_copies(videos: List[str], out_dir: str, gop: int,
                short_side: Optional[int]) -> tuple:
    """Re-encoded copies (same order) and their size ratio and PSNR."""
    from t4v_mmaction.datasets.reencode import copies_summary, reencode_video
    copies, records = [], []
    for i, video in enumerate(videos):
        copy = osp.join(out_dir, f'g{gop}_{i}_{osp.basename(video)}')
        records.append(reencode_video(video, copy, short_side, gop))
        copies.append(copy)
    return copies, dict(gop=gop, short_side=short_side,
                        **copies_summary(records))


def main(argv=None):
    import cv2
    from mmengine.registry import init_default_scope
    args = parse_args(argv)
    if args.write_videos:
        os.makedirs(args.write_videos, exist_ok=True)
        paths = make_videos(args.write_videos, args.generate, args.gen_size,
                            args.gen_frames, args.seed)
        with open(osp.join(args.write_videos, 'list.txt'), 'w') as f:
            f.writelines(f'{osp.basename(p)} {i}\n'
                         for i, p in enumerate(paths))
        print(f'{len(paths)} clips and list.txt in {args.write_videos}')
        return
    cv2.setNumThreads(0)  # as mmengine sets it in data-loader workers
    torch.set_num_threads(1)
    init_default_scope('mmaction')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    pipeline = train_pipeline(cfg)
    side = next((short_side_resize(s) for s in pipeline
                 if short_side_resize(s)), None)
    copies, loader = [], {}
    with tempfile.TemporaryDirectory(prefix='t4v_pipeline_') as tmp:
        videos = list(args.videos)
        if args.generate:
            videos += make_videos(tmp, args.generate, args.gen_size,
                                  args.gen_frames, args.seed)
        sets = {'original': videos}
        cases = [('original', v) for v in args.variants]
        for gop in args.reencode:
            sets[f'g{gop}'], info = make_copies(videos, tmp, gop, side)
            copies.append(info)
            cases += [(f'g{gop}', v) for v in args.copy_variants]
        throughput = measure(pipeline, sets, cases, args.passes, args.seed)
        norm = _normalization(cfg)
        for workers in args.workers:
            rows = loader.setdefault(f'{workers} workers', {})
            repeats = max(args.passes, 2)
            for set_name, paths in sets.items():
                for variant in ('accurate', 'exact-pyav'):
                    key = variant if set_name == 'original' else \
                        f'{set_name}/{variant}'
                    rows[key] = loader_throughput(pipeline, paths, variant,
                                                  workers, repeats)
            if norm is not None:
                rows['accurate, normalised in the workers'] = \
                    loader_throughput(pipeline, videos, 'accurate', workers,
                                      repeats, normalize=norm)
    result = dict(
        config=args.config,
        videos=[osp.basename(v) for v in videos],
        machine=dict(
            cpu=platform.processor() or platform.machine(),
            cores=os.cpu_count(),
            loadavg=os.getloadavg()),
        throughput=throughput, copies=copies, loader=loader)
    for name, rows in throughput.items():
        title = f'all {len(videos)} videos' if name == 'all' else name
        print(f'\n{title}:')
        print(markdown(rows))
    for info in copies:
        print(f'\ncopies g{info["gop"]} (short side {info["short_side"]}): '
              f'size {info["size_ratio"]:.2f}x the originals, PSNR '
              f'{info["psnr_mean"]:.1f} dB (min {info["psnr_min"]:.1f})')
    for workers, rows in loader.items():
        print(f'\nDataLoader, {workers} (videos/s): ' + ', '.join(
            f'{k} {v:.2f}' for k, v in rows.items()))
    print(f'\nload average: {os.getloadavg()}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
