"""The contrastive video-text paradigm (Text4Vis Fig. 2(b), Table 8).

ActionCLIP-style training: a batch's video embeddings are matched against
the text embeddings of the batch's ground-truth class names with a
symmetric contrastive loss, optionally over the batch gathered from every
process. Evaluation scores every class like :class:`FrozenClassifierHead`.
"""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.dist import all_gather, get_dist_info

from ..classifiers import LMTextEncoder
from .frozen_classifier_head import FrozenClassifierHead

TEXT_ENCODERS = ('lm', )


def same_label_targets(labels: torch.Tensor) -> torch.Tensor:
    """Soft contrastive targets: uniform over the pairs of equal labels.

    Row i spreads probability 1 evenly over every j with
    ``labels[j] == labels[i]`` (itself included), so same-class samples are
    positives for each other. With distinct labels it is the identity of
    CLIP's loss. The original ``gen_label`` + ``softmax(10 * gt)`` target
    is this up to a ~e^-10 leak onto the negatives.

    Args:
        labels (torch.Tensor): ``(N,)`` integer labels.

    Returns:
        torch.Tensor: ``(N, N)`` float32, symmetric, rows summing to 1.
    """
    same = (labels[:, None] == labels[None, :]).float()  # (N, N)
    return same / same.sum(dim=1, keepdim=True)


