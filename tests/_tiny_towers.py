"""Tiny open_clip models of every CLIP family, for the tower tests.

Each family's open_clip config with its timm trunk shrunk (timm's own model
class and code, 2 blocks of width 32, 32 x 32 input) and a 1-layer text
tower; written as an open_clip model folder (``open_clip_config.json`` and
``open_clip_pytorch_model.bin``) with seeded random weights. SigLIP's text
tower uses a Hugging Face tokenizer that open_clip fetches from the Hub: a
tiny local one (``tokenizer.json``) stands in, as offline users pass theirs.
"""
import copy
import json
import os
import os.path as osp
import sys
import types

import torch

#: family -> (open_clip model, its timm trunk, the trunk's shrunk options)
FAMILIES = {
    'siglip2': ('ViT-B-16-SigLIP2', 'vit_base_patch16_siglip_224',
                dict(patch_size=8, embed_dim=32, depth=2, num_heads=2,
                     img_size=32)),
    'pe-core': ('PE-Core-B-16', 'vit_pe_core_base_patch16_224',
                dict(patch_size=8, embed_dim=32, depth=2, num_heads=2,
                     img_size=32, ref_feat_shape=(4, 4),
                     attn_pool_num_heads=2)),
    'eva02': ('EVA02-B-16', 'eva02_base_patch16_clip_224',
              dict(patch_size=8, embed_dim=32, depth=2, num_heads=2,
                   img_size=32, ref_feat_shape=(4, 4))),
    'mobileclip2': ('MobileCLIP2-S2', 'fastvit_mci2',
                    dict(layers=(1, 1, 1, 1), embed_dims=(8, 16, 32, 64),
                         pos_embs=(None, None, None, None))),
    'convnext': ('convnext_base_w', 'convnext_base',
                 dict(depths=[1, 1, 1, 1], dims=[8, 16, 32, 64])),
}
#: OpenAI's families, which CLIPViT / CLIPResNet compute themselves
OPENAI = {
    'openai-vit': dict(image_size=32, layers=2, width=32, patch_size=8,
                       head_width=16),
    'openai-resnet': dict(image_size=32, layers=(1, 1, 1, 1), width=16,
                          head_width=8),
}
#: families whose towers have a [class] token (TokenT1D can run)
WITH_CLASS_TOKEN = ('pe-core', 'eva02')
EMBED_DIM = 32  # = the trunk width: SigLIP has no projection
WORDS = ['a', 'video', 'of', 'person', 'abseiling', 'playing', 'guitar',
         'drinking', 'beer', 'riding', 'bike', '.']
_MODULE = types.ModuleType('t4v_tiny_timm_models')
sys.modules[_MODULE.__name__] = _MODULE


def _register(name: str, base: str, options: dict) -> None:
    """A timm model ``name``: ``base`` with ``options`` (the same class)."""
    import timm
    from timm.models import register_model
    if timm.models.is_model(name):
        return

    def entry(pretrained=False, **kwargs):
        return timm.create_model(base, pretrained=pretrained,
                                 **dict(options, **kwargs))

    entry.__name__ = name
    entry.__module__ = _MODULE.__name__
    setattr(_MODULE, name, entry)
    register_model(entry)


def tiny_tokenizer(folder: str) -> str:
    """A tiny Hugging Face tokenizer (``tokenizer.json``) in ``folder``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    vocab = {w: i for i, w in enumerate(['<pad>', '</s>', '<unk>'] + WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token='<unk>'))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token='<unk>', pad_token='<pad>',
        eos_token='</s>')
    tokenizer.save_pretrained(folder)
    return folder


def tiny_config(family: str) -> dict:
    """The family's open_clip model config, shrunk."""
    import open_clip
    if family in OPENAI:
        return dict(embed_dim=EMBED_DIM, quick_gelu=True,
                    vision_cfg=dict(OPENAI[family]),
                    text_cfg=dict(context_length=77, vocab_size=49408,
                                  width=32, heads=2, layers=1))
    name, base, options = FAMILIES[family]
    timm_name = f't4v_tiny_{family.replace("-", "_")}'
    _register(timm_name, base, options)
    cfg = copy.deepcopy(open_clip.get_model_config(name))
    cfg['embed_dim'] = EMBED_DIM
    cfg['vision_cfg'].update(timm_model_name=timm_name, image_size=32)
    text = cfg['text_cfg']
    text.update(width=32, heads=2, layers=1)
    if text.get('hf_tokenizer_name'):  # a vocabulary of the tiny tokenizer
        text['vocab_size'] = len(WORDS) + 3
    return cfg


def tiny_config_of(arch: str) -> dict:
    """The tiny config of the family of an open_clip model name."""
    family = next(f for f, (name, _, _) in FAMILIES.items() if name == arch)
    return tiny_config(family)


def tiny_model_folder(root: str, family: str, seed: int = 0):
    """``(folder, open_clip model)``: the tiny model with seeded random
    weights, written as an open_clip model folder."""
    import open_clip
    cfg = tiny_config(family)
    folder = osp.join(str(root), family)
    os.makedirs(folder, exist_ok=True)
    with open(osp.join(folder, 'open_clip_config.json'), 'w') as f:
        json.dump(dict(model_cfg=cfg), f)
    if cfg['text_cfg'].get('hf_tokenizer_name'):
        tiny_tokenizer(folder)
    torch.manual_seed(seed)
    model_cls = open_clip.CustomTextCLIP if cfg.get('custom_text') else \
        open_clip.CLIP
    model = model_cls(**{k: v for k, v in cfg.items()
                         if k not in ('custom_text', )}).eval()
    torch.save(model.state_dict(),
               osp.join(folder, 'open_clip_pytorch_model.bin'))
    return folder, model
