"""The Text4Vis head: cosine logits against a frozen class matrix."""
import math
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from .base_video_head import BaseVideoHead


@MODELS.register_module()
class FrozenClassifierHead(BaseVideoHead):
    """Classify video embeddings with a frozen matrix of class embeddings.

    ``logits = scale * cos(video_embedding, classifier_rows)``. The matrix
    (text embeddings of the class names, or an LDA / random / orthogonal
    ablation) is a non-trainable, non-persistent buffer loaded at
    construction: it is never in the optimizer or a checkpoint, so the same
    checkpoint is evaluated on any label set by changing ``classifier``
    (zero-shot) without editing it.

    When the classifier width differs from ``in_channels`` (e.g. a 768-d
    language-model classifier with a 512-d ViT-B), a learnable linear
    projection maps video embeddings into the classifier's space.

    Args:
        num_classes (int, optional): Number of classes K; must equal the
            classifier's rows. None takes K from the classifier, so that
            swapping ``classifier`` alone changes the label set.
        in_channels (int): Video embedding width D.
        classifier (str | dict): A classifier file, a ``torch.save``-d
            ``[K, D']`` tensor, or a builder config such as
            ``dict(type='text', classes='k400.txt', model='ViT-B-16',
            pretrained='openai')``; see
            :func:`t4v_mmaction.models.classifiers.load_classifier`.
        logit_scale (float): Initial scale (CLIP's 100). Stored as its log,
            like CLIP's ``logit_scale``. Defaults to 100.
        learnable_scale (bool): Train the scale (the original does).
            Defaults to True.
        test_logit_scale (float, optional): Fixed scale at evaluation (the
            original uses 100); None uses the learned one. Defaults to 100.
        **kwargs: ``temporal``, ``view_fusion`` and :class:`BaseHead`
            arguments (``loss_cls``, ``average_clips``, ...).
    """

    def __init__(self,
                 num_classes: Optional[int],
                 in_channels: int,
                 classifier: Union[str, dict],
                 logit_scale: float = 100.,
                 learnable_scale: bool = True,
                 test_logit_scale: Optional[float] = 100.,
                 **kwargs):
        from ..classifiers import load_classifier
        clf = load_classifier(classifier, num_classes=num_classes)
        kwargs.setdefault('average_clips', 'prob')
        super().__init__(clf.num_classes, in_channels, **kwargs)
        self.classifier_meta = clf.meta
        self.register_buffer(
            'classifier', F.normalize(clf.weight.float(), dim=-1),
            persistent=False)  # (K, D')
        dim = clf.weight.shape[1]
        self.proj = nn.Linear(in_channels, dim) if dim != in_channels \
            else None
        log_scale = torch.tensor(math.log(logit_scale))
        if learnable_scale:
            self.logit_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('logit_scale', log_scale)
        self.test_logit_scale = test_logit_scale

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features -> video embeddings in classifier space."""
        emb = super().embed(x)
        return self.proj(emb) if self.proj is not None else emb

    def classify(self, emb: torch.Tensor) -> torch.Tensor:
        """Video embeddings ``(B, D')`` -> logits ``(B, K)``."""
        if self.training or self.test_logit_scale is None:
            scale = self.logit_scale.exp()
        else:
            scale = self.test_logit_scale
        # cosines at scale 100 in fp32 even under autocast: bf16 would
        # round them to ~3 significant digits
        with torch.autocast(emb.device.type, enabled=False):
            emb = F.normalize(emb.float(), dim=-1)
            return scale * emb @ self.classifier.t()
