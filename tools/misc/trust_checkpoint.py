"""Re-save a trusted old mmengine checkpoint in the safe-loading format.

Checkpoints that mmengine wrote before ``t4v_mmaction`` was imported pickle
their ``HistoryBuffer`` objects through ``builtins.getattr``, so they are
refused under ``torch.load(weights_only=True)``. This tool is the explicit,
user-visible opt-in: with ``--yes-i-trust-this-file`` it loads SRC with full
unpickling (which runs any code pickled in it) and writes DST, which then
loads safely. DST is removed again if it still holds objects outside the
allow-list.

Example::

    python tools/misc/trust_checkpoint.py old.pth new.pth \
        --yes-i-trust-this-file
"""
import argparse
import os
import os.path as osp
import sys

import torch

import t4v_mmaction  # noqa: F401
from t4v_mmaction.compat import trusted_checkpoint_loading

TRUST_FLAG = '--yes-i-trust-this-file'


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a trusted old mmengine checkpoint so that it '
        'loads with torch.load(weights_only=True).')
    parser.add_argument('src', help='checkpoint to convert (fully unpickled)')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument(
        TRUST_FLAG,
        dest='trusted',
        action='store_true',
        help='confirm that SRC comes from a source you trust: loading it '
        'runs any code pickled inside it')
    args = parser.parse_args()
    if not osp.isfile(args.src):
        parser.error(f'SRC {args.src!r} is not a file')
    return args


def main():
    args = parse_args()
    if not args.trusted:
        sys.exit(f'Refusing to load {args.src!r}: converting a checkpoint '
                 'unpickles it fully, which runs any code stored in it. '
                 f'Re-run with {TRUST_FLAG} only if the file comes from a '
                 'source you trust (e.g. you trained it yourself).')

    checkpoint = trusted_checkpoint_loading(args.src, map_location='cpu')
    dst_dir = osp.dirname(osp.abspath(args.dst))
    os.makedirs(dst_dir, exist_ok=True)
    torch.save(checkpoint, args.dst)

    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(args.dst)
    if unsafe:
        os.remove(args.dst)
        sys.exit(f'{args.src!r} holds objects outside the safe-loading '
                 f'allow-list ({", ".join(sorted(unsafe))}); a re-saved copy '
                 'would still be refused, so nothing was written.')
    print(f'Wrote {args.dst!r}; it loads with weights_only=True.')


if __name__ == '__main__':
    main()
