"""CLIP text-encoder classifier: the Text4Vis "textual" frozen classifier.

Each row is CLIP's text embedding of a prompt such as ``'a video of a person
{class name}.'``: token + positional embedding -> causal text transformer ->
``ln_final`` -> the EOT token's state -> ``@ text_projection`` (open_clip's
``encode_text`` without normalisation). Only the text tower is built.

Speed: the text transformer is causal and pooled at the EOT token, so the
positions after the EOT never influence the result. Prompts are sorted by
length and each batch runs only up to its longest prompt instead of the full
77-token context, which is exact and several times faster.
"""
import json
import os.path as osp
import warnings
import zipfile
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from tqdm import tqdm

from t4v_mmaction.datasets.class_names import resolve_class_names
from .templates import TemplatesType, ensemble_templates, resolve_templates

__all__ = ['build_text_classifier', 'load_text_tower', 'encode_prompts']

# Keys of a full CLIP state dict that belong to neither tower.
_NON_TEXT_KEYS = ('logit_scale', 'logit_bias', 'input_resolution',
                  'context_length', 'vocab_size')


def build_text_classifier(class_names: Union[str, Sequence[str]],
                          model: str = 'ViT-B-16',
                          pretrained: Optional[str] = None,
                          templates: TemplatesType = None,
                          ensemble: str = 'normalized_mean',
                          quick_gelu: Optional[bool] = None,
                          seed: int = 0,
                          batch_size: int = 128,
                          device: str = 'cpu',
                          progress: bool = False) -> torch.Tensor:
    """Embed class names with a CLIP text encoder.

    Args:
        class_names (str | Sequence[str]): C class names, used verbatim,
            or a label-map / ``id,name`` CSV file holding them.
        model (str): An open_clip model name (``'ViT-B-16'``; OpenAI's
            ``'ViT-B/16'`` spelling works too) or the path of an open_clip
            model-config JSON. Defaults to ``'ViT-B-16'``.
        pretrained (str, optional): ``None`` for random weights (seeded by
            ``seed``), an open_clip pretrained tag such as ``'openai'``
            (downloads), or a local file: an OpenAI TorchScript ``.pt``
            archive or an open_clip / OpenAI state dict (``.pt``, ``.pth``,
            ``.bin``, ``.safetensors``). Defaults to None.
        templates (str | list[str], optional): See
            :func:`~.templates.resolve_templates`. Defaults to None, the
            original's single ``'a video of a person {}.'``.
        ensemble (str): How several templates are fused; see
            :func:`~.templates.ensemble_templates`. Defaults to
            ``'normalized_mean'``.
        quick_gelu (bool, optional): Use QuickGELU, as all OpenAI CLIP
            models do. ``None`` picks it from the pretrained tag, turns it on
            for OpenAI TorchScript archives and otherwise follows the model
            config. Pass True for OpenAI weights saved as a state dict (or
            use ``'ViT-B-16-quickgelu'``). Defaults to None.
        seed (int): Seed of the random initialisation (only matters when
            ``pretrained`` is None). The global RNG state is preserved.
            Defaults to 0.
        batch_size (int): Prompts per forward pass. Defaults to 128.
        device (str): Where the text tower runs. Defaults to ``'cpu'``.
        progress (bool): Show a tqdm bar. Defaults to False.

    Returns:
        torch.Tensor: ``(C, D)`` float32 on the CPU, ``nn.Linear.weight``
        orientation, rows not normalised for a single template (the mean of
        L2-normalised embeddings for several).
    """
    names = resolve_class_names(class_names)
    templates = resolve_templates(templates)
    tower, tokenizer = load_text_tower(model, pretrained, quick_gelu, seed,
                                       device)
    prompts = [t.format(name) for t in templates for name in names]
    labels = [f'class {i % len(names)} ({names[i % len(names)]!r}, template '
              f'{templates[i // len(names)]!r})' for i in range(len(prompts))]
    tokens = _tokenize(tokenizer, prompts, labels)
    embeddings = encode_prompts(tower, tokens, batch_size, progress)
    embeddings = embeddings.view(len(templates), len(names), -1)  # (P, C, D)
    return ensemble_templates(embeddings, ensemble).cpu()


def _model_config(model: str) -> Tuple[str, dict]:
    import open_clip
    if osp.isfile(model):
        with open(model, encoding='utf-8') as f:
            cfg = json.load(f)
        if 'embed_dim' not in cfg or 'text_cfg' not in cfg:
            raise ValueError(f'{model}: an open_clip model config needs '
                             "'embed_dim' and 'text_cfg'")
        return model, cfg
    name = model.replace('/', '-')
    cfg = open_clip.get_model_config(name)
    if cfg is None:
        raise ValueError(
            f'unknown open_clip model {model!r}; pass a model-config JSON '
            f'file or one of {open_clip.list_models()}')
    return name, cfg


