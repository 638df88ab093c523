"""Our Text4Vis model vs the original implementation, side by side.

Both models get identical weights (the original's random initialisation,
converted with :func:`t4v_mmaction.models.utils.convert.convert_text4vis_state_dict`)
and identical inputs. Each one lives in its own worker process (same thread
count); the timed passes are interleaved (A B B A ...) so that a change of
machine load hits both alike, and every figure is a median over repeats.
Peak memory is read in a fresh process per measured setting (CPU: the peak
resident set size, ``VmHWM``, reset after the model is built; CUDA:
``torch.cuda.max_memory_allocated``).

Settings (``--settings``):

* ``infer-fp32``: video embeddings and logits of ``--batch`` videos,
  ``torch.no_grad``, fp32 (the original as its ``test.py`` runs it).
* ``infer-bf16``: the same under ``torch.autocast(dtype=torch.bfloat16)``.
* ``infer-fast``: ours in the recommended fast mode (``--fast-mode``; by
  default bf16 weights + autocast where the device has native bf16, fp32
  otherwise). The original is compared with its fp32 and bf16 settings.
* ``infer-compiled``: ours under ``torch.compile`` (fp32).
* ``train-cp`` / ``train-nocp``: one training step (forward, cross-entropy,
  backward, AdamW step) on ``--train-batch`` videos, with gradient
  checkpointing on / off. The original hard-wires checkpointing twice:
  per block (``Transformer.grad_checkpointing``) and again around attention
  and MLP inside each block; ``train-cp`` is the original as shipped,
  ``train-nocp`` turns only the outer level off (the inner one cannot be
  switched off without editing its code). Ours checkpoints whole blocks.

The original code is imported from ``--original`` at run time (nothing of it
is copied); ``clip/__init__.py`` is skipped (it needs tokenizer packages).

Regression check (``--reference-tree``): instead of the original, the
reference is our own package from another source tree, e.g. a pinned
release checked out with ``git worktree``; both trees get the same weights
and inputs and every setting is compared with itself.

Examples::

    python tools/analysis/compare_original.py --original ~/src/Text4Vis \\
        --threads 2 --repeats 5 --json work_dirs/compare.json
    git worktree add /tmp/t4v-ref v0.1.0
    python tools/analysis/compare_original.py --reference-tree /tmp/t4v-ref
"""
import argparse
import contextlib
import ctypes
import importlib
import json
import os
import os.path as osp
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import types
import warnings
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

ARCHS = {
    'ViT-B-16':
    dict(embed_dim=512, image_size=224, layers=12, width=768, patch_size=16),
    'ViT-B-32':
    dict(embed_dim=512, image_size=224, layers=12, width=768, patch_size=32),
    'ViT-L-14':
    dict(embed_dim=768, image_size=224, layers=24, width=1024, patch_size=14),
    # for tests and a quick look: a few seconds per setting
    'tiny':
    dict(embed_dim=32, image_size=32, layers=2, width=64, patch_size=8),
}
INFER_SETTINGS = ('infer-fp32', 'infer-bf16', 'infer-fast', 'infer-compiled')
TRAIN_SETTINGS = ('train-cp', 'train-nocp')
SETTINGS = INFER_SETTINGS + TRAIN_SETTINGS
OURS_ONLY = ('infer-fast', 'infer-compiled')
FAST_MODES = ('auto', 'bf16-weights', 'autocast', 'fp32')
# which runs are compared, per setting of the numerator (ours)
COMPARISONS = (
    ('infer-fp32', 'infer-fp32', 'inference fp32'),
    ('infer-bf16', 'infer-bf16', 'inference bf16 autocast (both)'),
    ('infer-fast', 'infer-fp32', 'inference: ours fast vs original fp32'),
    ('infer-fast', 'infer-bf16', 'inference: ours fast vs original bf16'),
    ('infer-compiled', 'infer-fp32',
     'inference: ours compiled vs original fp32'),
    ('train-nocp', 'train-cp',
     'train step: ours (no ckpt) vs original as shipped'),
    ('train-nocp', 'train-nocp',
     'train step: no ckpt (original: outer level off)'),
    ('train-cp', 'train-cp', 'train step: checkpointing on (both)'),
)


