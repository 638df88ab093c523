"""CLIP text-encoder classifier: the Text4Vis "textual" frozen classifier.

Each row is CLIP's text embedding of a prompt such as ``'a video of a person
{class name}.'``: open_clip's ``encode_text`` without normalisation, for any
open_clip text tower (OpenAI CLIP, SigLIP / SigLIP 2, PE-Core, EVA-02,
MobileCLIP, ...). Only the text tower is built; architecture, weights,
activation and tokenizer come from
:func:`~t4v_mmaction.models.utils.resolve_clip_source`, exactly as for the
visual backbone built from the same ``(model, pretrained)``.

A CLIP model's logit scale (and SigLIP's logit bias) are not used: the head
scores ``scale * cos(video, row)`` with its own learnable scale (initial 100,
CLIP's), and a bias added to every class alike does not change a
cross-entropy loss or the ranking.

Speed: a causal text transformer pooled at the EOT token never lets the
positions after the EOT influence the result, so prompts are sorted by
length and each batch runs only up to its longest prompt instead of the full
context (exact, several times faster).
"""
import argparse
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from tqdm import tqdm

from t4v_mmaction.datasets.class_names import ClassNames, resolve_class_names
from t4v_mmaction.registry import CLASSIFIERS
from ..utils.clip_source import CLIPSource, resolve_clip_source
from ..utils.state_dict import load_state_dict_exactly
from .base import BaseClassifier
from .templates import (TemplatesType, add_template_arguments,
                        check_distinct_prompts, ensemble_templates,
                        resolve_templates)

__all__ = [
    'TextClassifier', 'build_text_classifier', 'load_text_tower',
    'encode_prompts', 'tokenize_prompts'
]


def load_text_tower(source: Union[CLIPSource, str] = 'ViT-B-16',
                    pretrained: Optional[str] = None,
                    quick_gelu: Optional[bool] = None,
                    seed: int = 0,
                    device: str = 'cpu') -> Tuple[nn.Module, object]:
    """Build an open_clip text tower (no visual tower) and its tokenizer.

    Args:
        source (CLIPSource | str): A resolved source, or an ``arch`` for
            :func:`~t4v_mmaction.models.utils.resolve_clip_source` (with
            ``pretrained`` and ``quick_gelu``).
        pretrained (str, optional): See ``resolve_clip_source``.
        quick_gelu (bool, optional): See ``resolve_clip_source``.
        seed (int): Seed of the random initialisation (the global RNG state
            is preserved). Defaults to 0.
        device (str): Device of the returned tower. Defaults to ``'cpu'``.

    Returns:
        tuple: ``(tower, tokenizer)``; the tower is an eval-mode open_clip
        ``TextTransformer`` mapping ``(N, L)`` tokens to ``(N, D)``.
    """
    from open_clip.model import _build_text_tower
    if not isinstance(source, CLIPSource):
        source = resolve_clip_source(source, pretrained, quick_gelu)
    text_cfg = source.text_cfg
    if not text_cfg:
        raise ValueError(f'{source.name} has no text tower (a visual-only '
                         'architecture)')
    if text_cfg.get('hf_model_name'):
        raise ValueError(f'{source.name} has a Hugging Face text tower; '
                         "embed class names with kind='lm' instead")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tower = _build_text_tower(source.embed_dim, text_cfg,
                                  source.quick_gelu)
    if source.pretrained is not None:
        load_state_dict_exactly(tower, source.text_state_dict(),
                                source.fetch(),
                                target=f'model {source.name!r} (text tower)')
    return tower.eval().requires_grad_(False).to(device), source.tokenizer()


