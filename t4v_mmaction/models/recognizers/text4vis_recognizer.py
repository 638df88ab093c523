import contextlib
import logging

import torch
from mmengine.logging import print_log
from mmaction.models.recognizers import Recognizer3D
from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType

from ..utils.precision import resolve_precision
from ..utils.state_dict import checkpoint_mismatch, state_shapes


@MODELS.register_module()
class Text4VisRecognizer(Recognizer3D):
    """``Recognizer3D`` that refuses checkpoints of another architecture
    and can run inference in bf16 (:meth:`set_inference_precision`).

    `Revisiting Classifier: Transferring Vision-Language Models for Video
    Recognition <https://arxiv.org/abs/2207.01297>`_

    mmengine's ``load_from``, ``resume``, ``tools/test.py CKPT`` and
    ``load_checkpoint`` load non-strictly: tensors with other names or
    shapes are only mentioned in a warning and the model silently keeps its
    initial weights for them. Here, before anything is copied, the
    checkpoint's keys and shapes are compared with the model's persistent
    state (the frozen classifier and the preprocessor's mean/std are
    non-persistent and never compared) and any difference raises a
    ``ValueError`` that names it, e.g. ``backbone: the checkpoint has width
    1024 x 24 layers, the model 768 x 12`` or ``the checkpoint has
    cls_head.temporal.* (14 tensors) but the model's cls_head.temporal is a
    TemporalAveragePooling without these weights``.

    Input and output are those of ``Recognizer3D``: ``inputs`` of shape
    ``(N, V, C, T, H, W)``; ``predict`` gives ``pred_score`` ``(K, )`` per
    video.

    Args:
        backbone (dict): Backbone config, e.g. ``CLIPViT``.
        cls_head (dict, optional): Head config, e.g.
            ``FrozenClassifierHead``. Defaults to None.
        neck (dict, optional): Neck config. Defaults to None.
        train_cfg (dict, optional): Training options. Defaults to None.
        test_cfg (dict, optional): Testing options (``max_testing_views``).
            Defaults to None.
        data_preprocessor (dict, optional): Preprocessor config. Defaults to
            None (``ActionDataPreprocessor``).
        strict_load (bool): Refuse checkpoints that do not fit. False
            restores mmengine's partial loading with warnings, e.g. to
            initialise from a checkpoint of a related architecture.
            Defaults to True.
    """

    def __init__(self,
                 backbone: ConfigType,
                 cls_head: OptConfigType = None,
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 strict_load: bool = True) -> None:
        super().__init__(
            backbone,
            cls_head=cls_head,
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        self.strict_load = strict_load
        self.inference_precision = 'fp32'
        self._check_normalization()

    def _check_normalization(self) -> None:
        """Warn when the data preprocessor does not normalise as the
        backbone's pretrained weights expect (e.g. SigLIP's 0.5 / 0.5 with
        CLIP's mean and std)."""
        source = getattr(self.backbone, 'source', None)
        expected = source.normalization() if source is not None else None
        pre = self.data_preprocessor
        if expected is None or getattr(pre, 'mean', None) is None:
            return
        ours = (pre.mean.flatten() / 255, pre.std.flatten() / 255)
        if all(torch.allclose(a, torch.tensor(b, dtype=a.dtype), atol=2e-3)
               for a, b in zip(ours, expected)):
            return
        print_log(
            f'the data preprocessor normalises with mean '
            f'{[round(float(x) * 255, 3) for x in ours[0]]} and std '
            f'{[round(float(x) * 255, 3) for x in ours[1]]}, but the '
            f'weights of {source.describe()} were trained with mean '
            f'{[round(x * 255, 3) for x in expected[0]]} and std '
            f'{[round(x * 255, 3) for x in expected[1]]} (pixel units): '
            'set model.data_preprocessor.mean / std', 'current',
            level=logging.WARNING)

    # ---- inference precision ----------------------------------------------
    def set_inference_precision(self, precision: str = 'auto') -> str:
        """Run inference in ``'bf16'`` or ``'fp32'``; ``'auto'`` picks bf16
        where the model's device computes it natively (CUDA, CPUs with
        AVX512-BF16 or AMX), else fp32.

        bf16 casts the backbone and the head's temporal module to bfloat16
        once, and runs ``predict`` and ``forward(mode='tensor')`` under bf16
        autocast; the data preprocessor, the frozen classifier and the
        cosine logits stay fp32. This is for inference only: the fp32 weights
        are gone, so ``train()`` refuses until the model is set back to
        ``'fp32'`` and the weights are reloaded.

        Args:
            precision (str): ``'fp32'``, ``'bf16'`` or ``'auto'``.
                Defaults to ``'auto'``.

        Returns:
            str: The precision now in use, ``'fp32'`` or ``'bf16'``.
        """
        device = next(self.parameters()).device
        precision = resolve_precision(precision, device)
        dtype = torch.bfloat16 if precision == 'bf16' else torch.float32
        self.backbone.to(dtype)
        if self.with_neck:
            self.neck.to(dtype)
        temporal = getattr(self.cls_head, 'temporal', None)
        if temporal is not None:
            temporal.to(dtype)
        self.inference_precision = precision
        return precision

    def _inference_autocast(self):
        if self.inference_precision != 'bf16':
            return contextlib.nullcontext()
        device = next(self.parameters()).device
        return torch.autocast(device.type, dtype=torch.bfloat16)

    def predict(self, inputs, data_samples, **kwargs):
        with self._inference_autocast():
            return super().predict(inputs, data_samples, **kwargs)

    def _forward(self, inputs, stage: str = 'backbone', **kwargs):
        with self._inference_autocast():
            return super()._forward(inputs, stage, **kwargs)

    def train(self, mode: bool = True):
        if mode and getattr(self, 'inference_precision', 'fp32') != 'fp32':
            raise RuntimeError(
                'this model was cast for bf16 inference '
                '(set_inference_precision); to train, call '
                "set_inference_precision('fp32') and reload the weights")
        return super().train(mode)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Compare the whole checkpoint first; see the class docstring.

        torch's and mmengine's loaders call this on the top module first,
        with the full state dict, before recursing into the children.
        """
        if self.strict_load:
            self._check_fit(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def _check_fit(self, state_dict, prefix: str) -> None:
        skip = self._non_persistent_names()
        ckpt = {
            k[len(prefix):]: shape
            for k, shape in state_shapes(state_dict).items()
            if k.startswith(prefix) and k[len(prefix):] not in skip
            and not k.endswith('num_batches_tracked')
        }
        own = {
            k: shape
            for k, shape in state_shapes(self.state_dict()).items()
            if not k.endswith('num_batches_tracked')
        }
        problems = checkpoint_mismatch(ckpt, own, self)
        if problems:
            raise ValueError(
                f'the checkpoint does not fit this {type(self).__name__}:\n'
                + '\n'.join(f'  - {line}' for line in problems) +
                '\nIs it a checkpoint of another config? To load only the '
                'tensors that fit (mmengine then just warns), build the '
                'model with strict_load=False.')

    def _non_persistent_names(self) -> set:
        """Keys of buffers that are never saved (classifier, mean, std)."""
        return {
            f'{path}.{name}' if path else name
            for path, module in self.named_modules()
            for name in module._non_persistent_buffers_set
        }
