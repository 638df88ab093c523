"""Numerical parity with the original Text4Vis code, and the converter.

Reference data: ``tests/data/parity/text4vis_tiny.pt``. It was produced by
running the ORIGINAL code (``whwu95/Text4Vis`` at commit ``d61b34d``:
``clip/model.py`` ``VisualTransformer``, ``modules/temporal_modeling.py``
``make_tokenT1D`` / ``make_tokenshift``, ``modules/video_clip.py``
``video_header`` / ``VideoCLIP``) on CPU, fp32, eval mode, with torch seed
2023 and a ``torch.Generator`` seeded 2023 for all draws:

* ViT: width 64, 2 layers, 2 heads, patch 8, 32x32 input, 16-d output.
  Original random init, then LayerNorm weights + N(0, 0.1), all biases
  + N(0, 0.02); TokenT1D taps = its shift init + N(0, 0.2).
* T-Trans: ``video_header('Transf')`` with its own init (6 layers, width 16,
  2 heads from a 128-wide text tower, 77 positions), then every parameter
  + N(0, 0.1) so that its blocks change the output.
* Every ``attn.in_proj_weight`` (ViT and T-Trans) x4 afterwards: peaky
  attention, so that a wrong head split changes the output.
* Three cases sharing one backbone: ViT + T-Trans; ViT + TokenT1D + TAP
  (``'None'``); ViT + TokenShift + TAP.
* All weights and the frames were rounded to fp16-representable values
  before the original ran (so they are stored losslessly as fp16).
* Input: 2 videos x 4 frames, N(0, 1). Classifier: ``[10, 16]``, one random
  direction + 0.05 N(0, 1) per row (probabilities far from one-hot).
* Stored: the frames, the classifier, per case the state dict in OUR layout
  (the original checkpoint was saved in ``train.py``'s layout with an AdamW
  state and converted with ``tools/convert_text4vis_checkpoint.py
  --config``), the original's video embeddings (``VideoCLIP.encode_image``)
  and its probabilities ``softmax(100 * cos)`` as in ``test.py``.

The generator script imports the original code, so it is not in this repo.
"""
import argparse
import importlib.util
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from t4v_mmaction.models.utils.convert import (CheckpointConversionError,
                                         convert_text4vis_state_dict,
                                         describe_architecture, dropped_keys,
                                         flatten_text4vis_checkpoint,
                                         format_architecture)

from _paths import REPO
REFERENCE = osp.join(REPO, 'tests', 'data', 'parity', 'text4vis_tiny.pt')
TOOL = osp.join(REPO, 'tools', 'convert_text4vis_checkpoint.py')
ATOL = 1e-5


@pytest.fixture(scope='module')
def ref():
    return torch.load(REFERENCE, map_location='cpu', weights_only=True)


def model_cfg(ref, case, classifier_path, **head_temporal):
    meta, spec = ref['meta'], ref['cases'][case]
    return dict(
        type='Recognizer3D',
        backbone=dict(
            type='CLIPViT',
            arch=meta['arch'],
            num_frames=meta['num_frames'],
            temporal=spec['backbone_temporal']),
        cls_head=dict(
            type='FrozenClassifierHead',
            num_classes=meta['num_classes'],
            in_channels=meta['arch']['embed_dim'],
            classifier=classifier_path,
            temporal={**spec['head_temporal'], **head_temporal}),
        data_preprocessor=dict(
            type='ActionDataPreprocessor', format_shape='NCTHW'))


def build(ref, tmp_path, case, state_dict=None, **head_temporal):
    path = str(tmp_path / 'classifier.pt')
    torch.save(ref['classifier'], path)
    model = MODELS.build(model_cfg(ref, case, path, **head_temporal))
    sd = ref['cases'][case]['state_dict'] if state_dict is None else \
        state_dict
    model.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    return model.eval()