# --------------------------------------------------------------------------
# Worker side: one process holds one model.
# --------------------------------------------------------------------------
def check_original(root: str) -> str:
    """The absolute path of a Text4Vis checkout, or FileNotFoundError."""
    root = osp.abspath(osp.expanduser(root))
    for sub in ('clip/model.py', 'modules/video_clip.py',
                'modules/temporal_modeling.py'):
        if not osp.isfile(osp.join(root, sub)):
            raise FileNotFoundError(
                f'--original {root}: {sub} not found; expected a checkout of '
                'https://github.com/whwu95/Text4Vis')
    return root


def import_original(root: str) -> types.SimpleNamespace:
    """Import the original ``clip.model`` and ``modules.video_clip`` from a
    Text4Vis checkout, without running ``clip/__init__.py``."""
    root = check_original(root)
    sys.path.insert(0, root)
    package = types.ModuleType('clip')
    package.__path__ = [osp.join(root, 'clip')]
    sys.modules['clip'] = package  # skips clip/__init__ (tokenizer deps)
    return types.SimpleNamespace(
        clip_model=importlib.import_module('clip.model'),
        video_clip=importlib.import_module('modules.video_clip'))


def text_width(arch: dict) -> int:
    """Width of the (unused) text tower that gives the original's T-Trans
    as many heads as ours (``embed_dim // 64``, at least 1)."""
    return 64 * max(arch['embed_dim'] // 64, 1)


def build_original(spec: dict, orig: types.SimpleNamespace):
    """The original ``VideoCLIP`` (visual + video header), random init."""
    arch = spec['arch']
    tm = {None: None, 'tokent1d': 'tokent1d', 'tokenshift': 'tokenshift'}
    width = text_width(arch)
    with contextlib.redirect_stdout(sys.stderr):
        clip = orig.clip_model.CLIP(
            arch['embed_dim'], arch['image_size'], arch['layers'],
            arch['width'], arch['patch_size'], 77, 1, width, width // 64, 1,
            tm=tm[spec['backbone_temporal']], T=spec['num_frames'])
        header = orig.video_clip.video_header(
            'Transf' if spec['head'] == 'transf' else 'None',
            clip.state_dict())
        model = orig.video_clip.VideoCLIP(clip, header, spec['num_frames'])
    return model


def ours_model_cfg(spec: dict, arch: dict, classifier: str) -> dict:
    temporal = spec['backbone_temporal']
    return dict(
        type='Text4VisRecognizer',
        backbone=dict(
            type='CLIPViT',
            arch=dict(arch),
            pretrained=None,
            num_frames=spec['num_frames'],
            temporal=None if temporal is None else dict(
                type={'tokent1d': 'TokenT1D',
                      'tokenshift': 'TokenShift'}[temporal])),
        cls_head=dict(
            type='FrozenClassifierHead',
            num_classes=spec['num_classes'],
            in_channels=arch['embed_dim'],
            classifier=classifier,
            temporal=dict(type='TemporalTransformer' if spec['head'] ==
                          'transf' else 'TemporalAveragePooling')),
        data_preprocessor=dict(
            type='ActionDataPreprocessor', format_shape='NCTHW'))


def import_ours(package: Optional[str] = None) -> None:
    """Import ``t4v_mmaction`` (from the source tree ``package`` if given,
    else the installed one) and set mmaction's default scope."""
    if package:
        sys.path.insert(0, package)
    import t4v_mmaction
    if package and not osp.abspath(t4v_mmaction.__file__).startswith(
            osp.abspath(package)):
        raise RuntimeError(f'imported {t4v_mmaction.__file__}, not the '
                           f'tree at {package}')
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')


def build_ours(spec: dict):
    """Our Recognizer3D (after :func:`import_ours`)."""
    from mmaction.registry import MODELS
    return MODELS.build(
        ours_model_cfg(spec, spec['arch'], spec['classifier_path']))


def ours_module(name: str, before: str):
    """One of our modules, by its path in this tree or, in an older
    reference tree (``--reference-tree``), by its path there."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return importlib.import_module(before)


def native_bf16(device) -> bool:
    """Whether bf16 runs natively on ``device`` (our package's rule)."""
    return ours_module(
        't4v_mmaction.models.utils.precision',
        't4v_mmaction.models.recognizers.inference_precision').native_bf16(
            device)


def memory_mib(device) -> Dict[str, float]:
    """CPU: peak and current resident set (MiB); CUDA: allocator peak."""
    import torch
    if device.type == 'cuda':
        return dict(
            peak=torch.cuda.max_memory_allocated(device) / 2**20,
            now=torch.cuda.memory_allocated(device) / 2**20)
    with open('/proc/self/status') as f:
        status = f.read()
    peak, now = (int(re.search(rf'{k}:\s+(\d+)', status).group(1)) / 1024
                 for k in ('VmHWM', 'VmRSS'))
    return dict(peak=peak, now=now)


def reset_peak_memory(device) -> None:
    """Return freed heap to the OS, then restart the peak count."""
    import gc

    import torch
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # resets VmHWM to the current RSS (Linux >= 4.0)


class Worker:
    """One model (the original or ours) with its inputs and optimizer.

    Args:
        spec (dict): ``contender`` ('original' | 'ours'), ``original``
            (checkout path), ``package`` (ours: optional source tree),
            ``arch``, ``head``, ``backbone_temporal``, ``num_frames``,
            ``num_classes``, ``batch``, ``train_batch``, ``threads``,
            ``device``, ``seed``, ``weights`` (original-layout state dict,
            written by the original worker when ``make_weights``),
            ``our_weights`` (ours: our-layout state dict instead),
            ``classifier_path``, ``fused_adamw``, ``fast_mode``.
    """

    def __init__(self, spec: dict):
        import torch
        warnings.filterwarnings('ignore')
        self.torch = torch
        self.spec = spec
        torch.set_num_threads(spec['threads'])
        self.device = torch.device(spec['device'])
        torch.manual_seed(spec['seed'])
        self.original = spec['contender'] == 'original'
        if self.original:
            orig = import_original(spec['original'])
        else:
            import_ours(spec.get('package'))
        self.import_mib = memory_mib(self.device)['now']
        if self.original:
            model = build_original(spec, orig)
            if spec.get('make_weights'):
                torch.save(model.state_dict(), spec['weights'])
            else:
                model.load_state_dict(self._load(spec['weights']))
        else:
            model = build_ours(spec)
            if spec.get('save_weights'):  # the reference of a regression run
                torch.save(model.state_dict(), spec['save_weights'])
            else:
                model.load_state_dict(self._state_dict(), strict=True)
        self.model = model.to(self.device)
        self._make_inputs()
        self.optimizer = None
        self.runners = {}
        self.notes = {}
        self.cast = False  # ours in bf16 (the fast mode)

    def _load(self, path: str) -> dict:
        return self.torch.load(path, map_location='cpu', weights_only=True)

    def _state_dict(self) -> dict:
        """Ours: the shared weights in our layout."""
        if self.spec.get('our_weights'):
            return self._load(self.spec['our_weights'])
        convert = ours_module('t4v_mmaction.models.utils.convert',
                              't4v_mmaction.models.convert')
        return convert.convert_text4vis_state_dict(
            self._load(self.spec['weights']))

    def _make_inputs(self) -> None:
        torch, spec = self.torch, self.spec
        gen = torch.Generator().manual_seed(spec['seed'])
        T, S = spec['num_frames'], spec['arch']['image_size']
        self.frames = torch.randn(
            spec['batch'], T, 3, S, S, generator=gen).to(self.device)
        self.train_frames = torch.randn(
            spec['train_batch'], T, 3, S, S, generator=gen).to(self.device)
        self.labels = torch.randint(
            spec['num_classes'], (spec['train_batch'], ),
            generator=gen).to(self.device)
        self.classifier = self._load(spec['classifier_path']).to(self.device)
        if not self.original:
            from mmaction.structures import ActionDataSample
            self.samples = [
                ActionDataSample().set_gt_label(label)
                for label in self.labels.cpu()
            ]

    # ---- inference -------------------------------------------------------
    def _ncthw(self, frames):
        """(B, T, 3, H, W) -> mmaction's (B, 3, T, H, W), contiguous as the
        data preprocessor delivers it."""
        return frames.transpose(1, 2).contiguous()

    def _original_logits(self, frames):
        torch = self.torch
        B, T = frames.shape[:2]
        emb = self.model.encode_image(frames.reshape(B * T, *frames.shape[2:]))
        emb = emb / emb.norm(dim=-1, keepdim=True)
        clf = self.classifier / self.classifier.norm(dim=-1, keepdim=True)
        return 100. * emb.float() @ clf.t().to(torch.float32)

    def _ours_logits(self, x):
        return self.model.cls_head(self.model.backbone(x))

    def fast_mode(self) -> str:
        mode = self.spec.get('fast_mode', 'auto')
        if mode == 'auto':
            try:
                native = native_bf16(self.device)
            except ImportError:  # a tree from before the precision API
                raise RuntimeError('this tree cannot tell whether bf16 is '
                                   'native here: pass --fast-mode')
            mode = 'bf16-weights' if native else 'fp32'
        return mode

    def _inference_runner(self, setting: str):
        torch = self.torch
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16)
        fp32 = contextlib.nullcontext()
        if self.original:
            frames = self.frames
            return lambda ctx: self._original_logits(frames), \
                autocast if setting == 'infer-bf16' else fp32
        x = self._ncthw(self.frames)
        if setting == 'infer-fp32':
            return lambda ctx: self._ours_logits(x), fp32
        if setting == 'infer-bf16':
            return lambda ctx: self._ours_logits(x), autocast
        if setting == 'infer-compiled':
            self.compiled = torch.compile(self._ours_logits)
            return lambda ctx: self.compiled(x), fp32
        mode = self.fast_mode()
        self.notes['fast_mode'] = mode
        if mode == 'fp32':
            return lambda ctx: self._ours_logits(x), fp32
        if mode == 'autocast':
            return lambda ctx: self._ours_logits(x), autocast
        # bf16-weights: the recognizer's bf16 inference mode (backbone and
        # temporal head cast once; classifier and cosine logits stay fp32)
        self.cast = True
        if hasattr(self.model, 'set_inference_precision'):
            self.model.set_inference_precision('bf16')
        else:  # a tree from before that API (regression runs)
            self.model.backbone.to(torch.bfloat16)
            self.model.cls_head.temporal.to(torch.bfloat16)
        xb = x.to(torch.bfloat16)
        return lambda ctx: self._ours_logits(xb), autocast

    def _reload_weights(self) -> None:
        """The initial fp32 weights again: after a bf16 cast, and before
        logits are compared (training steps change the weights)."""
        state_dict = self._load(self.spec['weights']) if self.original \
            else self._state_dict()
        if hasattr(self.model, 'set_inference_precision'):
            self.model.set_inference_precision('fp32')
        self.model.float().load_state_dict(state_dict)
        self.cast = False

    def _restore_fp32(self) -> None:
        if self.cast:
            self._reload_weights()

    def infer(self, setting: str):
        torch = self.torch
        fn, ctx = self.runners.get(setting, (None, None))
        if fn is None:
            self._restore_fp32()
            fn, ctx = self._inference_runner(setting)
            self.runners = {setting: (fn, ctx)}  # one dtype setup at a time
        self.model.eval()
        with torch.no_grad(), ctx:
            return fn(ctx)

    # ---- training --------------------------------------------------------
    def _make_optimizer(self):
        torch = self.torch
        params = [p for p in self.model.parameters() if p.requires_grad]
        kwargs = dict(lr=5e-6, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2)
        if not self.original and self.spec.get('fused_adamw', True):
            try:
                return torch.optim.AdamW(params, fused=True, **kwargs), True
            except (RuntimeError, TypeError, ValueError):
                pass
        return torch.optim.AdamW(params, **kwargs), False

    def train_step(self, setting: str) -> float:
        torch = self.torch
        if self.runners:
            self._restore_fp32()
            self.runners = {}
        if self.optimizer is None:
            self.optimizer, self.notes['fused_adamw'] = self._make_optimizer()
        checkpointing = setting == 'train-cp'
        model = self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        if self.original:
            model.visual.transformer.grad_checkpointing = checkpointing
            frames = self.train_frames
            B, T = frames.shape[:2]
            logits = model(
                frames.reshape(B * T, *frames.shape[2:]), self.classifier)
            loss = torch.nn.functional.cross_entropy(logits, self.labels)
        else:
            model.backbone.grad_checkpointing = checkpointing
            x = self._ncthw(self.train_frames).unsqueeze(1)
            losses = model.loss(x, self.samples)
            loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    # ---- commands --------------------------------------------------------
    def run(self, setting: str, n: int = 1) -> List[float]:
        """Time ``n`` passes of ``setting`` (seconds each)."""
        times = []
        for _ in range(n):
            start = time.perf_counter()
            if setting in TRAIN_SETTINGS:
                self.train_step(setting)
            else:
                self.infer(setting)
            if self.device.type == 'cuda':
                self.torch.cuda.synchronize(self.device)
            times.append(time.perf_counter() - start)
        return times

    def logits(self, setting: str, clips: Optional[str] = None) -> list:
        """Logits of ``setting`` on the benchmark input, or on the clips
        saved at ``clips`` (``(N, T, 3, H, W)``), as nested lists."""
        if clips is None:
            return self.infer(setting).float().cpu().tolist()
        frames = self._load(clips)
        out = []
        saved = self.frames
        self._reload_weights()
        try:
            for chunk in frames.split(self.spec['batch']):
                self.frames = chunk.to(self.device)
                self.runners = {}
                out += self.infer(setting).float().cpu().tolist()
        finally:
            self.frames, self.runners = saved, {}
        return out


def worker_main() -> None:
    """Serve JSON-line commands on stdin; replies go to the real stdout,
    everything else (the original's prints, logs) to stderr."""
    proto = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker = None
    for line in iter(sys.stdin.readline, ''):
        cmd = json.loads(line)
        try:
            op = cmd['op']
            if op == 'setup':
                start = time.perf_counter()
                worker = Worker(cmd['spec'])
                reply = dict(
                    setup_s=time.perf_counter() - start,
                    import_mib=worker.import_mib)
            elif op == 'run':
                reply = dict(times=worker.run(cmd['setting'], cmd.get('n', 1)))
            elif op == 'reset_peak':
                reset_peak_memory(worker.device)
                reply = memory_mib(worker.device)
            elif op == 'memory':
                reply = memory_mib(worker.device)
            elif op == 'logits':
                reply = dict(
                    logits=worker.logits(cmd['setting'], cmd.get('clips')))
            elif op == 'notes':
                reply = dict(worker.notes)
            elif op == 'quit':
                break
            else:
                raise ValueError(f'unknown op {op!r}')
        except Exception:  # noqa: BLE001 - reported to the parent
            reply = dict(error=traceback.format_exc())
        proto.write(json.dumps(reply) + '\n')


# --------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------
class WorkerProcess:
    """A worker subprocess, driven by JSON-line commands."""

    def __init__(self, name: str, spec: dict, log: Optional[str] = None):
        self.name = name
        env = dict(os.environ, OMP_NUM_THREADS=str(spec['threads']),
                   MKL_NUM_THREADS=str(spec['threads']))
        self.log = open(log, 'a') if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, osp.abspath(__file__), '--worker'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, text=True, cwd=spec.get('cwd') or REPO, env=env)
        reply = self.call('setup', spec=spec)
        self.setup_s, self.import_mib = reply['setup_s'], reply['import_mib']

    def call(self, op: str, **kwargs) -> dict:
        self.proc.stdin.write(json.dumps(dict(op=op, **kwargs)) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f'{self.name} worker died during {op!r} '
                               '(see --log)')
        reply = json.loads(line)
        if 'error' in reply:
            raise RuntimeError(f'{self.name} worker, {op!r}:\n'
                               f'{reply["error"]}')
        return reply

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.write(json.dumps(dict(op='quit')) + '\n')
            self.proc.stdin.flush()
        self.proc.wait(timeout=60)
        if self.log is not subprocess.DEVNULL:
            self.log.close()


