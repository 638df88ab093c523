"""mmengine's ``AmpOptimWrapper`` refuses to build without a GPU.

Upstream: mmengine 0.10.7 ``AmpOptimWrapper.__init__`` asserts CUDA, NPU,
MLU or MUSA ("``AmpOptimizerWrapper`` is only available training on gpu"),
so a recipe written for GPUs (every shipped Text4Vis config, and mmaction2's
own with ``--amp``) cannot even start a training run on a CPU. Where none of
those devices exists, the wrapper becomes mmengine's fp32 ``OptimWrapper``,
with one log line; with an accelerator nothing changes.
"""
import functools

__all__ = ['patch_amp_optim_wrapper']

_PATCHED = '_t4v_cpu_fallback'


def _accelerator() -> bool:
    from mmengine.device import (is_cuda_available, is_mlu_available,
                                 is_musa_available, is_npu_available)
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


def patch_amp_optim_wrapper() -> None:
    """Build an fp32 ``OptimWrapper`` instead where AMP has no device."""
    from mmengine.logging import print_log
    from mmengine.optim import AmpOptimWrapper, OptimWrapper

    if getattr(AmpOptimWrapper, _PATCHED, False):
        return
    original = AmpOptimWrapper.__init__

    @functools.wraps(original)
    def __init__(self, loss_scale='dynamic', dtype=None, use_fsdp=False,
                 **kwargs):
        if _accelerator():
            return original(self, loss_scale=loss_scale, dtype=dtype,
                            use_fsdp=use_fsdp, **kwargs)
        print_log(
            'AmpOptimWrapper needs a GPU (CUDA, NPU, MLU or MUSA); none is '
            'available, so training runs in fp32 with OptimWrapper (set '
            "optim_wrapper.type='OptimWrapper' to say so in the config)",
            'current')
        OptimWrapper.__init__(self, **kwargs)
        self.__class__ = OptimWrapper

    AmpOptimWrapper.__init__ = __init__
    setattr(AmpOptimWrapper, _PATCHED, True)
