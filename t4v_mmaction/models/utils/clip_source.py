"""Where a CLIP model comes from: architecture, weights, activation, tokenizer.

Every part of the package that builds a CLIP tower (the ``CLIPViT`` /
``CLIPResNet`` backbones, the ``text`` classifier, the checkpoint converter)
asks :func:`resolve_clip_source` and gets the same answer for the same
``(arch, pretrained)``.

``arch`` is

* an open_clip model name (``'ViT-B-16'``, ``'ViT-B-16-SigLIP2'``,
  ``'PE-Core-B-16'``; OpenAI spellings such as ``'ViT-B/16'`` and
  ``'ViT-L/14@336px'`` work too),
* an open_clip model config: a JSON file, or a model folder holding
  ``open_clip_config.json``, or a dict with ``embed_dim`` / ``vision_cfg`` /
  ``text_cfg``,
* or a dict of OpenAI-style visual dimensions (``embed_dim, image_size,
  layers, width, patch_size`` ...), describing only a visual tower.

``pretrained`` is None (random initialisation), an open_clip tag
(``'openai'``, ``'laion2b_s34b_b88k'``; downloaded on first use), a local
weights file (an OpenAI TorchScript ``.pt`` archive, an open_clip, mmengine
or original Text4Vis state dict, ``.safetensors``), or a model folder.

The activation of open_clip's own transformer towers (QuickGELU or GELU) is
decided once, here, for both towers:

1. ``quick_gelu`` when given explicitly (a config's ``quick_gelu=True``);
2. what the weights record: an OpenAI TorchScript archive is QuickGELU, an
   open_clip tag and a model folder's ``open_clip_config.json`` say;
3. what the architecture says: ``-quickgelu`` names, a config's
   ``quick_gelu`` key; a dict of OpenAI-style visual dimensions is QuickGELU;
4. otherwise GELU, as open_clip builds the model (a bare state-dict file
   does not record it: the choice is logged, and ``quick_gelu`` overrides).
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Optional, Union

import torch

from t4v_mmaction.utils import path_sha256
from .state_dict import strip_prefix
from .torchscript_archive import is_torchscript_archive
from .weights_file import read_state_dict

__all__ = ['CLIPSource', 'resolve_clip_source', 'normalize_arch_name']

ArchType = Union[str, os.PathLike, dict]

FOLDER_CONFIG = 'open_clip_config.json'
FOLDER_WEIGHTS = ('open_clip_model.safetensors', 'open_clip_pytorch_model.bin',
                  'model.safetensors', 'pytorch_model.bin')
#: Keys of a full CLIP state dict that belong to neither tower.
NON_TOWER_KEYS = ('logit_scale', 'logit_bias', 'input_resolution',
                  'context_length', 'vocab_size')
#: Prefixes in front of visual-tower keys: a full CLIP (``visual.``), a
#: recognizer checkpoint of this package (``backbone.``).
VISUAL_PREFIXES = ('visual.', 'backbone.')
_VISION_KEYS = ('layers', 'width', 'head_width', 'mlp_ratio', 'patch_size',
                'image_size', 'timm_model_name')


def normalize_arch_name(name: str) -> str:
    """``'ViT-B/16'`` -> ``'ViT-B-16'``, ``'ViT-L/14@336px'`` ->
    ``'ViT-L-14-336'``."""
    name = name.replace('@', '-').replace('/', '-')
    return name[:-2] if name.endswith('px') else name


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'{path}: not a readable JSON file ({err})') from err


def _folder_config(folder: str) -> Optional[dict]:
    path = osp.join(folder, FOLDER_CONFIG)
    if not osp.isfile(path):
        return None
    cfg = _read_json(path)
    if not isinstance(cfg.get('model_cfg'), dict):
        raise ValueError(f"{path}: no 'model_cfg' in the model folder config")
    return cfg['model_cfg']


def _folder_weights(folder: str) -> str:
    for name in FOLDER_WEIGHTS:
        if osp.isfile(osp.join(folder, name)):
            return osp.join(folder, name)
    found = sorted(n for n in os.listdir(folder)
                   if n.endswith(('.safetensors', '.bin', '.pt', '.pth')))
    if len(found) == 1:
        return osp.join(folder, found[0])
    raise FileNotFoundError(
        f'{folder}: no weights file in the model folder (looked for '
        f'{list(FOLDER_WEIGHTS)}, found {found or "none"})')


def _arch_config(arch: ArchType) -> tuple:
    """``(name, open_clip model config, folder or None)``."""
    if isinstance(arch, dict):
        cfg = dict(arch)
        if 'vision_cfg' in cfg or 'text_cfg' in cfg:
            return 'custom', cfg, None
        # OpenAI-style visual dimensions: a visual tower of an OpenAI CLIP
        unknown = sorted(set(cfg) - set(_VISION_KEYS) -
                         {'embed_dim', 'heads', 'quick_gelu'})
        if 'embed_dim' not in cfg or unknown:
            raise ValueError(
                'an arch dict is an open_clip model config (embed_dim, '
                'vision_cfg, text_cfg) or visual dimensions (embed_dim, '
                f'image_size, layers, width, ...); got keys {sorted(cfg)}')
        quick_gelu = cfg.pop('quick_gelu', True)
        heads = cfg.pop('heads', None)
        if heads:  # open_clip configs give the width of a head instead
            resnet = isinstance(cfg.get('layers'), (list, tuple))
            cfg['head_width'] = cfg['width'] * (32 if resnet else 1) // heads
        return 'custom', dict(embed_dim=cfg.pop('embed_dim'), vision_cfg=cfg,
                              quick_gelu=quick_gelu), None
    arch = os.fspath(arch)
    if osp.isdir(arch):
        cfg = _folder_config(arch)
        if cfg is None:
            raise FileNotFoundError(
                f'{arch}: a model folder needs {FOLDER_CONFIG}')
        return arch, cfg, arch
    if arch.endswith('.json') or osp.isfile(arch):
        cfg = _read_json(arch)
        cfg = cfg.get('model_cfg', cfg)
        if 'embed_dim' not in cfg:
            raise ValueError(f"{arch}: an open_clip model config needs "
                             "'embed_dim' and 'vision_cfg' / 'text_cfg'")
        return arch, cfg, None
    import open_clip
    name = normalize_arch_name(arch)
    cfg = open_clip.get_model_config(name)
    if cfg is None:
        import difflib
        close = difflib.get_close_matches(name, open_clip.list_models(), 8,
                                          0.5)
        raise ValueError(f'unknown CLIP architecture {arch!r}: not an '
                         'open_clip model name, config file or model folder'
                         f'{"; did you mean " + str(close) if close else ""}')
    return name, cfg, None


@dataclass
class CLIPSource:
    """A resolved CLIP model: see :func:`resolve_clip_source`.

    Attributes:
        name (str): The open_clip model name, the config file or folder, or
            ``'custom'`` for a dict.
        config (dict): The open_clip model config (``embed_dim``,
            ``vision_cfg``, ``text_cfg`` ...), ``quick_gelu`` set to the
            decision.
        pretrained (str, optional): As given: None, a tag, a file, a folder.
        quick_gelu (bool): The activation of open_clip's transformer towers.
        activation_from (str): Why (for the log).
        weights_file (str, optional): The local weights file (None for
            random init, or a tag not yet downloaded).
        tag (str, optional): The open_clip pretrained tag.
        tokenizer_path (str, optional): Local folder of a Hugging Face
            tokenizer, for text towers whose config names one.
    """
    name: str
    config: dict
    pretrained: Optional[str]
    quick_gelu: bool
    activation_from: str
    weights_file: Optional[str] = None
    tag: Optional[str] = None
    tokenizer_path: Optional[str] = None
    _state_dict: Optional[Dict[str, torch.Tensor]] = field(
        default=None, repr=False)

    @property
    def embed_dim(self) -> int:
        return self.config['embed_dim']

    @property
    def vision_cfg(self) -> dict:
        return dict(self.config.get('vision_cfg') or {})

    @property
    def text_cfg(self) -> dict:
        return dict(self.config.get('text_cfg') or {})

    @property
    def act_layer(self) -> str:
        """``'quick_gelu'`` or ``'gelu'``."""
        return 'quick_gelu' if self.quick_gelu else 'gelu'

    def normalization(self) -> Optional[tuple]:
        """``(mean, std)`` (RGB, 0..1) the weights were trained with, when a
        tag or a model folder says; None otherwise."""
        cfg = {}
        if self.tag is not None:
            import open_clip
            cfg = open_clip.get_pretrained_cfg(self.name, self.tag) or {}
        elif self.pretrained is not None and osp.isdir(self.pretrained):
            path = osp.join(self.pretrained, FOLDER_CONFIG)
            if osp.isfile(path):
                cfg = _read_json(path).get('preprocess_cfg') or {}
        if cfg.get('mean') is None or cfg.get('std') is None:
            return None
        return tuple(cfg['mean']), tuple(cfg['std'])

    def describe(self) -> str:
        weights = self.pretrained or 'random initialisation'
        return (f'{self.name} ({weights}; {self.act_layer}: '
                f'{self.activation_from})')

    def fetch(self) -> Optional[str]:
        """The local weights file; downloads a tag on first use."""
        if self.weights_file is None and self.tag is not None:
            import open_clip
            tag_cfg = open_clip.get_pretrained_cfg(self.name, self.tag)
            try:
                self.weights_file = open_clip.download_pretrained(tag_cfg)
            except Exception as err:
                raise RuntimeError(
                    f'could not fetch the {self.name!r} {self.tag!r} weights '
                    f'({type(err).__name__}: {err}); without network '
                    'access pass a local weights file or model folder as '
                    'pretrained') from err
        return self.weights_file

    def state_dict(self) -> Dict[str, torch.Tensor]:
        """All tensors of the weights file (read once, never executed)."""
        if self._state_dict is None:
            path = self.fetch()
            if path is None:
                raise ValueError(f'{self.name}: no pretrained weights '
                                 '(random initialisation)')
            self._state_dict = read_state_dict(path)
        return self._state_dict

    def visual_state_dict(self) -> Dict[str, torch.Tensor]:
        """The visual tower's weights, keys as in open_clip's tower
        (``conv1.weight``, ``transformer.resblocks.0...``, ``trunk...``)."""
        state_dict = self.state_dict()
        for prefix in VISUAL_PREFIXES:
            if any(k.startswith(prefix) for k in state_dict):
                state_dict = strip_prefix(state_dict, prefix)
        return dict(state_dict)

    def text_state_dict(self) -> Dict[str, torch.Tensor]:
        """The text tower's weights, keys as in open_clip's
        ``TextTransformer`` (``token_embedding.weight``, ...)."""
        state_dict = self.state_dict()
        if any(k.startswith('text.') for k in state_dict):  # CustomTextCLIP
            state_dict = strip_prefix(state_dict, 'text.')
        # attn_mask: a constant that OpenAI's archives also store
        return {
            k: v
            for k, v in state_dict.items()
            if not k.startswith(VISUAL_PREFIXES) and k not in NON_TOWER_KEYS
            and not k.endswith('attn_mask')
        }

    def fingerprint(self) -> dict:
        """What identifies these weights and this architecture, for content
        hashes (cache keys): the config, the activation, the weights file's
        sha256 (or the tag), the tokenizer folder's sha256."""
        out = dict(config=self.config, quick_gelu=self.quick_gelu)
        if self.weights_file is not None:
            out['weights_sha256'] = path_sha256(self.weights_file)
        elif self.tag is not None:
            out['tag'] = self.tag
        else:
            import open_clip
            out['random_init'] = f'open_clip {open_clip.__version__}'
        if self.tokenizer_path is not None:
            out['tokenizer_sha256'] = path_sha256(self.tokenizer_path)
        return out

    def tokenizer(self):
        """open_clip's tokenizer for the text tower (a Hugging Face one is
        read from :attr:`tokenizer_path` when given, so no hub access is
        needed)."""
        import open_clip
        from open_clip import tokenizer as oc_tokenizer
        text_cfg = self.text_cfg
        context = text_cfg.get('context_length', 77)
        kwargs = dict(text_cfg.get('tokenizer_kwargs') or {})
        hf_name = text_cfg.get('hf_tokenizer_name')
        if hf_name:
            source = self.tokenizer_path or hf_name
            try:
                return oc_tokenizer.HFTokenizer(
                    source, context_length=context,
                    tokenizer_mode=text_cfg.get('tokenizer_mode'), **kwargs)
            except Exception as err:
                raise RuntimeError(
                    f'{self.name}: could not load the Hugging Face tokenizer '
                    f'{source!r} ({type(err).__name__}: {err}); offline, '
                    'pass a local tokenizer folder (tokenizer.json ...) as '
                    'tokenizer=') from err
        if self.name in open_clip.list_models():
            return open_clip.get_tokenizer(self.name)
        return oc_tokenizer.SimpleTokenizer(context_length=context, **kwargs)