def run(model, frames):
    """frames ``(B, T, 3, H, W)`` -> embeddings ``(B, D)``, probs ``(B, K)``
    through the recognizer's predict path."""
    inputs = frames.float().permute(0, 2, 1, 3, 4).unsqueeze(1)
    with torch.no_grad():
        feats, _ = model.extract_feat(inputs, test_mode=True)
        emb = model.cls_head.embed(feats)
        samples = model(
            inputs, [ActionDataSample() for _ in range(len(frames))],
            mode='predict')
    return emb, torch.stack([s.pred_score for s in samples])


def max_diff(a, b):
    return (a - b).abs().max().item()


@pytest.mark.parametrize('case', ['ttrans', 'tokent1d_tap', 'tokenshift_tap'])
def test_matches_original_text4vis(ref, tmp_path, case):
    model = build(ref, tmp_path, case)
    emb, probs = run(model, ref['frames'])
    expected = ref['cases'][case]
    assert max_diff(emb, expected['embeddings']) < ATOL
    assert max_diff(probs, expected['probs']) < ATOL
    # the reference is not degenerate: spread-out, non-uniform scores
    assert 0.2 < expected['probs'].max() < 0.9


def test_parity_check_detects_wrong_models(ref, tmp_path):
    frames = ref['frames']
    expected = ref['cases']['ttrans']['embeddings']
    # T-Trans with the wrong number of heads (same parameter shapes)
    emb, _ = run(build(ref, tmp_path, 'ttrans', num_heads=1), frames)
    assert max_diff(emb, expected) > 0.1
    # ViT with the wrong number of heads
    path = str(tmp_path / 'classifier.pt')
    cfg = model_cfg(ref, 'ttrans', path)
    cfg['backbone']['arch'] = {**cfg['backbone']['arch'], 'head_width': 64}
    model = MODELS.build(cfg)
    model.load_state_dict({
        k: v.float()
        for k, v in ref['cases']['ttrans']['state_dict'].items()
    })
    emb, _ = run(model.eval(), frames)
    assert max_diff(emb, expected) > 0.1
    # TokenT1D with its taps in the opposite temporal order
    sd = dict(ref['cases']['tokent1d_tap']['state_dict'])
    for key in [k for k in sd if k.endswith('temporal.conv.weight')]:
        sd[key] = sd[key].flip(-1)
    emb, _ = run(build(ref, tmp_path, 'tokent1d_tap', sd), frames)
    assert max_diff(emb, ref['cases']['tokent1d_tap']['embeddings']) > 0.1


def test_token_t1d_at_init_reproduces_original_token_shift(ref, tmp_path):
    """Inside the full backbone, an untrained TokenT1D is TokenShift: with
    its shift init it reproduces the original TokenShift model."""
    frames = ref['frames']
    expected = ref['cases']['tokenshift_tap']
    t1d = build(ref, tmp_path, 'tokent1d_tap')
    t1d.load_state_dict(
        {k: v.float()
         for k, v in expected['state_dict'].items()}, strict=False)
    fresh = MODELS.build(dict(type='TokenT1D', width=64, num_frames=4))
    for block in t1d.backbone.transformer.resblocks:
        block.temporal.load_state_dict(fresh.state_dict())
    emb, probs = run(t1d, frames)
    assert max_diff(emb, expected['embeddings']) < ATOL
    assert max_diff(probs, expected['probs']) < ATOL
    shift_emb, _ = run(build(ref, tmp_path, 'tokenshift_tap'), frames)
    assert max_diff(emb, shift_emb) < 1e-6
    # and both differ from the trained TokenT1D and from no temporal module
    trained = ref['cases']['tokent1d_tap']['embeddings']
    assert max_diff(emb, trained) > 1e-2
    plain = MODELS.build(
        dict(type='CLIPViT', arch=ref['meta']['arch'], num_frames=4))
    plain.load_state_dict({
        k[len('backbone.'):]: v.float()
        for k, v in expected['state_dict'].items()
        if k.startswith('backbone.')
    })
    with torch.no_grad():
        per_frame = plain.eval()(frames.float().permute(0, 2, 1, 3, 4))
    assert max_diff(per_frame.mean(1), expected['embeddings']) > 1e-2


