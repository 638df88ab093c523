"""FSDP auto-wrap policy for mmengine's ``FlexibleRunner`` + ``FSDPStrategy``.

Configs name it as ``'residual_block_wrap_policy'`` in
``strategy.model_wrapper.auto_wrap_policy``; mmengine looks the name up in
its root ``FUNCTIONS`` registry. (Not in mmaction's child registry: the
mmaction2 1.2.0 wheel declares it with ``locations=['mmaction.mmengine']``, a
module it does not ship, so any lookup through it raises
ModuleNotFoundError.)
"""
from mmengine.registry import FUNCTIONS
from torch import nn

from ..models.layers import ResidualAttentionBlock


@FUNCTIONS.register_module()
def residual_block_wrap_policy(module: nn.Module, recurse: bool,
                               nonwrapped_numel: int) -> bool:
    """One FSDP unit per CLIP transformer block (vision tower and T-Trans):
    each block's parameters are gathered just before it runs and freed
    after, so peak memory holds one block's full weights at a time."""
    # imported here: torch builds without distributed support lack it
    from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
    return transformer_auto_wrap_policy(
        module,
        recurse,
        nonwrapped_numel,
        transformer_layer_cls={ResidualAttentionBlock})