def tokenize_prompts(tokenizer, names: ClassNames,
                     templates: List[str]) -> torch.Tensor:
    """Tokenize every ``template.format(name)``; ``(P * K, context)``.

    Warns for each prompt that the context truncates, and refuses two
    classes whose prompts have the same tokens (after the tokenizer's
    cleaning and the truncation): the classifier could not tell them apart.
    """
    prompts = [t.format(name) for t in templates for name in names]
    tokens = tokenizer(prompts)  # (N, context_length)
    context = tokens.shape[1]
    encode = getattr(tokenizer, 'encode', None)
    K = len(names)
    # Only prompts that fill the whole context can have been cut.
    for i in torch.nonzero(tokens[:, -1] != 0).flatten().tolist():
        # SimpleTokenizer.encode: the BPE ids, without start and end tokens.
        if encode is None or len(encode(prompts[i])) + 2 > context:
            warnings.warn(
                f'the prompt of class {i % K} ({names[i % K]!r}, template '
                f'{templates[i // K]!r}) is longer than the {context}-token '
                'context and was truncated')
    check_distinct_prompts(
        names, templates, tokens.view(len(templates), K, -1),
        f'cleans case and spacing, and cuts at {context} tokens')
    return tokens


def _trimmable(tower: nn.Module) -> bool:
    return (getattr(tower, 'attn_mask', None) is not None
            and getattr(tower, 'cls_emb', None) is None
            and getattr(tower, 'pool_type', 'argmax') == 'argmax'
            and not getattr(tower, 'use_pad_mask', False))


