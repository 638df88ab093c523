"""mmaction2's VindLU imports helpers that transformers no longer exports.

Upstream: ``mmaction/models/multimodal/vindlu/modeling_bert.py`` (mmaction2
1.2.0) imports ``apply_chunking_to_forward``, ``prune_linear_layer`` and
``find_pruneable_heads_and_indices`` from ``transformers.modeling_utils``;
transformers 4.56 stopped re-exporting them there (they live in
``transformers.pytorch_utils``) and 5.0 removed the last one, so ``import
mmaction.models`` fails with an ImportError. Run right after
``transformers.modeling_utils`` is imported (see ``_t4v_mmaction_hooks``),
this puts them back; on a transformers that still has them it does nothing.
"""
import importlib

__all__ = ['restore_modeling_utils_exports']

_MOVED = ('apply_chunking_to_forward', 'prune_linear_layer')


def find_pruneable_heads_and_indices(heads, n_heads: int, head_size: int,
                                     already_pruned_heads: set):
    """The heads left to prune and the flat indices of the kept channels,
    as transformers < 5 computed them.

    Returns:
        tuple[set[int], torch.LongTensor]: The heads to prune (not pruned
        before) and the indices of the ``n_heads * head_size`` channels kept.
    """
    import torch
    mask = torch.ones(n_heads, head_size)
    heads = set(heads) - already_pruned_heads
    for head in heads:
        # heads pruned before shift the position of the later ones
        head -= sum(1 for pruned in already_pruned_heads if pruned < head)
        mask[head] = 0
    keep = mask.view(-1).eq(1)
    return heads, torch.arange(len(keep))[keep].long()


def restore_modeling_utils_exports(modeling_utils) -> None:
    """Give ``transformers.modeling_utils`` the names VindLU imports."""
    pytorch_utils = importlib.import_module('transformers.pytorch_utils')
    for name in _MOVED:
        if not hasattr(modeling_utils, name) and hasattr(pytorch_utils, name):
            setattr(modeling_utils, name, getattr(pytorch_utils, name))
    if not hasattr(modeling_utils, 'find_pruneable_heads_and_indices'):
        modeling_utils.find_pruneable_heads_and_indices = getattr(
            pytorch_utils, 'find_pruneable_heads_and_indices',
            find_pruneable_heads_and_indices)
