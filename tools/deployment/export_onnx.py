"""Export a recognizer to ONNX: ``frames -> probabilities``.

The graph is :class:`t4v_mmaction.apis.FusedRecognizer`: input ``frames``
``(N, V, 3, T, H, W)`` float32 RGB in 0..255 (the test pipeline's output:
resized and cropped, not normalised), output ``probs`` ``(N, K)``. It holds
the normalisation, the backbone, the head with its frozen classifier baked
in as a constant, the view fusion of the head's ``view_fusion`` and a final
softmax. The batch axis N is dynamic; V, T, H, W are fixed.

``--classes`` / ``--label-file`` bake another label set into the graph (the
config's text encoder embeds the names). The class names are stored in the
model's metadata (``class_names``, a JSON list).

The legacy TorchScript exporter (``dynamo=False``) is used: it needs no
``onnxscript`` and exports ``scaled_dot_product_attention``.
"""
import argparse
import json
import warnings

import numpy as np
import torch
from mmengine.config import DictAction

from t4v_mmaction.apis import (FusedRecognizer, get_class_names,
                               get_input_shape, init_recognizer)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Export a recognizer to ONNX (frames -> probabilities)')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint', help='checkpoint file, or "none" for random weights')
    parser.add_argument('out', help='output .onnx file')
    parser.add_argument(
        '--num-frames', type=int, help='T (default: the test pipeline\'s)')
    parser.add_argument(
        '--views', type=int, help='views V (default: the test pipeline\'s)')
    parser.add_argument(
        '--input-size', type=int, help='S of S x S frames (default: the '
        'test pipeline\'s)')
    names = parser.add_mutually_exclusive_group()
    names.add_argument('--label-file', help='label map or id,name CSV')
    names.add_argument('--classes', nargs='+', metavar='NAME')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument(
        '--verify',
        action='store_true',
        help='compare onnxruntime with PyTorch on random input')
    parser.add_argument(
        '--tolerance', type=float, default=1e-4,
        help='largest accepted |onnx - torch| with --verify')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    return parser.parse_args()


def export(fused: FusedRecognizer, example: torch.Tensor, out: str,
           opset: int) -> None:
    """Trace ``fused`` on ``example`` into ``out`` with a dynamic batch."""
    with warnings.catch_warnings():
        # shape checks in Python are traced as constants: expected here
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        # the legacy exporter is chosen on purpose (module docstring)
        warnings.filterwarnings(
            'ignore', 'You are using the legacy TorchScript-based ONNX',
            DeprecationWarning)
        torch.onnx.export(
            fused, (example, ),
            out,
            dynamo=False,
            opset_version=opset,
            input_names=['frames'],
            output_names=['probs'],
            dynamic_axes={
                'frames': {
                    0: 'batch'
                },
                'probs': {
                    0: 'batch'
                }
            })


def add_metadata(path: str, meta: dict) -> None:
    """Store string metadata in an ONNX file."""
    import onnx
    model = onnx.load(path)
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, path)


def verify(fused: FusedRecognizer, path: str, shape: tuple) -> float:
    """Max |onnxruntime - PyTorch| on a seeded random batch of 3 videos
    (another batch size than the traced one, to check the dynamic axis)."""
    import onnxruntime as ort
    gen = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (3, *shape), generator=gen).float()
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    got = session.run(None, {'frames': frames.numpy()})[0]
    with torch.no_grad():
        expected = fused(frames).numpy()
    if got.shape != expected.shape:
        raise RuntimeError(f'onnxruntime returned {got.shape}, PyTorch '
                           f'{expected.shape}')
    return float(np.abs(got - expected).max())


def main():
    args = parse_args()
    cfg_options = dict(args.cfg_options or {})
    if args.num_frames:
        cfg_options['model.backbone.num_frames'] = args.num_frames
    checkpoint = None if args.checkpoint.lower() == 'none' else \
        args.checkpoint
    model = init_recognizer(
        args.config,
        checkpoint,
        class_names=args.classes or args.label_file,
        cfg_options=cfg_options)
    views, channels, frames, height, width = get_input_shape(model.cfg)
    views = args.views or views
    frames = args.num_frames or frames
    height = width = args.input_size or height
    shape = (views, channels, frames, height, width)
    fused = FusedRecognizer(model, views).eval()
    example = torch.zeros(2, *shape)
    export(fused, example, args.out, args.opset)
    names = get_class_names(model)
    add_metadata(
        args.out,
        dict(
            class_names=json.dumps(names),
            input_format='frames (N, V, 3, T, H, W) float32 RGB 0..255, '
            f'V={views}, T={frames}, H=W={height}',
            view_fusion=model.cls_head.view_fusion))
    num_classes = model.cls_head.num_classes
    print(f'exported {args.out}: frames (N, {", ".join(map(str, shape))}) '
          f'-> probs (N, {num_classes}), opset {args.opset}')
    if args.verify:
        diff = verify(fused, args.out, shape)
        ok = diff < args.tolerance
        print(f'verify: max |onnxruntime - pytorch| = {diff:.3e} '
              f'({"OK" if ok else "FAIL"}, tolerance {args.tolerance:g})')
        if not ok:
            raise SystemExit(1)


if __name__ == '__main__':
    main()
