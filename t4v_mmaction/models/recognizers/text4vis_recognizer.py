from mmaction.models.recognizers import Recognizer3D
from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType
from .checkpoint_fit import checkpoint_mismatch, state_shapes


@MODELS.register_module()
class Text4VisRecognizer(Recognizer3D):
    """``Recognizer3D`` that refuses checkpoints of another architecture.

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
