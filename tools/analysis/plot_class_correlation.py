"""Inter-class correlation maps of classifiers (Text4Vis Figure 1).

Cosine similarity between the class rows of a classifier file (e.g. CLIP
text embeddings of the class names) and/or of a matrix in a trained
checkpoint (e.g. the ``[C, D]`` weight of a linear head), for a subset of
classes, drawn as heatmaps side by side with the class names on the axes.

Examples::

    python tools/analysis/plot_class_correlation.py \
        --classifier k400_vitb16.pth --num 20 --seed 0 --out text.png
    python tools/analysis/plot_class_correlation.py \
        --classifier k400_vitb16.pth --checkpoint work_dirs/lin/epoch_30.pth \
        --key cls_head.fc_cls.weight --classes 'playing guitar' \
        'playing violin' 'drinking beer' --out figure1.png
"""
import argparse
import difflib
import os
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import t4v_mmaction  # noqa: F401,E402  (safe loading of mmengine ckpts)
from t4v_mmaction.datasets.class_names import load_class_names  # noqa: E402
from t4v_mmaction.models.classifiers import read_classifier  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot inter-class cosine-correlation heatmaps.')
    parser.add_argument(
        '--classifier', help='classifier file or [C, D] tensor file')
    parser.add_argument('--checkpoint', help='model checkpoint (.pth)')
    parser.add_argument(
        '--key',
        default='cls_head.fc_cls.weight',
        help='[C, D] tensor in the checkpoint (under state_dict if present)')
    parser.add_argument(
        '--transpose',
        action='store_true',
        help='the checkpoint tensor is [D, C]')
    parser.add_argument(
        '--class-names',
        help='label-map .txt or id,name CSV, when the classifier file has '
        'no class names')
    parser.add_argument('--classes', nargs='+', help='class names to show')
    parser.add_argument(
        '--num', type=int, default=20, help='random classes to show')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--vmin', type=float, help='colour scale minimum')
    parser.add_argument('--vmax', type=float, help='colour scale maximum')
    parser.add_argument('--out', required=True, help='output .png')
    args = parser.parse_args(argv)
    if not args.classifier and not args.checkpoint:
        parser.error('give --classifier and/or --checkpoint')
    return args


def checkpoint_matrix(path: str, key: str, transpose: bool) -> torch.Tensor:
    """A ``[C, D]`` float tensor from a checkpoint (weights_only loading)."""
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else {}
    if key not in state:
        matrices = [k for k, v in state.items()
                    if isinstance(v, torch.Tensor) and v.ndim == 2]
        raise KeyError(f'{path}: no tensor {key!r}; 2-D tensors: '
                       f'{matrices[:20]}')
    matrix = state[key].float()
    if matrix.ndim != 2:
        raise ValueError(f'{path}: {key} has shape {list(matrix.shape)}, '
                         'expected [C, D]')
    return matrix.t() if transpose else matrix


def select_classes(names, wanted, num: int, seed: int) -> np.ndarray:
    """Indices of the classes to show: ``wanted`` names, or ``num`` random."""
    if wanted:
        unknown = [n for n in wanted if n not in names]
        if unknown:
            hints = {n: difflib.get_close_matches(n, names, 3)
                     for n in unknown}
            raise ValueError(f'unknown class names (close matches): {hints}')
        return np.array([names.index(n) for n in wanted])
    if len(names) <= num:
        return np.arange(len(names))
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(len(names), num, replace=False))


def correlation(matrix: torch.Tensor, index: np.ndarray) -> np.ndarray:
    """``(K, K)`` cosine similarities of the selected rows of ``(C, D)``."""
    rows = F.normalize(matrix[torch.from_numpy(index)], dim=-1)
    return (rows @ rows.t()).numpy()


def plot(panels, labels, out: str, vmin=None, vmax=None) -> None:
    """Draw ``[(title, (K, K) array), ...]`` side by side into ``out``."""
    size = 2.5 + 0.28 * len(labels)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(size * len(panels), size), squeeze=False)
    for ax, (title, corr) in zip(axes[0], panels):
        image = ax.imshow(corr, cmap='viridis', vmin=vmin, vmax=vmax)
        ax.set_title(title, fontsize=9)
        ticks = np.arange(len(labels))
        ax.set_xticks(ticks, labels, rotation=90, fontsize=7)
        ax.set_yticks(ticks, labels, fontsize=7)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=150)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    sources, names = [], None
    if args.classifier:
        clf = read_classifier(args.classifier)
        sources.append((f'{osp.basename(args.classifier)} '
                        f'({clf.meta.get("kind")})', clf.weight))
        names = clf.class_names
    if args.checkpoint:
        sources.append((f'{osp.basename(args.checkpoint)}: {args.key}',
                        checkpoint_matrix(args.checkpoint, args.key,
                                          args.transpose)))
    rows = {matrix.shape[0] for _, matrix in sources}
    if len(rows) != 1:
        raise ValueError(f'the matrices have different class counts: {rows}')
    num_classes = rows.pop()
    if args.class_names:
        names = load_class_names(args.class_names)
    names = names or [f'class {i}' for i in range(num_classes)]
    if len(names) != num_classes:
        raise ValueError(f'{len(names)} class names for {num_classes} rows')
    index = select_classes(names, args.classes, args.num, args.seed)
    panels = [(title, correlation(m, index)) for title, m in sources]
    plot(panels, [names[i] for i in index], args.out, args.vmin, args.vmax)
    print(f'saved {len(index)}-class correlation map to {args.out}')


if __name__ == '__main__':
    main()
