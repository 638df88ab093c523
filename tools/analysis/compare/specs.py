"""What each worker is told to build (its spec, see
:class:`compare.worker.Worker`), and the files the workers share: the
classifier, and the weights the reference's worker writes for the other.
"""
import os.path as osp
from typing import Dict

from .original import check_original
from .settings import ARCHS, REPO


def base_spec(args, tmp: str) -> dict:
    """The spec both contenders share, from the command line; the shared
    files go to ``tmp``."""
    return dict(
        arch=ARCHS[args.arch],
        head=args.head,
        backbone_temporal=args.backbone_temporal,
        num_frames=args.num_frames,
        num_classes=args.num_classes,
        batch=args.batch,
        train_batch=args.train_batch,
        threads=args.threads,
        device=args.device,
        seed=args.seed,
        classifier_path=osp.join(tmp, 'classifier.pt'),
        fused_adamw=not args.no_fused_adamw,
        fast_mode=args.fast_mode)


def save_classifier(spec: dict) -> None:
    """A random ``(num_classes, embed_dim)`` classifier (from ``seed + 1``)
    at ``spec['classifier_path']``."""
    import torch
    gen = torch.Generator().manual_seed(spec['seed'] + 1)
    torch.save(
        torch.randn(spec['num_classes'], spec['arch']['embed_dim'],
                    generator=gen), spec['classifier_path'])


def regression_specs(args, spec: dict, tmp: str) -> Dict[str, dict]:
    """This tree vs ``--reference-tree``: the reference builds the model
    and saves its weights, the current tree loads them."""
    tree = osp.abspath(osp.expanduser(args.reference_tree))
    if not osp.isfile(osp.join(tree, 't4v_mmaction', '__init__.py')):
        raise SystemExit(f'--reference-tree {tree}: t4v_mmaction/ not found')
    weights = osp.join(tmp, 'reference_weights.pt')
    return dict(
        reference=dict(
            spec, contender='ours', package=tree, cwd=tree,
            save_weights=weights, our_weights=weights, tmp=tmp),
        current=dict(
            spec, contender='ours', package=REPO, our_weights=weights,
            tmp=tmp))


def original_specs(args, spec: dict, tmp: str) -> Dict[str, dict]:
    """Ours vs the original: the original builds the model and saves its
    weights, ours loads them converted."""
    try:
        original = check_original(args.original)
    except FileNotFoundError as err:
        raise SystemExit(str(err))
    weights = osp.join(tmp, 'original_weights.pt')
    return dict(
        original=dict(
            spec, contender='original', original=original,
            weights=weights, make_weights=True, tmp=tmp),
        ours=dict(spec, contender='ours', weights=weights, tmp=tmp))
