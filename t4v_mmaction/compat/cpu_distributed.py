"""Distributed training through mmengine on machines without CUDA.

Upstream (mmengine 0.10.7): ``_init_dist_pytorch``/``_init_dist_slurm`` call
``torch.cuda.set_device`` unconditionally ("Found no NVIDIA driver"), the
default ``dist_cfg`` backend is NCCL, and ``Runner.wrap_model`` passes
``device_ids=[local_rank]`` to DDP, which CPU modules reject. Without CUDA we
initialise the process group with gloo, skip ``set_device`` and give DDP
``device_ids=None``. With CUDA nothing changes.

Upstream (torch, pytorch/pytorch#190489): a gloo process group still alive
when the interpreter shuts down can abort the process ("terminate called
without an active exception") after the run has finished. mmengine never
destroys the group, so the gloo group we create is destroyed at exit.
"""
import atexit
import functools
import os
import warnings

import torch
import torch.distributed as torch_dist

_PATCHED = '_t4v_cpu_patched'


def _cpu_backend(backend: str) -> str:
    if backend == 'nccl':
        warnings.warn('CUDA is not available: using the gloo backend instead '
                      'of nccl for distributed training.')
        return 'gloo'
    return backend


def _destroy_process_group() -> None:
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def _init_cpu_process_group(backend: str, **kwargs) -> None:
    """``init_process_group`` without CUDA; destroyed again at exit."""
    torch_dist.init_process_group(backend=_cpu_backend(backend), **kwargs)
    atexit.register(_destroy_process_group)


def _init_dist_pytorch_cpu(original, backend, init_backend='torch',
                           **kwargs):
    if torch.cuda.is_available() or init_backend != 'torch':
        return original(backend, init_backend=init_backend, **kwargs)
    _init_cpu_process_group(backend, **kwargs)


def _init_dist_slurm_cpu(original, backend, port=None, init_backend='torch',
                         **kwargs):
    if torch.cuda.is_available() or init_backend != 'torch':
        return original(backend, port=port, init_backend=init_backend,
                        **kwargs)
    import subprocess
    node_list = os.environ['SLURM_NODELIST']
    addr = subprocess.getoutput(
        f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_PORT', str(port or 29500))
    os.environ.setdefault('MASTER_ADDR', addr)
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ['SLURM_LOCALID']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    _init_cpu_process_group(backend, **kwargs)


def _ddp_init_cpu(original, self, module, *args, **kwargs):
    on_cuda = any(p.is_cuda for p in module.parameters())
    if not on_cuda:
        kwargs['device_ids'] = None
        kwargs.pop('output_device', None)
    original(self, module, *args, **kwargs)


def patch_cpu_distributed() -> None:
    """Let ``launcher='pytorch'`` / ``'slurm'`` runs work without CUDA."""
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel

    if getattr(dist_utils, _PATCHED, False):
        return
    dist_utils._init_dist_pytorch = functools.partial(
        _init_dist_pytorch_cpu, dist_utils._init_dist_pytorch)
    dist_utils._init_dist_slurm = functools.partial(
        _init_dist_slurm_cpu, dist_utils._init_dist_slurm)
    original_init = MMDistributedDataParallel.__init__

    @functools.wraps(original_init)
    def __init__(self, module, *args, **kwargs):
        _ddp_init_cpu(original_init, self, module, *args, **kwargs)

    MMDistributedDataParallel.__init__ = __init__
    setattr(dist_utils, _PATCHED, True)
