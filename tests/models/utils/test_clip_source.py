"""One way in for CLIP weights: the backbone and the text classifier built
from the same file decide the activation once and match open_clip's own
model; TorchScript archives are read without running any of their code."""
import json
import os.path as osp
import pickle
import subprocess
import sys
import zipfile
from typing import Tuple

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from t4v_mmaction.compat import UnsafeCheckpointError
from t4v_mmaction.models.classifiers import build_text_classifier
from t4v_mmaction.models.utils import (UnsafeArchiveError,
                                       read_torchscript_state_dict,
                                       resolve_clip_source)

NAMES = ['abseiling', 'playing guitar', 'drinking beer']
PROMPTS = [f'a video of a person {n}.' for n in NAMES]
TINY_CLIP = dict(
    embed_dim=16,
    vision_cfg=dict(image_size=32, layers=2, width=32, patch_size=8,
                    head_width=16),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2,
                  layers=2))
MARKER = 'ARCHIVE CODE RAN'


class _SetstateModule(nn.Module):
    """A scripted module whose ``__setstate__`` runs code when loaded."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(2))

    @torch.jit.export
    def __getstate__(self) -> Tuple[torch.Tensor, bool]:
        return (self.weight, self.training)

    @torch.jit.export
    def __setstate__(self, state: Tuple[torch.Tensor, bool]) -> None:
        print('ARCHIVE CODE RAN')
        self.weight = state[0]
        self.training = state[1]

    def forward(self, x):
        return x * self.weight


def _clip(quick_gelu: bool, seed: int = 0):
    import open_clip
    torch.manual_seed(seed)
    return open_clip.CLIP(**TINY_CLIP, quick_gelu=quick_gelu).eval()


def _config(tmp_path, **extra) -> str:
    path = tmp_path / 'tiny-clip.json'
    path.write_text(json.dumps(dict(TINY_CLIP, **extra)))
    return str(path)


def _torchscript(model, path) -> str:
    import open_clip
    tokens = open_clip.tokenizer.SimpleTokenizer()(['x'])
    torch.jit.trace_module(model, {'encode_text': tokens}).save(str(path))
    return str(path)


def _frames():
    return torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def _ours(arch, pretrained, **kwargs):
    backbone = MODELS.build(dict(type='CLIPViT', arch=arch,
                                 pretrained=pretrained, num_frames=3,
                                 **kwargs))
    backbone.init_weights()
    backbone.eval()
    with torch.no_grad():
        frames = backbone.encode_frames(_frames())
    text = build_text_classifier(NAMES, model=arch, pretrained=pretrained,
                                 **kwargs)
    return backbone, frames, text


def _theirs(model):
    import open_clip
    tokens = open_clip.tokenizer.SimpleTokenizer()(PROMPTS)
    with torch.no_grad():
        return model.encode_image(_frames()), model.encode_text(tokens)


@pytest.mark.filterwarnings('ignore::torch.jit.TracerWarning')
@pytest.mark.parametrize('case', ['openai-archive', 'gelu-state-dict',
                                  'quickgelu-config', 'model-folder'])
def test_both_towers_decide_the_activation_once(tmp_path, case):
    """The backbone and the text classifier built from one weights file run
    the same activation, and equal open_clip's model of that file."""
    quick_gelu = case != 'gelu-state-dict'
    model = _clip(quick_gelu)
    arch = _config(tmp_path)
    if case == 'openai-archive':
        weights = _torchscript(model, tmp_path / 'openai.pt')
    elif case == 'model-folder':
        folder = tmp_path / 'folder'
        folder.mkdir()
        (folder / 'open_clip_config.json').write_text(json.dumps(dict(
            model_cfg=dict(TINY_CLIP, quick_gelu=True))))
        torch.save(model.state_dict(), folder / 'open_clip_pytorch_model.bin')
        weights = arch = str(folder)
    else:
        weights = str(tmp_path / 'clip.pth')
        torch.save(model.state_dict(), weights)
        if case == 'quickgelu-config':
            arch = _config(tmp_path, quick_gelu=True)
    source = resolve_clip_source(arch, weights)
    assert source.quick_gelu is quick_gelu, source.activation_from
    backbone, frames, text = _ours(arch, weights)
    act = type(backbone.transformer.resblocks[0].mlp.gelu).__name__
    assert act == ('QuickGELU' if quick_gelu else 'GELU')
    image_ref, text_ref = _theirs(model)
    torch.testing.assert_close(frames, image_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(text, text_ref, atol=1e-5, rtol=1e-5)


def test_a_bare_state_dict_follows_the_config_and_the_override(tmp_path):
    model = _clip(quick_gelu=True)
    weights = str(tmp_path / 'openai-weights.pth')
    torch.save(model.state_dict(), weights)
    arch = _config(tmp_path)
    assert not resolve_clip_source(arch, weights).quick_gelu  # open_clip's
    _, frames, text = _ours(arch, weights, quick_gelu=True)
    image_ref, text_ref = _theirs(model)
    torch.testing.assert_close(frames, image_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(text, text_ref, atol=1e-5, rtol=1e-5)


@pytest.mark.filterwarnings('ignore::torch.jit.TracerWarning')
def test_torchscript_reader_equals_jit_load(tmp_path):
    path = _torchscript(_clip(quick_gelu=True), tmp_path / 'clip.pt')
    ours = read_torchscript_state_dict(path)
    theirs = torch.jit.load(path).state_dict()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert torch.equal(ours[key], value), key


def _evil_archive(tmp_path) -> str:
    path = str(tmp_path / 'evil.pt')
    torch.jit.script(_SetstateModule()).save(path)
    return path


def test_archive_code_runs_under_jit_load(tmp_path):
    """The archive is really hostile: torch.jit.load runs its code."""
    path = _evil_archive(tmp_path)
    out = subprocess.run(
        [sys.executable, '-c', f'import torch; torch.jit.load({path!r})'],
        capture_output=True, text=True, timeout=120)
    assert MARKER in out.stdout + out.stderr


def test_no_path_runs_archive_code(tmp_path, capfd, monkeypatch):
    """Backbone and classifier ``pretrained``, the demo and the converter
    refuse the archive without running any of it (torch.jit.load is never
    called)."""
    from _paths import REPO, TOOLS

    def no_jit(*args, **kwargs):
        raise AssertionError('torch.jit.load was called')

    monkeypatch.setattr(torch.jit, 'load', no_jit)
    path = _evil_archive(tmp_path)
    arch = _config(tmp_path)
    with pytest.raises(UnsafeArchiveError, match='custom __setstate__'):
        read_torchscript_state_dict(path)
    backbone = MODELS.build(dict(type='CLIPViT', arch=arch, pretrained=path))
    with pytest.raises(UnsafeCheckpointError, match='evil.pt'):
        backbone.init_weights()
    with pytest.raises(UnsafeCheckpointError, match='evil.pt'):
        build_text_classifier(NAMES, model=arch, pretrained=path)
    from _tiny_inference import write_tiny_config
    config = write_tiny_config(tmp_path, ['a', 'b'])  # tiny text classifier
    commands = [
        [osp.join(TOOLS, 'convert_text4vis_checkpoint.py'), path,
         str(tmp_path / 'out.pth')],
        [osp.join(REPO, 'demo', 'demo.py'), path, config, 'none', '--classes',
         'a', 'b', '--cfg-options',
         f'model.cls_head.classifier.pretrained={path}'],
    ]
    for command in commands:
        result = subprocess.run([sys.executable, *command], cwd=REPO,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode != 0
        assert 'Nothing from the file was executed' in result.stderr
        assert MARKER not in result.stdout + result.stderr
    assert MARKER not in ''.join(capfd.readouterr())


def test_a_pickle_global_in_an_archive_is_refused(tmp_path):
    """A data.pkl that names another global (here ``os.system``) is refused
    before anything is called."""
    model = torch.jit.trace(nn.Linear(2, 2), torch.zeros(1, 2))
    path = str(tmp_path / 'linear.pt')
    model.save(path)
    evil = str(tmp_path / 'evil-global.pt')
    marker = tmp_path / 'pwned'
    payload = pickle.dumps(_System(f'touch {marker}'), protocol=2)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(evil, 'w') as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.endswith('/data.pkl'):
                data = payload
            dst.writestr(item, data)
    with pytest.raises(UnsafeArchiveError, match='system'):
        read_torchscript_state_dict(evil)
    assert not marker.exists()


class _System:

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        import os
        return (os.system, (self.command, ))
