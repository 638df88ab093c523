"""One model (the original or ours) in its worker process: built from the
shared weights, with its inputs and optimizer, and the passes that are
timed (inference in a setting's precision, one training step) or whose
logits are compared.
"""
import contextlib
import functools
import warnings
from typing import Dict, List, Optional

from .original import build_original, import_original
from .ours import (benchmark_api, build_ours, import_ours, native_bf16,
                   ours_module)
from .settings import TRAIN_SETTINGS


class Worker:
    """One model (the original or ours) with its inputs and optimizer.

    Inputs: ``frames`` ``(batch, T, 3, S, S)`` for inference,
    ``train_frames`` ``(train_batch, T, 3, S, S)`` and ``labels``
    ``(train_batch, )`` for training, and the frozen ``classifier``
    ``(num_classes, embed_dim)``, all random from ``seed``.

    Args:
        spec (dict): ``contender`` ('original' | 'ours'), ``original``
            (checkout path), ``package`` (ours: optional source tree),
            ``arch``, ``head``, ``backbone_temporal``, ``num_frames``,
            ``num_classes``, ``batch``, ``train_batch``, ``threads``,
            ``device``, ``seed``, ``weights`` (original-layout state dict,
            written by the original worker when ``make_weights``),
            ``our_weights`` (ours: our-layout state dict instead, written
            by the worker when ``save_weights`` names it),
            ``classifier_path``, ``fused_adamw``, ``fast_mode``.
    """

    def __init__(self, spec: dict):
        import torch
        warnings.filterwarnings('ignore')
        self.torch = torch
        self.bench = benchmark_api()
        self.spec = spec
        torch.set_num_threads(spec['threads'])
        self.device = torch.device(spec['device'])
        torch.manual_seed(spec['seed'])
        self.original = spec['contender'] == 'original'
        if self.original:
            orig = import_original(spec['original'])
        else:
            import_ours(spec.get('package'))
        self.import_mib = self.memory()['now']
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

    # ---- memory ----------------------------------------------------------
    def memory(self) -> Dict[str, Optional[float]]:
        """This process's ``peak`` and current (``now``) memory, MiB (see
        :func:`t4v_mmaction.apis.memory_mib`)."""
        return self.bench.memory_mib(self.device)

    def reset_peak(self) -> Dict[str, Optional[float]]:
        """Restart the peak count (after returning freed memory); the
        memory then, as :meth:`memory`."""
        self.bench.reset_peak_memory(self.device)
        return self.memory()

    # ---- inference -------------------------------------------------------
    def _ncthw(self, frames):
        """(B, T, 3, H, W) -> mmaction's (B, 3, T, H, W), contiguous as the
        data preprocessor delivers it."""
        return frames.transpose(1, 2).contiguous()

    def _original_logits(self, frames):
        """(B, T, 3, S, S) frames -> (B, num_classes) fp32 logits (100 x
        cosine similarity, as the original's ``test.py``)."""
        torch = self.torch
        B, T = frames.shape[:2]
        emb = self.model.encode_image(frames.reshape(B * T, *frames.shape[2:]))
        emb = emb / emb.norm(dim=-1, keepdim=True)
        clf = self.classifier / self.classifier.norm(dim=-1, keepdim=True)
        return 100. * emb.float() @ clf.t().to(torch.float32)

    def _ours_logits(self, x):
        """(B, 3, T, S, S) clips -> (B, num_classes) logits."""
        return self.model.cls_head(self.model.backbone(x))

    def fast_mode(self) -> str:
        """The precision of ``infer-fast``: ``spec['fast_mode']``, with
        ``auto`` resolved to bf16-weights where bf16 is native, else fp32.
        """
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
        """The pass of an inference ``setting`` on ``frames`` and the
        context it runs in: ``(fn, ctx)``, ``fn()`` returns the logits."""
        torch = self.torch
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16)
        fp32 = contextlib.nullcontext()
        if self.original:
            frames = self.frames
            return lambda: self._original_logits(frames), \
                autocast if setting == 'infer-bf16' else fp32
        x = self._ncthw(self.frames)
        if setting == 'infer-fp32':
            return lambda: self._ours_logits(x), fp32
        if setting == 'infer-bf16':
            return lambda: self._ours_logits(x), autocast
        if setting == 'infer-compiled':
            compiled = torch.compile(self._ours_logits)
            return lambda: compiled(x), fp32
        mode = self.fast_mode()
        self.notes['fast_mode'] = mode
        if mode == 'fp32':
            return lambda: self._ours_logits(x), fp32
        if mode == 'autocast':
            return lambda: self._ours_logits(x), autocast
        # bf16-weights: the recognizer's bf16 inference mode (backbone and
        # temporal head cast once; classifier and cosine logits stay fp32)
        self.cast = True
        if hasattr(self.model, 'set_inference_precision'):
            self.model.set_inference_precision('bf16')
        else:  # a tree from before that API (regression runs)
            self.model.backbone.to(torch.bfloat16)
            self.model.cls_head.temporal.to(torch.bfloat16)
        xb = x.to(torch.bfloat16)
        return lambda: self._ours_logits(xb), autocast

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
        """One inference pass of ``setting`` under ``torch.no_grad``.

        Returns:
            torch.Tensor: ``(batch, num_classes)`` logits.
        """
        torch = self.torch
        fn, ctx = self.runners.get(setting, (None, None))
        if fn is None:
            self._restore_fp32()
            fn, ctx = self._inference_runner(setting)
            self.runners = {setting: (fn, ctx)}  # one dtype setup at a time
        self.model.eval()
        with torch.no_grad(), ctx:
            return fn()

    # ---- training --------------------------------------------------------
    def _make_optimizer(self):
        """AdamW as the original trains (ours: fused where it can be);
        ``(optimizer, fused)``."""
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
        """One step on ``train_frames``: forward, cross-entropy, backward,
        AdamW update; checkpointing on for ``train-cp``.

        Returns:
            float: The loss.
        """
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
        """Time ``n`` passes of ``setting`` one by one (seconds each, CUDA
        synchronised), as ``measure_train_step`` times single steps."""
        step = functools.partial(
            self.train_step if setting in TRAIN_SETTINGS else self.infer,
            setting)
        return self.bench.measure_train_step(
            step, self.device, num_warmup=0, num_iters=1,
            repeats=n)['s_per_step_all']

    def logits(self, setting: str, clips: Optional[str] = None) -> list:
        """Logits of ``setting`` on the benchmark input, or on the clips
        saved at ``clips`` (``(N, T, 3, H, W)``), as nested lists
        (``N x num_classes``)."""
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
