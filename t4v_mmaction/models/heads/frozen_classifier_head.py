"""The Text4Vis head: cosine logits against a frozen class matrix."""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.logging import print_log

from ..classifiers import ClassifierFile, make_classifier_source
from ..classifiers.builder import SpecType
from .base_video_head import BaseVideoHead


@MODELS.register_module()
class FrozenClassifierHead(BaseVideoHead):
    """Classify video embeddings with a frozen matrix of class embeddings.

    ``logits = scale * cos(video_embedding, classifier_rows)``. The matrix
    (text embeddings of the class names, or an LDA / random / orthogonal
    ablation) is a non-trainable, non-persistent buffer: it is never in the
    optimizer or a checkpoint, so one checkpoint is evaluated on any label
    set by giving the head another classifier (zero-shot).

    Building the head reads no weights: the classifier spec is resolved
    (its class names, K and D are known) but a classifier that reads
    weights or data (``text``, ``lm``, ``lda``) is built, or read from the
    cache, on first use (:meth:`build_classifier`, called by the first
    access to :attr:`classifier`, or by ``VideoDataHook`` before a run
    starts). Tools and the inference API swap label sets on a built model
    with :meth:`set_classifier`.

    When the classifier width differs from ``in_channels`` (e.g. a 384-d
    language-model classifier with a 512-d ViT-B), a learnable linear
    projection maps video embeddings into the classifier's space.

    Args:
        num_classes (int, optional): K. None (recommended) follows the
            classifier, so that swapping it changes the label set; a pinned
            value must equal the classifier's.
        in_channels (int): Video embedding width D.
        classifier (str | dict): A classifier file, a ``torch.save``-d
            ``[K, D']`` tensor, or a spec such as ``dict(type='text',
            classes='k400.txt', model='ViT-B-16', pretrained='openai')``; see
            :mod:`t4v_mmaction.models.classifiers`.
        logit_scale (float): Initial scale (CLIP's 100). Stored as its log,
            like CLIP's ``logit_scale``. Defaults to 100.
        learnable_scale (bool): Train the scale (the original does).
            Defaults to True.
        max_logit_scale (float, optional): The scale is clamped to at most
            this, as CLIP clamps it (at 100), so that a diverging or edited
            scale cannot overflow the logits. None disables the clamp (the
            original Text4Vis has none). Defaults to 100.
        test_logit_scale (float, optional): Fixed scale at evaluation (the
            original uses 100); None uses the learned one. Defaults to 100.
        **kwargs: ``temporal``, ``view_fusion``, ``num_segments`` and
            :class:`BaseHead` arguments (``loss_cls``, ``average_clips``,
            ...).
    """

    def __init__(self,
                 num_classes: Optional[int],
                 in_channels: int,
                 classifier: SpecType,
                 logit_scale: float = 100.,
                 learnable_scale: bool = True,
                 max_logit_scale: Optional[float] = 100.,
                 test_logit_scale: Optional[float] = 100.,
                 **kwargs):
        source = make_classifier_source(classifier, num_classes, in_channels)
        self._check_num_classes(source, num_classes)
        kwargs.setdefault('average_clips', 'prob')
        super().__init__(
            num_classes if num_classes is not None else source.num_classes,
            in_channels, **kwargs)
        self.classifier_source = source
        self.classifier_meta: Optional[dict] = None  # set when built
        self.register_buffer('classifier', None, persistent=False)  # (K, D')
        dim = source.dim() or in_channels
        self.proj = nn.Linear(in_channels, dim) if dim != in_channels \
            else None
        log_scale = torch.tensor(math.log(logit_scale))
        if learnable_scale:
            self.logit_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('logit_scale', log_scale)
        self.max_log_scale = None if max_logit_scale is None else \
            math.log(max_logit_scale)
        self.test_logit_scale = test_logit_scale
        if not source.lazy:
            self._install(source.load())

    @staticmethod
    def _check_num_classes(source, num_classes: Optional[int]) -> None:
        if num_classes is not None and source.num_classes is not None and \
                source.num_classes != num_classes:
            raise ValueError(
                f'the {source.describe()} has {source.num_classes} classes '
                f'(rows) but num_classes={num_classes}; leave '
                'cls_head.num_classes unset (None) to follow the classifier')

    # ---- the classifier ----------------------------------------------------
    @property
    def embed_dim(self) -> int:
        """D', the width of the classifier rows."""
        return self.proj.out_features if self.proj is not None else \
            self.in_channels

    @property
    def class_names(self) -> Optional[list]:
        """The classifier's class names, in score order, if known."""
        names = self.classifier_source.class_names
        if names is None and self.classifier_meta:
            names = self.classifier_meta.get('class_names')
        return names

    def __getattr__(self, name: str):
        # ``classifier``: the L2-normalised rows (K, D'), built on first use
        buffers = self.__dict__.get('_buffers', {})
        if name == 'classifier' and name in buffers and buffers[name] is None:
            self.build_classifier()
        return super().__getattr__(name)

    def build_classifier(self) -> ClassifierFile:
        """Build (or read from the cache) the classifier now, if not yet.

        Raises:
            ValueError: If its K or D' does not fit the head.
        """
        built = self._buffers['classifier']
        if built is not None:
            return ClassifierFile(built, self.classifier_meta)
        clf = self.classifier_source.load()
        self._install(clf)
        return clf

    def set_classifier(self, classifier: SpecType) -> ClassifierFile:
        """Classify against another matrix from now on (e.g. other class
        names for zero-shot), built now.

        Args:
            classifier: Any spec ``classifier`` takes; a kind that takes K
                and D from the head gets D' (not K: the label set changes).

        Returns:
            ClassifierFile: The new classifier.

        Raises:
            ValueError: If its width is not the head's D' (a trained
                projection maps video embeddings to exactly D').
        """
        source = make_classifier_source(classifier, dim=self.embed_dim)
        dim = source.dim()
        if self.scores_classifier_rows and dim is not None and \
                dim != self.embed_dim:
            raise ValueError(
                f'the {source.describe()} is {dim}-d but this head scores '
                f'{self.embed_dim}-d video embeddings; a classifier of '
                'another width needs another (trained) model')
        clf = source.load()
        self.classifier_source = source
        self.num_classes = None
        self._install(clf)
        return clf

    @property
    def scores_classifier_rows(self) -> bool:
        """Whether video embeddings are scored against the classifier's
        rows (so their width must be D')."""
        return True

    def _install(self, clf: ClassifierFile) -> None:
        if self.scores_classifier_rows and clf.dim != self.embed_dim:
            raise ValueError(
                f'the {self.classifier_source.describe()} is {clf.dim}-d but '
                f'this head scores {self.embed_dim}-d video embeddings')
        if self.num_classes is not None and clf.num_classes != \
                self.num_classes:
            raise ValueError(
                f'the {self.classifier_source.describe()} has '
                f'{clf.num_classes} classes but cls_head.num_classes='
                f'{self.num_classes}')
        self.num_classes = clf.num_classes
        device = self.logit_scale.device
        # a normal tensor even when first used under torch.inference_mode
        with torch.inference_mode(False), torch.no_grad():
            self._buffers['classifier'] = F.normalize(
                clf.weight.detach().float(), dim=-1).to(device)
        self.classifier_meta = clf.meta
        self.on_classifier_changed()
        print_log(
            f'{type(self).__name__}: {clf.num_classes} classes x {clf.dim} '
            f'from the {self.classifier_source.describe()}', 'current')

    def on_classifier_changed(self) -> None:
        """Hook for heads that depend on the class names."""

    # ---- scoring -----------------------------------------------------------
    def embed(self, x: torch.Tensor, num_segs=None) -> torch.Tensor:
        """Backbone features -> video embeddings in classifier space."""
        emb = super().embed(x, num_segs)
        return self.proj(emb) if self.proj is not None else emb

    def scale(self) -> torch.Tensor:
        """The logit scale in use: learned (clamped) when training, the
        fixed test scale otherwise."""
        if not self.training and self.test_logit_scale is not None:
            return torch.tensor(float(self.test_logit_scale))
        log_scale = self.logit_scale
        if self.max_log_scale is not None:
            log_scale = log_scale.clamp(max=self.max_log_scale)
        return log_scale.float().exp()

    def classify(self, emb: torch.Tensor) -> torch.Tensor:
        """Video embeddings ``(B, D')`` -> logits ``(B, K)``."""
        classifier = self.classifier
        # cosines at scale 100 in fp32 even under autocast: bf16 would
        # round them to ~3 significant digits
        with torch.autocast(emb.device.type, enabled=False):
            emb = F.normalize(emb.float(), dim=-1)
            return self.scale().to(emb.device) * emb @ classifier.t()
