"""Build a frozen classifier file for FrozenClassifierHead.

Each kind of classifier owns its options (``--kind KIND --help`` lists
them); they are the options of its spec in a config's
``cls_head.classifier``. Examples::

    # CLIP text embeddings of the class names (the Text4Vis classifier)
    python tools/build_classifier.py --kind text --classes k400.csv \
        --model ViT-B-16 --pretrained ViT-B-16.pt --out k400_vitb16.pth
    # a text-only language model (the paper's DistilBERT row)
    python tools/build_classifier.py --kind lm --classes k400.csv \
        --model distilbert-base-uncased --pooling mean --out k400_lm.pth
    # LDA on CLIP video embeddings of 60 training videos per class
    python tools/build_classifier.py --kind lda --config CFG \
        --num-per-class 60 --solver lsqr --shrinkage auto --out k400_lda.pth
    # random / orthogonal rows
    python tools/build_classifier.py --kind orthogonal --num-classes 400 \
        --dim 512 --seed 0 --out k400_orth.pth

Prints one line: kind, shape, sha256, output file and build time.
"""
import argparse
import sys
import time

import t4v_mmaction  # noqa: F401  (compat fixes, registries)
from t4v_mmaction.models.classifiers import (build_classifier,
                                             save_classifier)
from t4v_mmaction.registry import CLASSIFIERS

#: Kinds that are built (a classifier file is read, not built).
BUILT_KINDS = ('text', 'lm', 'lda', 'random', 'orthogonal')


def _parser(kind=None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='Build a frozen classifier ([C, D] class rows) file. '
        '`--kind KIND --help` lists the options of a kind.')
    parser.add_argument('--kind', required=True, choices=BUILT_KINDS)
    parser.add_argument('--out', required=True, help='output .pth file')
    if kind is not None:
        group = parser.add_argument_group(f'{kind} classifier')
        CLASSIFIERS.get(kind).add_arguments(group)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    argv = sys.argv[1:] if argv is None else list(argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument('--kind', choices=BUILT_KINDS)
    known, _ = pre.parse_known_args(argv)
    return _parser(known.kind).parse_args(argv)


def make_spec(args: argparse.Namespace) -> dict:
    """The classifier spec dict the arguments describe."""
    options = {k: v for k, v in vars(args).items()
               if k not in ('kind', 'out') and v is not None}
    if args.kind in ('text', 'lm', 'lda'):
        options['progress'] = True
    return dict(type=args.kind, **options)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    clf = build_classifier(make_spec(args))
    clf = save_classifier(args.out, clf.weight, clf.meta)
    print(f'{args.kind} classifier {list(clf.weight.shape)} '
          f'sha256 {clf.meta["sha256"][:16]} -> {args.out} '
          f'({time.perf_counter() - start:.1f} s)')


if __name__ == '__main__':
    main()