def gather_with_local_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` over all processes; only the local slice has grad.

    As the original ``gather_features``: other ranks' slices are constants,
    so each rank back-propagates the global loss into its own samples only
    (DDP then averages the gradients). A no-op in a single process. Every
    rank must pass the same shape (mmengine's ``DefaultSampler`` pads the
    ranks to equal sizes).

    Args:
        x (torch.Tensor): ``(B, ...)`` local tensor.

    Returns:
        torch.Tensor: ``(world_size * B, ...)``, rank r's slice at
        ``[r * B:(r + 1) * B]``.
    """
    rank, world_size = get_dist_info()
    if world_size == 1:
        return x
    parts = all_gather(x.detach())
    parts[rank] = x
    return torch.cat(parts)


@MODELS.register_module()
class VideoTextContrastiveHead(FrozenClassifierHead):
    """The contrastive video-text paradigm of ActionCLIP, as a head.

    Training: the video embeddings ``v`` of a batch (B videos) and the text
    embeddings ``t`` of their ground-truth class names give the logits
    ``S = scale * cos(v_i, t_j)`` ``(B, B)``; the loss is
    ``(loss_cls(S, Q) + loss_cls(S^T, Q)) / 2`` (video->text and
    text->video), ``Q`` being :func:`same_label_targets` (samples of one
    class are positives for each other: soft targets, not CE on the
    diagonal) and ``loss_cls`` the soft-label cross-entropy, i.e. the
    original ``NCELoss`` (KL divergence) plus a constant. With ``gather``,
    ``v``, ``t`` and the labels are first concatenated over all processes
    (:func:`gather_with_local_grad`), so ``S`` is
    ``(world_size * B, world_size * B)``.

    Text side: **offline** (``text_encoder=None``) takes the rows of the
    frozen ``classifier`` (any spec of :class:`FrozenClassifierHead`);
    gradients reach only the video side. **Online** re-encodes the batch's
    class prompts every step with a trainable language model (``type='lm'``,
    e.g. all-MiniLM-L6-v2), whose weights are trained and checkpointed;
    ``classifier`` then only supplies the class names (and templates), so it
    must carry them (a ``'text'``/``'lm'`` spec or a file with names).

    Evaluation scores the video embeddings against all K class embeddings
    (frozen rows, or all prompts re-encoded without gradient when online)
    exactly as the frozen head does, so multi-view testing and zero-shot
    (swapping ``classifier`` for other class names) work the same. It is
    built on :class:`FrozenClassifierHead` (a :class:`BaseVideoHead`) for
    that: classifier loading, the projection to the text width when it
    differs from D, the learnable logit scale and the fixed test scale.

    `ActionCLIP: A New Paradigm for Video Action Recognition
    <https://arxiv.org/abs/2109.08472>`_; Text4Vis Table 8
    `<https://arxiv.org/abs/2207.01297>`_.

    Args:
        num_classes (int, optional): K; None takes it from ``classifier``.
        in_channels (int): Video embedding width D.
        classifier (str | dict): The class embeddings (offline) or class
            names (online); see :class:`FrozenClassifierHead`.
        text_encoder (dict, optional): None for the offline text side, or
            ``dict(type='lm', model=None, pooling='mean', max_length=64,
            templates=None, ensemble='normalized_mean')`` for an online
            (trained) Hugging Face encoder; ``model=None`` is the offline
            all-MiniLM-L6-v2, ``templates=None`` takes the classifier's.
            Defaults to None.
        gather (bool): All-gather embeddings and labels across processes
            before the loss (a no-op in a single process). Defaults to True.
        emulated_ranks (int): Compute the loss within this many equal
            slices of each batch and average, i.e. what that many processes
            without gathering would do; lets one process emulate the
            no-gather setting of a multi-GPU run. Only with
            ``gather=False``. Defaults to 1.
        **kwargs: ``logit_scale`` (initial, learnable, CLIP's 100),
            ``learnable_scale``, ``test_logit_scale``, ``temporal``,
            ``view_fusion`` and :class:`BaseHead` arguments
            (``loss_cls`` must accept soft labels, as mmaction's
            ``CrossEntropyLoss`` does).

    Shapes: backbone features ``(B, T, D)`` (see :class:`BaseVideoHead`);
    ``forward`` returns logits ``(B, K)`` against all classes.
    """

    def __init__(self,
                 num_classes: Optional[int],
                 in_channels: int,
                 classifier: Union[str, dict],
                 text_encoder: Optional[dict] = None,
                 gather: bool = True,
                 emulated_ranks: int = 1,
                 **kwargs):
        super().__init__(num_classes, in_channels, classifier, **kwargs)
        if self.label_smooth_eps:
            raise ValueError('label_smooth_eps is not supported by the '
                             'contrastive loss')
        if int(emulated_ranks) < 1 or (gather and emulated_ranks != 1):
            raise ValueError(
                'emulated_ranks must be a positive int, and 1 with '
                f'gather=True (got {emulated_ranks}, gather={gather})')
        self.gather = gather
        self.emulated_ranks = int(emulated_ranks)
        self.text_encoder = None
        self._eval_embeddings = None  # (K, D') online, see class_embeddings
        if text_encoder is not None:
            self.text_encoder = self._build_text_encoder(dict(text_encoder))
            dim = self.text_encoder.embed_dim
            self.proj = nn.Linear(in_channels, dim) \
                if dim != in_channels else None

    def _build_text_encoder(self, cfg: dict) -> LMTextEncoder:
        kind = cfg.pop('type', None)
        if kind not in TEXT_ENCODERS:
            raise ValueError(f'text_encoder type must be one of '
                             f'{TEXT_ENCODERS}, got {kind!r}')
        self._encoder_templates = cfg.pop('templates', None)
        names, templates = self._prompt_parts()
        return LMTextEncoder(names, templates, **cfg)

    def _prompt_parts(self) -> tuple:
        """The class names and templates of the online prompts."""
        from ..classifiers import resolve_templates
        names = self.classifier_source.require_class_names()
        if names is None:
            raise ValueError(
                'an online text encoder needs the class names: give a '
                "classifier that carries them (a 'text' / 'lm' spec with "
                'classes, or a classifier file with names in its meta)')
        return names, resolve_templates(self._encoder_templates or
                                        self.classifier_source.templates)

    @property
    def scores_classifier_rows(self) -> bool:
        """Online, the classifier gives only the class names: its rows
        may have any width."""
        return getattr(self, 'text_encoder', None) is None

    def on_classifier_changed(self) -> None:
        """A new label set: re-tokenise the online prompts."""
        encoder = getattr(self, 'text_encoder', None)
        if encoder is not None:
            encoder.set_prompts(*self._prompt_parts())
            self._eval_embeddings = None

    def class_embeddings(self,
                         classes: Optional[torch.Tensor] = None
                         ) -> torch.Tensor:
        """Text embeddings of ``classes`` ``(K',)`` (None: all) ``(K', D')``.

        Offline: rows of the frozen classifier. Online: the prompts encoded
        by the text encoder; with gradients in training mode, otherwise
        without, and all K are encoded once and kept until the head changes
        mode or loads weights.
        """
        if self.text_encoder is None:
            return self.classifier if classes is None \
                else self.classifier[classes]
        if self.training:
            return self.text_encoder(classes)
        if classes is not None:
            with torch.no_grad():
                return self.text_encoder(classes)
        cache = self._eval_embeddings
        device = self.text_encoder.input_ids.device
        if cache is None or cache.device != device:
            with torch.no_grad():
                cache = self._eval_embeddings = self.text_encoder()
        return cache

    def train(self, mode: bool = True):
        self._eval_embeddings = None
        return super().train(mode)

    def _load_from_state_dict(self, *args, **kwargs):
        self._eval_embeddings = None
        super()._load_from_state_dict(*args, **kwargs)

    def classify(self, emb: torch.Tensor) -> torch.Tensor:
        """Video embeddings ``(B, D')`` -> logits ``(B, K)``."""
        text = self.class_embeddings()
        with torch.autocast(emb.device.type, enabled=False):  # as the base
            text = F.normalize(text.float(), dim=-1)
            return self.scale().to(emb.device) * F.normalize(
                emb.float(), dim=-1) @ text.t()

    def contrastive_loss(self, video: torch.Tensor, text: torch.Tensor,
                         labels: torch.Tensor) -> torch.Tensor:
        """The symmetric loss of paired embeddings.

        Args:
            video (torch.Tensor): ``(B, D')`` video embeddings.
            text (torch.Tensor): ``(B, D')`` text embeddings of the labels.
            labels (torch.Tensor): ``(B,)`` class indices.

        Returns:
            torch.Tensor: The scalar loss (mean over ``emulated_ranks``
            slices).
        """
        scale = self.scale()
        losses = []
        for v, t, y in zip(*(x.tensor_split(self.emulated_ranks)
                             for x in (video, text, labels))):
            if not len(y):
                continue
            if self.gather:
                v, t = gather_with_local_grad(v), gather_with_local_grad(t)
                y = torch.cat(all_gather(y))  # (N,), N = world_size * B
            with torch.autocast(v.device.type, enabled=False):  # fp32
                v = F.normalize(v.float(), dim=-1)  # (N, D')
                t = F.normalize(t.float(), dim=-1)  # (N, D')
                logits = scale * v @ t.t()  # (N, N) video x text
            targets = same_label_targets(y)  # symmetric
            losses.append((self.loss_cls(logits, targets) +
                           self.loss_cls(logits.t(), targets)) / 2)
        return torch.stack(losses).mean()

    def loss(self, feats: torch.Tensor, data_samples: SampleList,
             num_segs: Optional[int] = None, **kwargs) -> dict:
        """Contrastive loss of a batch: ``{'loss_cls': scalar}``."""
        labels = torch.cat([s.gt_label.view(-1) for s in data_samples])
        if len(labels) != len(data_samples):
            raise ValueError('the contrastive loss needs one label per '
                             'video (no multi-label or soft labels)')
        video = self.embed(feats, num_segs)  # (B, D')
        labels = labels.to(video.device)
        classes, index = labels.unique(return_inverse=True)
        text = self.class_embeddings(classes)[index]  # (B, D')
        return dict(loss_cls=self.contrastive_loss(video, text, labels))

    def extra_repr(self) -> str:
        online = self.text_encoder is not None
        return (f'text={"online" if online else "offline"}, '
                f'gather={self.gather}, '
                f'emulated_ranks={self.emulated_ranks}')
