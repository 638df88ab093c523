"""FLOPs, parameters, throughput and memory of a recognizer.

Only torch is imported with this module (mmengine's flop analyzer when
:func:`count_flops` runs): ``tools/analysis/compare_original.py`` loads it
by path into the worker of the original implementation, whose memory is
measured with nothing but torch imported.
"""
import contextlib
import ctypes
import gc
import re
import resource
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn

__all__ = [
    'count_flops', 'count_parameters', 'measure_throughput',
    'measure_train_step', 'memory_mib', 'reset_peak_memory',
    'peak_memory_mb'
]


def _sdpa_flop_jit(inputs: list, outputs: list) -> int:
    """``scaled_dot_product_attention``: ``q @ k^T`` and ``attn @ v``, one
    multiply-add each (fvcore's convention: 1 MAC = 1 flop)."""
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    rows = 1
    for size in q[:-1]:
        rows *= size  # (..., Lq)
    return rows * k[-2] * (q[-1] + v[-1])


def count_flops(model: nn.Module, inputs: torch.Tensor) -> int:
    """Forward flops (multiply-adds, as fvcore / mmengine count them).

    mmengine's analyzer skips ``scaled_dot_product_attention``; it is counted
    here as its two matrix products (softmax and scaling are not counted,
    like every element-wise op).

    Args:
        model (nn.Module): The model, called as ``model(inputs)``.
        inputs (torch.Tensor): One input batch.

    Returns:
        int: Total flops of one forward pass on ``inputs``.
    """
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(model, (inputs, ))
    analyzer.set_op_handle(
        **{'aten::scaled_dot_product_attention': _sdpa_flop_jit})
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    with torch.no_grad():
        return int(analyzer.total())


def count_parameters(model: nn.Module) -> int:
    """Number of parameter values (buffers such as a frozen classifier
    excluded)."""
    return sum(p.numel() for p in model.parameters())


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def measure_throughput(model: nn.Module,
                       inputs: torch.Tensor,
                       num_warmup: int = 5,
                       num_iters: int = 20,
                       repeats: int = 5,
                       amp: bool = False,
                       progress=None) -> Dict[str, object]:
    """Videos per second of ``model(inputs)``, repeated.

    Each repeat times ``num_iters`` forward passes after ``num_warmup``
    untimed ones (the warm-up runs once, before the first repeat), under
    ``torch.inference_mode``, synchronising CUDA before reading the clock.

    Args:
        model (nn.Module): The model, on the device of ``inputs``.
        inputs (torch.Tensor): One batch; its first dim counts videos.
        num_warmup (int): Untimed passes first. Defaults to 5.
        num_iters (int): Timed passes per repeat. Defaults to 20.
        repeats (int): Independent timings. Defaults to 5.
        amp (bool): bf16 autocast (CPU and CUDA), entered for each pass.
            Defaults to False.
        progress (callable, optional): Called with no argument after each
            pass (e.g. a tqdm bar's ``update``). Defaults to None.

    Returns:
        dict: ``videos_per_s`` (median over repeats), ``videos_per_s_min``,
        ``videos_per_s_max``, ``videos_per_s_all`` (list),
        ``ms_per_batch`` (median).
    """
    if num_iters < 1 or repeats < 1 or num_warmup < 0:
        raise ValueError('need num_iters >= 1, repeats >= 1, num_warmup >= 0;'
                         f' got {num_iters}, {repeats}, {num_warmup}')
    device = inputs.device

    def forward():
        # autocast entered per pass, as a test loop does per batch: its
        # cache of bf16 weight copies lives only as long as the context, so
        # each pass casts the weights again (bf16 weights have none to cast)
        with torch.autocast(device.type, dtype=torch.bfloat16) if amp \
                else contextlib.nullcontext():
            model(inputs)

    tick = progress or (lambda: None)
    rates: List[float] = []
    with torch.inference_mode():
        for _ in range(num_warmup):
            forward()
            tick()
        _synchronize(device)
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(num_iters):
                forward()
                tick()
            _synchronize(device)
            rates.append(num_iters * len(inputs) /
                         (time.perf_counter() - start))
    median = statistics.median(rates)
    return dict(
        videos_per_s=median,
        videos_per_s_min=min(rates),
        videos_per_s_max=max(rates),
        videos_per_s_all=rates,
        ms_per_batch=1000. * len(inputs) / median)


def memory_mib(device: torch.device) -> Dict[str, Optional[float]]:
    """This process's memory (MiB): ``peak`` since it started or since the
    last :func:`reset_peak_memory`, and ``now``.

    CUDA: what torch has allocated on ``device``
    (``torch.cuda.max_memory_allocated`` / ``memory_allocated``). CPU: the
    resident set size, ``VmHWM`` / ``VmRSS`` of ``/proc/self/status`` on
    Linux; elsewhere the peak is ``getrusage``'s ``ru_maxrss`` and ``now``
    is None.

    Args:
        device (torch.device): Where the model runs.

    Returns:
        dict: ``peak`` and ``now``, in MiB.
    """
    if device.type == 'cuda':
        return dict(
            peak=torch.cuda.max_memory_allocated(device) / 2**20,
            now=torch.cuda.memory_allocated(device) / 2**20)
    try:
        with open('/proc/self/status') as f:
            status = f.read()
    except OSError:  # not Linux
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return dict(
            peak=rss / 2**20 if sys.platform == 'darwin' else rss / 2**10,
            now=None)
    peak, now = (int(re.search(rf'{key}:\s+(\d+)', status).group(1)) / 1024
                 for key in ('VmHWM', 'VmRSS'))
    return dict(peak=peak, now=now)


def reset_peak_memory(device: torch.device) -> None:
    """Return freed memory, then restart the peak of :func:`memory_mib`
    from the current size.

    CUDA: empties torch's cache and resets its peak statistics. CPU (Linux
    >= 4.0 only; OSError elsewhere): returns the freed heap to the OS
    (glibc's ``malloc_trim``, where there is one), then resets ``VmHWM`` to
    the current resident set through ``/proc/self/clear_refs``.

    Args:
        device (torch.device): Where the model runs.
    """
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory so far (MiB): allocated CUDA memory on a GPU, else the
    process's peak resident set size (the ``peak`` of
    :func:`memory_mib`)."""
    return memory_mib(device)['peak']


def measure_train_step(step: Callable[[], object],
                       device: torch.device,
                       num_warmup: int = 2,
                       num_iters: int = 5,
                       repeats: int = 3,
                       progress=None) -> Dict[str, object]:
    """Seconds per training step (forward, backward, optimizer update).

    Args:
        step (callable): Runs one step, e.g. ``lambda:
            model.train_step(data, optim_wrapper)``.
        device (torch.device): Where the model runs (for synchronisation).
        num_warmup (int): Untimed steps first. Defaults to 2.
        num_iters (int): Timed steps per repeat. Defaults to 5.
        repeats (int): Independent timings. Defaults to 3.
        progress (callable, optional): Called after each step.

    Returns:
        dict: ``s_per_step`` (median), ``s_per_step_min``,
        ``s_per_step_max``, ``s_per_step_all``.
    """
    tick = progress or (lambda: None)
    for _ in range(num_warmup):
        step()
        tick()
    _synchronize(device)
    times: List[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(num_iters):
            step()
            tick()
        _synchronize(device)
        times.append((time.perf_counter() - start) / num_iters)
    return dict(
        s_per_step=statistics.median(times),
        s_per_step_min=min(times),
        s_per_step_max=max(times),
        s_per_step_all=times)
