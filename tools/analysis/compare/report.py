"""What the tool reports: the machine, medians and speed-ups per
comparison, and the markdown tables of speed and memory."""
import contextlib
import os
import platform
import re
import statistics
from typing import Dict, List

from .ours import native_bf16
from .settings import COMPARISONS, SETTINGS, TRAIN_SETTINGS


def machine_info(threads: int, device: str) -> dict:
    """The CPU (model name), thread count, device (and GPU), torch and
    Python versions, the CPU capability torch uses and whether bf16 is
    native on ``device``."""
    import torch
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open('/proc/cpuinfo') as f:
            found = re.search(r'model name\s*:\s*(.*)', f.read())
            cpu = found.group(1) if found else cpu
    info = dict(
        cpu=cpu,
        cpu_count=os.cpu_count(),
        threads=threads,
        device=device,
        torch=torch.__version__,
        python=platform.python_version(),
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        native_bf16=native_bf16(torch.device(device)))
    if device.startswith('cuda'):
        info['gpu'] = torch.cuda.get_device_name(torch.device(device))
    return info


def summarize(times: Dict[tuple, List[float]],
              batch: Dict[str, int],
              contenders=('ours', 'original'),
              comparisons=COMPARISONS) -> Dict[str, dict]:
    """Medians per run and ratios per comparison (> 1: ours is better).

    Args:
        times (dict): Per ``(contender, setting)``, seconds per pass.
        batch (dict): Videos per pass, ``infer`` and ``train``.
        contenders (tuple): The numerator's and the reference's names.
        comparisons (tuple): ``(setting, reference setting, title)``.

    Returns:
        dict: ``runs`` (per ``'contender/setting'``: ``median_s``,
        ``all_s``, ``videos_per_s``) and ``comparisons`` (per title:
        ``ours``, ``reference``, ``speedup`` of the medians,
        ``speedup_paired_median``).
    """
    runs = {}
    for (who, setting), ts in times.items():
        median = statistics.median(ts)
        kind = 'train' if setting in TRAIN_SETTINGS else 'infer'
        runs[f'{who}/{setting}'] = dict(
            median_s=median,
            all_s=ts,
            videos_per_s=batch[kind] / median)
    new, old = contenders
    table = {}
    for mine, theirs, title in comparisons:
        a, b = runs.get(f'{new}/{mine}'), runs.get(f'{old}/{theirs}')
        if a and b:
            # paired ratios: the k-th repeat of both ran back to back
            paired = [y / x for x, y in zip(a['all_s'], b['all_s'])]
            table[title] = dict(
                ours=f'{new}/{mine}',
                reference=f'{old}/{theirs}',
                speedup=b['median_s'] / a['median_s'],
                speedup_paired_median=statistics.median(paired))
    return dict(runs=runs, comparisons=table)


def markdown(summary: dict, memory: Dict[tuple, dict], names=('ours',
                                                               'original')):
    """The speed table of :func:`summarize`'s ``summary`` and, if
    ``memory`` (from :func:`compare.measure.peak_memory`), the memory
    table, as markdown."""
    new, old = names
    lines = [
        f'| comparison | {new} | {old} | speed-up ({new} / {old}) | '
        'paired median |', '| --- | --- | --- | --- | --- |'
    ]

    def rate(key):
        run = summary['runs'][key]
        if key.split('/')[1] in TRAIN_SETTINGS:
            return f'{run["median_s"]:.3g} s/step'
        return f'{run["videos_per_s"]:.3g} videos/s'

    for title, row in summary['comparisons'].items():
        lines.append(f'| {title} | {rate(row["ours"])} | '
                     f'{rate(row["reference"])} | {row["speedup"]:.2f}x | '
                     f'{row["speedup_paired_median"]:.2f}x |')
    if memory:
        lines += [
            '', f'| peak memory above imports (whole process) | {new} | '
            f'{old} | ratio ({new} / {old}) |', '| --- | --- | --- | --- |'
        ]
        settings = sorted({s for _, s in memory}, key=SETTINGS.index)
        for setting in settings:
            a, b = memory.get((new, setting)), memory.get((old, setting))
            if a and b:
                lines.append(
                    f'| {setting} | {a["model_mib"]:.0f} '
                    f'({a["peak_mib"]:.0f}) MiB | {b["model_mib"]:.0f} '
                    f'({b["peak_mib"]:.0f}) MiB | '
                    f'{a["model_mib"] / max(b["model_mib"], 1e-9):.2f} '
                    f'({a["peak_mib"] / b["peak_mib"]:.2f}) |')
    return '\n'.join(lines)