def machine_info(threads: int, device: str) -> dict:
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


def interleaved_timing(workers: Dict[str, WorkerProcess],
                       runs: List[tuple],
                       repeats: int,
                       warmup: int,
                       progress=None) -> Dict[tuple, List[float]]:
    """Time every ``(contender, setting)`` of ``runs`` ``repeats`` times.

    Settings are visited one after the other; within a setting the
    contenders alternate, and their order flips every repeat (A B B A ...),
    so that slow drifts of the machine load hit all of them alike.
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


def summarize(times: Dict[tuple, List[float]],
              batch: Dict[str, int],
              contenders=('ours', 'original'),
              comparisons=COMPARISONS) -> Dict[str, dict]:
    """Medians per run and ratios per comparison (> 1: ours is better)."""
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


def load_clips(videos: List[str], num_frames: int, size: int,
               clips_per_video: int) -> 'torch.Tensor':
    """Real clips for the agreement check: per video, ``clips_per_video``
    segment samplings (offsets spread over each segment) x 3 crops (left,
    centre, right of the short side resized to ``size``), CLIP-normalized.

    Returns:
        torch.Tensor: ``(N, T, 3, size, size)`` float32.
    """
    import decord
    import numpy as np
    import torch
    import torch.nn.functional as F
    mean = torch.tensor([122.771, 116.746, 104.094]).view(1, 3, 1, 1)
    std = torch.tensor([68.501, 66.632, 70.323]).view(1, 3, 1, 1)
    out = []
    for path in videos:
        reader = decord.VideoReader(path)
        n = len(reader)
        for c in range(clips_per_video):
            offset = (c + 0.5) / clips_per_video
            idx = np.minimum(((np.arange(num_frames) + offset) * n /
                              num_frames).astype(int), n - 1)
            frames = torch.from_numpy(reader.get_batch(idx).asnumpy())
            x = frames.permute(0, 3, 1, 2).float()  # (T, 3, H, W)
            h, w = x.shape[-2:]
            scale = size / min(h, w)
            x = F.interpolate(
                x, size=(max(size, round(h * scale)),
                         max(size, round(w * scale))),
                mode='bilinear', align_corners=False)
            h, w = x.shape[-2:]
            for top, left in ((0, 0), ((h - size) // 2, (w - size) // 2),
                              (h - size, w - size)):
                crop = x[:, :, top:top + size, left:left + size]
                out.append((crop - mean) / std)
    return torch.stack(out)


def agreement(workers: Dict[str, WorkerProcess], clips_path: str,
              pairs: List[tuple]) -> Dict[str, dict]:
    """Top-1 / top-5 agreement of a setting with fp32 on real clips."""
    import torch
    cache, out = {}, {}

    def logits(who, setting):
        if (who, setting) not in cache:
            cache[(who, setting)] = torch.tensor(workers[who].call(
                'logits', setting=setting, clips=clips_path)['logits'])
        return cache[(who, setting)]

    for who, setting in pairs:
        ref, got = logits(who, 'infer-fp32'), logits(who, setting)
        top5 = ref.topk(5, dim=-1).indices
        out[f'{who}/{setting}'] = dict(
            clips=len(ref),
            top1_agreement=(ref.argmax(-1) == got.argmax(-1)).float().mean()
            .item(),
            top1_in_top5=(got.argmax(-1, keepdim=True) == top5).any(-1)
            .float().mean().item(),
            max_abs_prob_diff=(ref.softmax(-1) - got.softmax(-1)).abs()
            .max().item(),
            median_top1_margin=(ref.topk(2, dim=-1).values.diff(dim=-1)
                                .abs().median().item()))
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Our Text4Vis model vs the original implementation: '
        'inference videos/s, training step time and peak memory, with '
        'identical weights and inputs')
    parser.add_argument(
        '--original', help='path to a Text4Vis checkout (clip/, modules/)')
    parser.add_argument(
        '--reference-tree',
        help='regression check: compare this tree with our package in '
        'another source tree (e.g. a git worktree of a release) instead of '
        'the original')
    parser.add_argument('--arch', default='ViT-B-16', choices=list(ARCHS))
    parser.add_argument(
        '--head', default='transf', choices=['transf', 'tap'],
        help='video head: T-Trans or temporal average pooling')
    parser.add_argument(
        '--backbone-temporal', default=None,
        choices=['tokent1d', 'tokenshift'],
        help='in-backbone temporal module (default: none)')
    parser.add_argument('--num-frames', type=int, default=8)
    parser.add_argument('--num-classes', type=int, default=400)
    parser.add_argument(
        '--batch', type=int, default=2, help='videos per inference pass')
    parser.add_argument(
        '--train-batch', type=int, default=1, help='videos per train step')
    parser.add_argument(
        '--settings', nargs='+', default=['infer-fp32', 'infer-bf16',
                                          'infer-fast', 'train-cp',
                                          'train-nocp'],
        choices=SETTINGS)
    parser.add_argument(
        '--fast-mode', default='auto', choices=FAST_MODES,
        help='ours in infer-fast: auto = bf16-weights where bf16 is native '
        '(CUDA, AVX512-BF16/AMX CPUs), else fp32')
    parser.add_argument(
        '--no-fused-adamw', action='store_true',
        help='ours: the default (for-loop/foreach) AdamW, as the original')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument(
        '--warmup', type=int, default=1, help='untimed passes per run')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--no-memory', action='store_true', help='skip peak memory')
    parser.add_argument(
        '--videos', nargs='+', default=[],
        help='real videos for the top-1 agreement of the bf16/fast settings '
        'with fp32')
    parser.add_argument('--clips-per-video', type=int, default=2)
    parser.add_argument('--json', help='write all numbers here')
    parser.add_argument('--log', help='append the workers\' stderr here')
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.worker and not (args.original or args.reference_tree):
        parser.error('give --original or --reference-tree')
    if args.original and args.reference_tree:
        parser.error('--original and --reference-tree exclude each other')
    if args.repeats < 1 or args.warmup < 0:
        parser.error('need --repeats >= 1 and --warmup >= 0')
    return args


def base_spec(args, tmp: str) -> dict:
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
    import torch
    gen = torch.Generator().manual_seed(spec['seed'] + 1)
    torch.save(
        torch.randn(spec['num_classes'], spec['arch']['embed_dim'],
                    generator=gen), spec['classifier_path'])


def make_progress(total: int):
    from tqdm import tqdm
    bar = tqdm(total=total, desc='benchmark', disable=None)

    def tick(run, seconds):
        bar.set_postfix_str(f'{run[0]}/{run[1]} load '
                            f'{os.getloadavg()[0]:.1f}')
        bar.update()

    return bar, tick


def run_benchmark(args,
                  spec_of: Dict[str, dict],
                  names: tuple,
                  runs: List[tuple],
                  comparisons=COMPARISONS) -> dict:
    """Timing (interleaved), fp32 logit check, agreement and memory."""
    infer_batch = dict(infer=args.batch, train=args.train_batch)
    load = [os.getloadavg()]
    total = len(runs) * (args.repeats + 1) + (0 if args.no_memory else
                                              len(runs))
    bar, tick = make_progress(total)
    workers = {}
    result = dict(machine=machine_info(args.threads, args.device))
    try:
        for name in names[::-1]:  # the reference writes the shared weights
            workers[name] = WorkerProcess(name, spec_of[name], args.log)
            spec_of[name].pop('make_weights', None)
            spec_of[name].pop('save_weights', None)
        result['setup_s'] = {n: w.setup_s for n, w in workers.items()}
        if any(s == 'infer-fp32' for _, s in runs):
            import torch
            a, b = (torch.tensor(workers[n].call(
                'logits', setting='infer-fp32')['logits']) for n in names)
            result['fp32_logits_max_abs_diff'] = (a - b).abs().max().item()
        times = interleaved_timing(workers, runs, args.repeats, args.warmup,
                                   tick)
        load.append(os.getloadavg())
        result['notes'] = {n: w.call('notes') for n, w in workers.items()}
        if args.videos:
            clips = osp.join(spec_of[names[0]]['tmp'], 'clips.pt')
            import torch
            torch.save(
                load_clips(args.videos, args.num_frames,
                           ARCHS[args.arch]['image_size'],
                           args.clips_per_video), clips)
            pairs = [(w, s) for w, s in runs
                     if s.startswith('infer') and s != 'infer-fp32']
            result['agreement'] = agreement(workers, clips, pairs)
    finally:
        for worker in workers.values():
            worker.close()
    memory = {}
    if not args.no_memory:
        memory = peak_memory(spec_of, runs, args.log, tick)
        load.append(os.getloadavg())
    bar.close()
    result.update(summarize(times, infer_batch, names, comparisons))
    result['memory'] = {f'{w}/{s}': m for (w, s), m in memory.items()}
    result['loadavg'] = load
    result['table'] = markdown(result, memory, names)
    return result


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


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker_main()
    regression = bool(args.reference_tree)
    names = ('current', 'reference') if regression else ('ours', 'original')
    with tempfile.TemporaryDirectory(prefix='t4v_compare_') as tmp:
        spec = base_spec(args, tmp)
        save_classifier(spec)
        make_specs = regression_specs if regression else original_specs
        spec_of = make_specs(args, spec, tmp)
        runs, comparisons = [], COMPARISONS
        for setting in args.settings:
            for who in names[::-1]:
                if regression or who == 'ours' or setting not in OURS_ONLY:
                    runs.append((who, setting))
        if regression:
            comparisons = tuple((s, s, s) for s in args.settings)
        result = run_benchmark(args, spec_of, names, runs, comparisons)
    result['args'] = vars(args)
    print(f'\nmachine: {result["machine"]}\nload average (1/5/15 min) at '
          f'start / after timing / end: {result["loadavg"]}\n')
    print(result['table'])
    if 'agreement' in result:
        print('\nagreement with fp32 on real clips:')
        for key, row in result['agreement'].items():
            print(f'  {key}: {row}')
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
