"""Convert an original Text4Vis checkpoint to a t4v_mmaction checkpoint.

Reads checkpoints of ``whwu95/Text4Vis`` (``train.py``'s
``{'epoch', 'model_state_dict', 'optimizer_state_dict'}``, the contrastive
code's layout with ``fusion_model_state_dict``, or a bare state dict; with or
without DDP's ``module.`` prefix) and writes an mmengine checkpoint
``{'state_dict': ..., 'meta': ...}`` with this package's key names, for
``load_from`` / ``tools/test.py``. The source is read without executing
anything it contains (``torch.load(weights_only=True)``). With
``--config`` the model of that config is built (no pretrained weights) and
the converted weights must load into it with ``strict=True``; on a mismatch
nothing is written and the tool exits with an error naming it.

Example::

    python tools/convert_text4vis_checkpoint.py k400-vitb-16-f8.pt \\
        work_dirs/k400-vitb-16-f8_t4v.pth \\
        --config configs/text4vis/<the matching config>.py
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import torch
from mmengine.config import Config, DictAction

import t4v_mmaction
from t4v_mmaction.compat import UnsafeCheckpointError
from t4v_mmaction.utils import NonFiniteWeightsError, check_finite
from t4v_mmaction.models.utils import (checkpoint_mismatch,
                                       load_weights_file, state_shapes)
from t4v_mmaction.models.utils.convert import (ORIGINAL_TTRANS_HEADS,
                                               CheckpointConversionError,
                                               convert_text4vis_state_dict,
                                               describe_architecture,
                                               dropped_keys,
                                               flatten_text4vis_checkpoint,
                                               format_architecture,
                                               group_keys)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an original Text4Vis checkpoint (visual.*, '
        'fusion_model.*, logit_scale) to a t4v_mmaction checkpoint '
        '(backbone.*, cls_head.*).')
    parser.add_argument('src', help='original Text4Vis checkpoint (.pt)')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument(
        '--config',
        help='t4v_mmaction config whose model the weights must load into '
        'with strict=True (checked before anything is written)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='overrides of --config, key=value pairs')
    return parser.parse_args(argv)


def load_source(path: str) -> dict:
    """The checkpoint, read without executing anything; exits with a clear
    message on an unsafe, truncated or foreign file."""
    try:
        checkpoint = load_weights_file(path)
    except FileNotFoundError:
        sys.exit(f'error: SRC {path!r} is not a file')
    except UnsafeCheckpointError as err:
        sys.exit(
            f'error: {err}\nOriginal Text4Vis checkpoints hold only tensors, '
            'numbers, strings and the optimizer state. If you trust the '
            'file, re-save it first with `python tools/misc/'
            'trust_checkpoint.py SRC SAFE_COPY --yes-i-trust-this-file`.')
    except ValueError as err:
        sys.exit(f'error: {err}')
    if not isinstance(checkpoint, dict):
        sys.exit(f'error: {path!r} holds a {type(checkpoint).__name__}, not '
                 'a checkpoint dict')
    return checkpoint


def source_layout(checkpoint: dict) -> str:
    if 'fusion_model_state_dict' in checkpoint:
        return 'epoch_saving (model_state_dict + fusion_model_state_dict)'
    if 'model_state_dict' in checkpoint:
        return 'train.py (model_state_dict)'
    return 'bare state dict'


def build_model(config: str,
                cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """The config's model, as built (no weights are read: a backbone loads
    its pretrained weights only in ``init_weights``, the head builds its
    classifier only when used)."""
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope

    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    return MODELS.build(cfg.model)


def _ttrans_heads(model: torch.nn.Module) -> Optional[int]:
    try:
        attn = model.get_submodule(
            'cls_head.temporal.transformer.resblocks.0.attn')
    except AttributeError:
        return None
    return getattr(attn, 'num_heads', None)


def mismatch_report(state_dict: dict, model: torch.nn.Module) -> List[str]:
    """Everything that keeps ``state_dict`` from loading into ``model``
    (or from computing what the original computed); empty if it fits."""
    own = model.state_dict()
    ckpt, built = describe_architecture(state_dict), describe_architecture(own)
    lines = []
    for part, what in (('backbone', 'checkpoint is {}, config builds {}'),
                       ('temporal', 'checkpoint has {}, config builds {}'),
                       ('head', 'checkpoint has {}, config builds {}')):
        have, want = (format_architecture(d, part) for d in (ckpt, built))
        if have != want:
            lines.append(what.format(have, want))
    heads = _ttrans_heads(model)
    expected = ORIGINAL_TTRANS_HEADS.get(ckpt['name'])
    if ckpt['head_temporal'] == 'T-Trans' and not lines and expected and \
            heads and heads != expected:
        lines.append(
            f"the original T-Trans of {ckpt['name']} has {expected} heads "
            f'(CLIP text width // 64), the config builds {heads}: set '
            f'cls_head.temporal.num_heads={expected}')
    return lines + checkpoint_mismatch(state_shapes(state_dict),
                                       state_shapes(own), model)


def verify(state_dict: dict, config: str,
           cfg_options: Optional[dict] = None) -> None:
    model = build_model(config, cfg_options)
    problems = mismatch_report(state_dict, model)
    if not problems:
        try:
            model.load_state_dict(state_dict, strict=True)
        except RuntimeError as err:
            problems = [str(err)]
    if problems:
        sys.exit('error: the converted checkpoint does not match the model '
                 f'of {config}; nothing was written.\n  - ' +
                 '\n  - '.join(problems))


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    checkpoint = load_source(args.src)
    try:
        original = flatten_text4vis_checkpoint(checkpoint)
        state_dict = convert_text4vis_state_dict(original)
    except CheckpointConversionError as err:
        sys.exit(f'error: {args.src!r}: {err}')
    try:  # a diverged run's weights are not worth converting
        check_finite(state_dict, args.src)
    except NonFiniteWeightsError as err:
        sys.exit(f'error: {err}')
    desc = describe_architecture(state_dict)
    notes = []
    dropped = dropped_keys(original)
    if dropped:
        notes.append(f'dropped {len(dropped)} CLIP text-tower keys '
                     f'({", ".join(group_keys(dropped, limit=4))})')
    heads = ORIGINAL_TTRANS_HEADS.get(desc['name'])
    if desc['head_temporal'] == 'T-Trans' and heads:
        notes.append(f'the original T-Trans has {heads} heads '
                     f'(cls_head.temporal.num_heads={heads})')
    if args.config:
        verify(state_dict, args.config, args.cfg_options)

    meta = dict(
        source=osp.basename(args.src),
        source_layout=source_layout(checkpoint),
        architecture=format_architecture(desc),
        converter=f't4v_mmaction {t4v_mmaction.__version__} '
        'tools/convert_text4vis_checkpoint.py',
        notes=notes)
    if isinstance(checkpoint.get('epoch'), int):
        meta['text4vis_epoch'] = checkpoint['epoch']
    dst_dir = osp.dirname(osp.abspath(args.dst))
    os.makedirs(dst_dir, exist_ok=True)
    torch.save(
        dict(state_dict={k: v.detach().clone()
                         for k, v in state_dict.items()},
             meta=meta), args.dst)
    print(f'{args.src} -> {args.dst}: {len(state_dict)} tensors, '
          f'{meta["architecture"]}')
    for note in notes:
        print(f'note: {note}')
    if args.config:
        print(f'verified: loads with strict=True into the model of '
              f'{args.config}')


if __name__ == '__main__':
    main()
