"""What the tool measures through its workers: interleaved timing of the
live workers, and peak memory, each run in a fresh worker.

The timing is not ``t4v_mmaction.apis.measure_throughput``: the
contenders live in different processes, and their single passes alternate
(A B B A ...), so that a change of machine load hits all of them alike.
"""
from typing import Dict, List

from .process import WorkerProcess


def interleaved_timing(workers: Dict[str, WorkerProcess],
                       runs: List[tuple],
                       repeats: int,
                       warmup: int,
                       progress=None) -> Dict[tuple, List[float]]:
    """Time every ``(contender, setting)`` of ``runs`` ``repeats`` times.

    Settings are visited one after the other; within a setting the
    contenders alternate, and their order flips every repeat (A B B A ...),
    so that slow drifts of the machine load hit all of them alike.

    Args:
        workers (dict): The live worker of each contender.
        runs (list): ``(contender, setting)`` pairs, in visiting order.
        repeats (int): Timed passes per run.
        warmup (int): Untimed passes per run first.
        progress (callable, optional): Called as ``progress(run,
            seconds)`` after each warm-up (``seconds`` None) and each timed
            pass. Defaults to None.

    Returns:
        dict: Per run, the seconds of its passes, in order.
    """
    times = {run: [] for run in runs}
    by_setting: Dict[str, List[tuple]] = {}
    for run in runs:
        by_setting.setdefault(run[1], []).append(run)
    tick = progress or (lambda *a: None)
    for setting, group in by_setting.items():
        for run in group:
            if warmup:
                workers[run[0]].call('run', setting=setting, n=warmup)
            tick(run, None)
        for rep in range(repeats):
            for run in (group if rep % 2 == 0 else group[::-1]):
                seconds = workers[run[0]].call(
                    'run', setting=setting)['times'][0]
                times[run].append(seconds)
                tick(run, seconds)
    return times


def peak_memory(spec_of: Dict[str, dict], runs: List[tuple], log=None,
                progress=None) -> Dict[tuple, dict]:
    """Peak memory of each run, each in a fresh worker: build, one
    warm-up pass (training: it creates AdamW's state), reset the peak, one
    measured pass.

    Args:
        spec_of (dict): Each contender's worker spec.
        runs (list): ``(contender, setting)`` pairs.
        log (str, optional): Where the workers' stderr is appended.
        progress (callable, optional): Called as ``progress(run, None)``
            after each run. Defaults to None.

    Returns:
        dict: per run, ``peak_mib`` (whole process: libraries, model,
        activations, gradients, optimizer state), ``imports_mib`` (before
        the model was built), ``model_mib = peak - imports`` (what the
        model costs, the comparable figure: ours imports mmaction and
        mmengine, the original only torch) and ``idle_mib`` (before the
        measured pass).
    """
    out = {}
    tick = progress or (lambda *a: None)
    for contender, setting in runs:
        worker = WorkerProcess(contender, spec_of[contender], log)
        try:
            worker.call('run', setting=setting, n=1)
            before = worker.call('reset_peak')
            worker.call('run', setting=setting, n=1)
            after = worker.call('memory')
        finally:
            worker.close()
        out[(contender, setting)] = dict(
            peak_mib=after['peak'],
            imports_mib=worker.import_mib,
            model_mib=after['peak'] - worker.import_mib,
            idle_mib=before['now'])
        tick((contender, setting), None)
    return out