def _is_torchscript(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(n.endswith('/constants.pkl') for n in archive.namelist())


def _read_clip_state_dict(path: str) -> dict:
    """The state dict of a CLIP weights file (TorchScript or plain)."""
    if _is_torchscript(path):
        # OpenAI's archives are TorchScript; torch.load(weights_only=True)
        # refuses them, and torch.jit.load reads them without unpickling
        # arbitrary Python objects.
        with warnings.catch_warnings():  # "torch.jit.load is deprecated"
            warnings.simplefilter('ignore', FutureWarning)
            archive = torch.jit.load(path, map_location='cpu')
        state_dict = archive.state_dict()
    elif path.endswith('.safetensors'):
        from safetensors.torch import load_file
        state_dict = load_file(path)
    else:
        state_dict = torch.load(path, map_location='cpu', weights_only=True)
    if isinstance(state_dict, dict) and isinstance(
            state_dict.get('state_dict'), dict):
        state_dict = state_dict['state_dict']
    if not isinstance(state_dict, dict) or not state_dict:
        raise ValueError(f'{path}: not a CLIP state dict')
    return {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state_dict.items()
    }


def _text_state_dict(state_dict: dict) -> dict:
    """Text-tower keys of a CLIP state dict (OpenAI / open_clip names)."""
    if any(k.startswith('text.') for k in state_dict):  # CustomTextCLIP
        state_dict = {
            k[5:]: v
            for k, v in state_dict.items() if k.startswith('text.')
        }
    # attn_mask: a constant that traced archives also store.
    return {
        k: v
        for k, v in state_dict.items()
        if not k.startswith('visual.') and k not in _NON_TEXT_KEYS
        and not k.endswith('attn_mask')
    }


def _resolve_weights(name: str, pretrained: Optional[str]):
    """(weights file or None, quick_gelu implied by the weights or None)."""
    import open_clip
    if pretrained is None:
        return None, None
    if osp.isfile(pretrained):
        return pretrained, (True if _is_torchscript(pretrained) else None)
    tag_cfg = open_clip.get_pretrained_cfg(name, pretrained)
    if not tag_cfg:
        raise ValueError(
            f'pretrained={pretrained!r} is neither a file nor an open_clip '
            f'tag of {name}; known tags: '
            f'{open_clip.list_pretrained_tags_by_model(name)}')
    try:
        path = open_clip.download_pretrained(tag_cfg)
    except Exception as err:
        raise RuntimeError(
            f'could not fetch the {name!r} {pretrained!r} weights ({err}); '
            'without network access pass the path of a local weights file '
            'as pretrained') from err
    return path, tag_cfg.get('quick_gelu', False)


def load_text_tower(model: str = 'ViT-B-16',
                    pretrained: Optional[str] = None,
                    quick_gelu: Optional[bool] = None,
                    seed: int = 0,
                    device: str = 'cpu') -> Tuple[nn.Module, object]:
    """Build an open_clip text tower (no visual tower) and its tokenizer.

    Args:
        model (str): See :func:`build_text_classifier`.
        pretrained (str, optional): See :func:`build_text_classifier`.
        quick_gelu (bool, optional): See :func:`build_text_classifier`.
        seed (int): Seed of the random initialisation. Defaults to 0.
        device (str): Device of the returned tower. Defaults to ``'cpu'``.

    Returns:
        tuple: ``(tower, tokenizer)``; the tower is an eval-mode open_clip
        ``TextTransformer`` mapping ``(N, L)`` tokens to ``(N, D)``.
    """
    from open_clip.model import _build_text_tower
    name, cfg = _model_config(model)
    text_cfg = dict(cfg['text_cfg'])
    if text_cfg.get('hf_model_name'):
        raise ValueError(f'{model!r} has a Hugging Face text tower; embed '
                         "class names with kind='lm' instead")
    path, weights_quick_gelu = _resolve_weights(name, pretrained)
    if quick_gelu is None:
        quick_gelu = weights_quick_gelu
    if quick_gelu is None:
        quick_gelu = cfg.get('quick_gelu', False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tower = _build_text_tower(cfg['embed_dim'], text_cfg, quick_gelu)
    if path is not None:
        state_dict = _text_state_dict(_read_clip_state_dict(path))
        try:
            tower.load_state_dict(state_dict, strict=True)
        except RuntimeError as err:
            raise ValueError(
                f'{path}: its text weights do not fit model {model!r}; is it '
                f'the right architecture? {str(err)[:600]}') from err
    return tower.eval().requires_grad_(False).to(device), _tokenizer(
        name, text_cfg)


def _tokenizer(name: str, text_cfg: dict):
    import open_clip
    if not osp.isfile(name):
        return open_clip.get_tokenizer(name)
    if text_cfg.get('hf_tokenizer_name'):
        raise ValueError(f'{name}: model-config JSON files with a Hugging '
                         'Face tokenizer are not supported; register the '
                         'config with open_clip.add_model_config instead')
    return open_clip.tokenizer.SimpleTokenizer(
        context_length=text_cfg.get('context_length', 77))


def _tokenize(tokenizer, prompts: List[str], labels: List[str]):
    tokens = tokenizer(prompts)  # (N, context_length)
    context = tokens.shape[1]
    encode = getattr(tokenizer, 'encode', None)
    # Only prompts that fill the whole context can have been cut.
    for i in torch.nonzero(tokens[:, -1] != 0).flatten().tolist():
        # SimpleTokenizer.encode: the BPE ids, without start and end tokens.
        if encode is None or len(encode(prompts[i])) + 2 > context:
            warnings.warn(f'the prompt of {labels[i]} is longer than the '
                          f'{context}-token context and was truncated')
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