# ----------------------------------------------------------------- converter

def to_original(state_dict, prefix=''):
    """Our keys -> the original's (the inverse of the converter)."""
    out = {}
    for key, value in state_dict.items():
        if key.startswith('backbone.'):
            key = 'visual.' + key[len('backbone.'):].replace(
                '.temporal.', '.control_point.')
        elif key.startswith('cls_head.temporal.'):
            key = 'fusion_model.' + key[len('cls_head.temporal.'):]
        elif key == 'cls_head.logit_scale':
            key = 'logit_scale'
        out[prefix + key] = value.float()
    return out


def test_convert_train_layout_with_module_prefix(ref):
    ours = ref['cases']['tokent1d_tap']['state_dict']
    original = to_original(ours, prefix='module.')
    assert 'module.visual.transformer.resblocks.1.control_point.conv.weight' \
        in original
    converted = convert_text4vis_state_dict(original)
    assert list(converted) == list(ours)
    assert all(torch.equal(converted[k], ours[k].float()) for k in ours)
    ckpt = dict(epoch=3, model_state_dict=original, optimizer_state_dict={})
    assert list(flatten_text4vis_checkpoint(ckpt)) == list(
        to_original(ours))


def test_convert_epoch_saving_layout_drops_the_text_tower(ref):
    ours = ref['cases']['ttrans']['state_dict']
    original = to_original(ours)
    text = {
        'transformer.resblocks.0.attn.in_proj_weight': torch.zeros(6, 2),
        'token_embedding.weight': torch.zeros(5, 2),
        'positional_embedding': torch.zeros(77, 2),
        'ln_final.weight': torch.zeros(2),
        'text_projection': torch.zeros(2, 16),
    }
    model_sd = {k: v for k, v in original.items()
                if not k.startswith('fusion_model.')}
    head_sd = {k[len('fusion_model.'):]: v for k, v in original.items()
               if k.startswith('fusion_model.')}
    ckpt = dict(epoch=1,
                model_state_dict={f'module.{k}': v
                                  for k, v in {**model_sd, **text}.items()},
                fusion_model_state_dict=head_sd)
    flat = flatten_text4vis_checkpoint(ckpt)
    assert sorted(dropped_keys(flat)) == sorted(text)
    converted = convert_text4vis_state_dict(flat)
    assert sorted(converted) == sorted(ours)
    assert torch.equal(
        converted['cls_head.temporal.frame_position_embeddings.weight'],
        ours['cls_head.temporal.frame_position_embeddings.weight'].float())


def test_convert_detects_clip_resnets():
    sd = {
        'visual.conv1.weight': torch.zeros(8, 3, 3, 3),
        'visual.layer1.0.conv1.weight': torch.zeros(16, 16, 1, 1),
        'visual.layer1.0.bn1.num_batches_tracked': torch.tensor(0),
        'visual.attnpool.positional_embedding': torch.zeros(50, 32),
        'visual.attnpool.c_proj.weight': torch.zeros(1024, 32),
        'logit_scale': torch.tensor(4.6),
    }
    converted = convert_text4vis_state_dict(sd)
    assert sorted(converted) == sorted([
        'backbone.net.conv1.weight', 'backbone.net.layer1.0.conv1.weight',
        'backbone.net.layer1.0.bn1.num_batches_tracked',
        'backbone.net.attnpool.positional_embedding',
        'backbone.net.attnpool.c_proj.weight', 'cls_head.logit_scale'
    ])
    desc = describe_architecture(sd)
    assert (desc['backbone'], desc['image_size'], desc['embed_dim']) == \
        ('ResNet', 224, 1024)