def _encode_trimmed(tower: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """open_clip ``TextTransformer.forward`` on tokens cut after the EOT."""
    N, L = tokens.shape
    cast_dtype = tower.transformer.get_cast_dtype()
    x = tower.token_embedding(tokens).to(cast_dtype)  # (N, L, W)
    x = x + tower.positional_embedding[:L].to(cast_dtype)
    x = tower.transformer(x, attn_mask=tower.attn_mask[:L, :L])
    x = tower.ln_final(x)
    x = x[torch.arange(N, device=x.device), tokens.argmax(dim=-1)]  # (N, W)
    if isinstance(tower.text_projection, nn.Linear):
        return tower.text_projection(x)
    return x @ tower.text_projection  # (N, D)


def encode_prompts(tower: nn.Module,
                   tokens: torch.Tensor,
                   batch_size: int = 128,
                   progress: bool = False) -> torch.Tensor:
    """Encode tokenized prompts, shortest first, each batch trimmed.

    Args:
        tower (nn.Module): A text tower from :func:`load_text_tower`.
        tokens (torch.Tensor): ``(N, context_length)`` token ids.
        batch_size (int): Prompts per forward pass. Defaults to 128.
        progress (bool): Show a tqdm bar. Defaults to False.

    Returns:
        torch.Tensor: ``(N, D)`` float32 embeddings in input order.
    """
    device = next(tower.parameters()).device
    trim = _trimmable(tower)
    lengths = tokens.argmax(dim=-1) + 1  # the EOT has the largest id
    order = torch.argsort(lengths, stable=True) if trim else torch.arange(
        len(tokens))
    out = None
    starts = range(0, len(tokens), batch_size)
    with torch.inference_mode():
        for start in tqdm(starts, desc='text encoder', disable=not progress):
            index = order[start:start + batch_size]
            batch = tokens[index].to(device)
            if trim:
                batch = batch[:, :int(lengths[index].max())]
                emb = _encode_trimmed(tower, batch)
            else:
                emb = tower(batch)
            if out is None:
                out = torch.empty(len(tokens), emb.shape[1])
            out[index] = emb.float().cpu()
    return out


@CLASSIFIERS.register_module(name='text')
class TextClassifier(BaseClassifier):
    """``dict(type='text', classes=..., model='ViT-B-16', pretrained=...)``.

    Args:
        classes (str | list[str]): The class names, or a label map / CSV.
        model (str | dict): The CLIP architecture: an open_clip model name,
            config file, model folder or config dict. Defaults to
            ``'ViT-B-16'``.
        pretrained (str, optional): ``None`` for random weights (seeded by
            ``seed``), an open_clip tag such as ``'openai'`` (downloads), a
            local weights file (an OpenAI TorchScript ``.pt`` archive, an
            open_clip / OpenAI state dict, ``.safetensors``) or model folder.
            Defaults to None.
        templates (str | list[str], optional): See
            :func:`~.templates.resolve_templates`. Defaults to the original's
            single ``'a video of a person {}.'``.
        ensemble (str): Template fusion, see
            :func:`~.templates.ensemble_templates`. Defaults to
            ``'normalized_mean'``.
        quick_gelu (bool, optional): Force the activation; by default it is
            decided as for the backbone (see ``resolve_clip_source``).
        tokenizer (str, optional): Local folder of the Hugging Face tokenizer
            of models that use one (SigLIP), for offline use.
        seed (int): Seed of the random initialisation. Defaults to 0.
        batch_size (int): Prompts per forward pass. Defaults to 128.
        device (str): Where the text tower runs. Defaults to ``'cpu'``.
        progress (bool): Show a tqdm bar. Defaults to False.
    """
    kind = 'text'
    needs_classes = True

    def __init__(self,
                 classes=None,
                 model: Union[str, dict] = 'ViT-B-16',
                 pretrained: Optional[str] = None,
                 templates: TemplatesType = None,
                 ensemble: str = 'normalized_mean',
                 quick_gelu: Optional[bool] = None,
                 tokenizer: Optional[str] = None,
                 seed: int = 0,
                 batch_size: int = 128,
                 device: str = 'cpu',
                 progress: bool = False,
                 cache: bool = True,
                 cache_dir: Optional[str] = None):
        super().__init__(classes, cache, cache_dir)
        self.source = resolve_clip_source(model, pretrained, quick_gelu,
                                          tokenizer)
        self._templates = resolve_templates(templates)
        self.ensemble = ensemble
        self.seed = seed
        self.batch_size, self.device, self.progress = (batch_size, device,
                                                       progress)

    @property
    def templates(self) -> List[str]:
        return self._templates

    def dim(self) -> int:
        return self.source.embed_dim

    def options(self) -> dict:
        options = dict(model=self.source.name, pretrained=self.source.
                       pretrained, quick_gelu=self.source.quick_gelu,
                       ensemble=self.ensemble)
        if self.source.pretrained is None:
            options['seed'] = self.seed
        return options

    def inputs(self) -> dict:
        return self.source.fingerprint()

    def describe(self) -> str:
        return (f'text classifier of {self.describe_classes()} '
                f'(open_clip {self.source.describe()})')

    def compute(self) -> torch.Tensor:
        tower, tokenizer = load_text_tower(self.source, seed=self.seed,
                                           device=self.device)
        tokens = tokenize_prompts(tokenizer, self.class_names,
                                  self._templates)
        embeddings = encode_prompts(tower, tokens, self.batch_size,
                                    self.progress)
        P, K = len(self._templates), len(self.class_names)
        return ensemble_templates(embeddings.view(P, K, -1),
                                  self.ensemble).cpu()  # (K, D)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            '--model', help="open_clip model (default 'ViT-B-16'), config "
            'JSON or model folder')
        parser.add_argument(
            '--pretrained',
            help="open_clip tag (e.g. 'openai', downloads) or a local "
            'weights file or model folder; random weights if omitted')
        parser.add_argument(
            '--quick-gelu', action=argparse.BooleanOptionalAction,
            help='force QuickGELU on/off (default: from the weights/config)')
        parser.add_argument('--tokenizer',
                            help='local Hugging Face tokenizer folder')
        parser.add_argument('--seed', type=int,
                            help='seed of random weights (0)')
        add_template_arguments(parser)
        parser.add_argument('--device', help="e.g. 'cuda' (default 'cpu')")
        parser.add_argument('--batch-size', type=int)


def build_text_classifier(class_names: Union[str, Sequence[str]],
                          model: Union[str, dict] = 'ViT-B-16',
                          pretrained: Optional[str] = None,
                          **kwargs) -> torch.Tensor:
    """Embed class names with a CLIP text encoder, without the cache.

    Args:
        class_names (str | Sequence[str]): C class names, used verbatim,
            or a label-map / ``id,name`` CSV file holding them.
        model, pretrained, **kwargs: See :class:`TextClassifier`.

    Returns:
        torch.Tensor: ``(C, D)`` float32 on the CPU, ``nn.Linear.weight``
        orientation, rows not normalised for a single template (the mean of
        L2-normalised embeddings for several).
    """
    return TextClassifier(resolve_class_names(class_names), model,
                          pretrained, cache=False, **kwargs).compute()
