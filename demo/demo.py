"""Recognise the action in one video, optionally on your own class names.

Prints the top-k predictions, one per line: rank, score, class name. With a
Text4Vis config (frozen text classifier) ``--classes`` or ``--label-file``
recognise any label set: the config's text encoder embeds the names, so no
retraining and no checkpoint edit is needed. ``CHECKPOINT`` may be ``none``
(random weights, for testing).

Example, with the released ViT-B/16 checkpoint converted by
``tools/convert_text4vis_checkpoint.py`` and ``CONFIG`` the file
``configs/text4vis/kinetics400/``
``text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py``::

    python demo/demo.py demo.mp4 $CONFIG k400-vitb-16-f8_t4v.pth \\
        --classes "playing guitar" "riding a bike" --out demo_out.mp4
"""
import argparse
import os.path as osp

import cv2
from mmengine.config import DictAction
from tqdm import tqdm

from t4v_mmaction.apis import classify_video, init_recognizer


def parse_args():
    parser = argparse.ArgumentParser(
        description='Text4Vis video recognition demo (open vocabulary)')
    parser.add_argument('video', help='video file')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint', help='checkpoint file, or "none" for random weights')
    names = parser.add_mutually_exclusive_group()
    names.add_argument(
        '--label-file',
        help='class names: a label map (one name per line) or an id,name '
        'CSV; default: the config\'s classes')
    names.add_argument(
        '--classes', nargs='+', metavar='NAME', help='class names, free text')
    parser.add_argument(
        '--top-k', type=int, default=5, help='how many classes to print')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--precision',
        default='fp32',
        choices=['fp32', 'bf16', 'auto'],
        help='auto: bf16 weights and autocast where the device runs bf16 '
        'natively (GPUs, AVX512-BF16/AMX CPUs), else fp32')
    parser.add_argument(
        '--out', help='write the video with the predictions drawn (.mp4)')
    parser.add_argument(
        '--font-scale', type=float, default=None,
        help='font scale of the drawn text (default: frame height / 480)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    return parser.parse_args()


def draw_predictions(video: str, out: str, predictions,
                     font_scale=None) -> int:
    """Write ``video`` to ``out`` (mp4v) with the predictions on every
    frame; returns the number of frames written."""
    cap = cv2.VideoCapture(video)
    if not cap.isOpened():
        raise RuntimeError(f'OpenCV cannot read {video}')
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.
    width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write an mp4v video to {out}')
    scale = font_scale or max(height / 480., 0.4)
    lines = [f'{name}: {score:.3f}' for name, score in predictions]
    progress = tqdm(
        total=int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), desc='drawing',
        unit='frame', disable=None)
    written = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        for i, text in enumerate(lines):
            origin = (int(10 * scale), int((30 + 28 * i) * scale))
            for color, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
                cv2.putText(frame, text, origin, cv2.FONT_HERSHEY_DUPLEX,
                            scale * 0.7, color, thickness, cv2.LINE_AA)
        writer.write(frame)
        written += 1
        progress.update()
    progress.close()
    cap.release()
    writer.release()
    return written


def main():
    args = parse_args()
    checkpoint = None if args.checkpoint.lower() == 'none' else \
        args.checkpoint
    model = init_recognizer(
        args.config,
        checkpoint,
        device=args.device,
        class_names=args.classes or args.label_file,
        cfg_options=args.cfg_options,
        precision=args.precision)
    predictions = classify_video(model, args.video, top_k=args.top_k)
    for rank, (name, score) in enumerate(predictions, 1):
        print(f'{rank:>3d}  {score:.4f}  {name}')
    if args.out:
        written = draw_predictions(args.video, args.out, predictions,
                                   args.font_scale)
        print(f'\nwrote {written} frames to {osp.abspath(args.out)}')


if __name__ == '__main__':
    main()