def test_convert_rejects_what_it_cannot_reproduce():
    base = {'visual.proj': torch.zeros(4, 2)}
    with pytest.raises(CheckpointConversionError, match='TSM'):
        convert_text4vis_state_dict(
            {**base, 'visual.transformer.resblocks.0.net.ln_1.weight':
             torch.zeros(4)})
    with pytest.raises(CheckpointConversionError, match='no known part'):
        convert_text4vis_state_dict({**base, 'prompt_learner.ctx':
                                     torch.zeros(4)})
    with pytest.raises(CheckpointConversionError, match='no visual'):
        convert_text4vis_state_dict({'logit_scale': torch.tensor(1.)})
    with pytest.raises(CheckpointConversionError, match='already'):
        flatten_text4vis_checkpoint(
            dict(state_dict={'backbone.proj': torch.zeros(1)}))


def _meta_vit(width, layers, patch, image, embed_dim, t1d=False):
    sd = {
        'visual.conv1.weight':
        torch.empty(width, 3, patch, patch, device='meta'),
        'visual.positional_embedding':
        torch.empty((image // patch)**2 + 1, width, device='meta'),
        'visual.proj': torch.empty(width, embed_dim, device='meta'),
    }
    for i in range(layers):
        sd[f'visual.transformer.resblocks.{i}.ln_1.weight'] = torch.empty(
            width, device='meta')
        if t1d:
            sd[f'visual.transformer.resblocks.{i}.control_point.conv.weight'] \
                = torch.empty(width, 1, 3, device='meta')
    return sd


def test_describe_architecture_names_the_clip_towers():
    desc = describe_architecture(_meta_vit(1024, 24, 14, 336, 768, t1d=True))
    assert desc['name'] == 'ViT-L/14-336px'
    assert desc['backbone_temporal'] == 'TokenT1D'
    assert desc['temporal_blocks'] == list(range(24))
    assert format_architecture(desc, 'backbone') == \
        'ViT-L/14-336px (width 1024, 24 layers, patch 14, 336px, 768-d)'
    sd = _meta_vit(768, 12, 32, 224, 512)
    sd['fusion_model.frame_position_embeddings.weight'] = torch.empty(
        77, 512, device='meta')
    desc = describe_architecture(sd)
    assert (desc['name'], desc['head_temporal'], desc['max_frames']) == \
        ('ViT-B/32', 'T-Trans', 77)


# ----------------------------------------------------------------- the CLI

@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('convert_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(path, cfg):
    path.write_text(f"default_scope = 'mmaction'\nmodel = {cfg!r}\n")
    return str(path)


def save_original(ref, case, path):
    """An original train.py checkpoint, with a real AdamW state."""
    sd = to_original(ref['cases'][case]['state_dict'], prefix='module.')
    params = [torch.nn.Parameter(v.clone()) for v in sd.values()]
    opt = torch.optim.AdamW(params, lr=5e-6, weight_decay=0.2)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    torch.save(dict(epoch=7, model_state_dict=sd,
                    optimizer_state_dict=opt.state_dict()), str(path))
    return str(path)


def test_cli_converts_and_verifies(ref, tmp_path, tool, capsys):
    src = save_original(ref, 'ttrans', tmp_path / 'orig.pt')
    cfg = write_config(tmp_path / 'cfg.py',
                       model_cfg(ref, 'ttrans', 'no/such/classifier.pt'))
    dst = tmp_path / 'out' / 'converted.pth'
    tool.main([src, str(dst), '--config', cfg])
    assert 'verified' in capsys.readouterr().out
    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    expected = ref['cases']['ttrans']['state_dict']
    assert list(ckpt['state_dict']) == list(expected)
    assert all(
        torch.equal(ckpt['state_dict'][k], v.float())
        for k, v in expected.items())
    meta = ckpt['meta']
    assert meta['text4vis_epoch'] == 7
    assert meta['source_layout'] == 'train.py (model_state_dict)'
    assert 'T-Trans (6 layers, width 16, 77 positions)' in \
        meta['architecture']


@pytest.mark.parametrize('change, message', [
    (dict(arch=dict(width=32, head_width=32)),
     'checkpoint is custom ViT (width 64, 2 layers, patch 8, 32px, 16-d), '
     'config builds custom ViT (width 32, 2 layers'),
    (dict(arch=dict(layers=1)), '2 layers'),
    (dict(temporal=None), 'checkpoint has TokenT1D in 2 blocks, config '
     'builds no in-backbone temporal module'),
    (dict(head=dict(type='TemporalTransformer', num_heads=2)),
     'checkpoint has TAP (no head parameters), config builds T-Trans'),
])
def test_cli_names_the_mismatch(ref, tmp_path, tool, change, message):
    src = save_original(ref, 'tokent1d_tap', tmp_path / 'orig.pt')
    cfg = model_cfg(ref, 'tokent1d_tap', 'no/such/classifier.pt')
    cfg['backbone']['arch'] = {**cfg['backbone']['arch'],
                               **change.get('arch', {})}
    if 'temporal' in change:
        cfg['backbone']['temporal'] = change['temporal']
    if 'head' in change:
        cfg['cls_head']['temporal'] = change['head']
    dst = tmp_path / 'converted.pth'
    with pytest.raises(SystemExit) as err:
        tool.main([src, str(dst), '--config',
                   write_config(tmp_path / 'cfg.py', cfg)])
    assert message in str(err.value.code)
    assert 'nothing was written' in str(err.value.code)
    assert not dst.exists()


def test_cli_refuses_unsafe_pickles(tmp_path, tool):
    src = tmp_path / 'evil.pt'
    torch.save(dict(model_state_dict={}, args=argparse.Namespace(x=1)),
               str(src))
    with pytest.raises(SystemExit) as err:
        tool.main([str(src), str(tmp_path / 'out.pth')])
    assert 'refusing to load' in str(err.value.code)
    assert 'Nothing from the file was executed' in str(err.value.code)


def test_cli_refuses_non_finite_weights(ref, tmp_path, tool):
    """A diverged run's checkpoint: the converter names the tensor and
    writes nothing."""
    src = save_original(ref, 'ttrans', tmp_path / 'orig.pt')
    ckpt = torch.load(src, map_location='cpu', weights_only=True)
    name = next(k for k, v in ckpt['model_state_dict'].items()
                if v.is_floating_point() and 'mask' not in k)
    ckpt['model_state_dict'][name].view(-1)[0] = float('nan')
    torch.save(ckpt, src)
    dst = tmp_path / 'converted.pth'
    with pytest.raises(SystemExit) as err:
        tool.main([src, str(dst)])
    assert 'NaN' in str(err.value.code) and not dst.exists()


def test_cli_checks_the_original_ttrans_head_count(tmp_path, tool):
    """Same shapes, different function: the original T-Trans of ViT-B/16 has
    8 heads, so a model with 16 must be refused."""
    path = str(tmp_path / 'classifier.pt')
    torch.save(torch.randn(10, 512), path)
    backbone = convert_text4vis_state_dict(_meta_vit(768, 12, 16, 224, 512))

    class Recognizer(torch.nn.Module):
        """A ViT-B/16 recognizer as far as ``mismatch_report`` looks."""

        def __init__(self, num_heads):
            super().__init__()
            self.cls_head = MODELS.build(
                dict(type='FrozenClassifierHead', num_classes=10,
                     in_channels=512, classifier=path,
                     temporal=dict(type='TemporalTransformer',
                                   num_layers=1, num_heads=num_heads)))

        def state_dict(self):
            head = self.cls_head.state_dict(prefix='cls_head.')
            return {**backbone, **head}

    state_dict = Recognizer(8).state_dict()
    assert tool.mismatch_report(state_dict, Recognizer(8)) == []
    assert tool.mismatch_report(state_dict, Recognizer(16)) == [
        'the original T-Trans of ViT-B/16 has 8 heads (CLIP text width // '
        '64), the config builds 16: set cls_head.temporal.num_heads=8'
    ]