def _tag_config(name: str, tag: str) -> dict:
    import open_clip
    tag_cfg = open_clip.get_pretrained_cfg(name, tag)
    if not tag_cfg:
        known = open_clip.list_pretrained_tags_by_model(name)
        raise ValueError(
            f'pretrained={tag!r} is neither a local file or folder nor an '
            f'open_clip tag of {name}' +
            (f'; its tags are {known}' if known else ''))
    return tag_cfg


def resolve_clip_source(arch: ArchType,
                        pretrained: Optional[str] = None,
                        quick_gelu: Optional[bool] = None,
                        tokenizer: Optional[str] = None) -> CLIPSource:
    """Decide architecture, weights, activation and tokenizer once.

    Cheap: reads configs (and peeks into a weights file to recognise a
    TorchScript archive), but downloads and reads weights only when
    :meth:`CLIPSource.state_dict` is called.

    Args:
        arch (str | dict): See the module docstring.
        pretrained (str, optional): None, an open_clip tag, a local weights
            file or model folder. Defaults to None.
        quick_gelu (bool, optional): Force QuickGELU (True) or GELU (False)
            in open_clip's transformer towers; None decides as the module
            docstring says. Defaults to None.
        tokenizer (str, optional): Local folder of the Hugging Face
            tokenizer of text towers that use one (SigLIP); defaults to the
            model folder when it holds ``tokenizer.json``. Defaults to None.

    Returns:
        CLIPSource: The decisions.
    """
    name, config, folder = _arch_config(arch)
    weights_file = tag = None
    recorded, recorded_from = None, None
    if pretrained is not None:
        pretrained = os.fspath(pretrained)
        if osp.isdir(pretrained):
            folder = pretrained
            weights_file = _folder_weights(pretrained)
            folder_cfg = _folder_config(pretrained) or {}
            if 'quick_gelu' in folder_cfg:
                recorded = bool(folder_cfg['quick_gelu'])
                recorded_from = f'{FOLDER_CONFIG} of {pretrained}'
        elif osp.isfile(pretrained):
            weights_file = pretrained
            if is_torchscript_archive(pretrained):
                recorded, recorded_from = True, 'an OpenAI TorchScript archive'
        elif name in ('custom', ) or osp.sep in pretrained or \
                pretrained.endswith(('.pt', '.pth', '.bin', '.safetensors')):
            raise FileNotFoundError(f'pretrained weights not found: '
                                    f'{pretrained}')
        else:
            tag = pretrained
            tag_cfg = _tag_config(name, tag)
            recorded = bool(tag_cfg.get('quick_gelu', False))
            recorded_from = f'the open_clip tag {tag!r}'
    if quick_gelu is not None:
        decided, why = bool(quick_gelu), 'set in the config'
    elif recorded is not None:
        decided, why = recorded, recorded_from
    elif 'quick_gelu' in config:
        decided, why = bool(config['quick_gelu']), 'the architecture config'
    else:
        decided = False
        why = ('open_clip\'s default; the weights file does not record '
               'it, set quick_gelu=True for OpenAI weights'
               if weights_file else "open_clip's default")
    if tokenizer is None and folder is not None and osp.isfile(
            osp.join(folder, 'tokenizer.json')):
        tokenizer = folder
    config = dict(config, quick_gelu=decided)
    return CLIPSource(
        name=name,
        config=config,
        pretrained=pretrained,
        quick_gelu=decided,
        activation_from=why,
        weights_file=weights_file,
        tag=tag,
        tokenizer_path=os.fspath(tokenizer) if tokenizer else None)
