"""Every open_clip tower family as a video backbone, and its text tower as
the classifier, built from an open_clip model folder of that family (tiny,
random weights): the same numbers as open_clip's ``encode_image`` /
``encode_text``, a training step and a multi-view test; the in-backbone
temporal mixers where the tower has a [class] token, a clear error
otherwise."""
import pytest
import torch
from _tiny_towers import (EMBED_DIM, FAMILIES, OPENAI, WITH_CLASS_TOKEN,
                          tiny_model_folder)
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from t4v_mmaction.models.classifiers import build_text_classifier
from t4v_mmaction.models.utils import resolve_clip_source

NAMES = ['abseiling', 'playing guitar', 'drinking beer', 'riding a bike']
PROMPTS = [f'a video of a person {n}.' for n in NAMES]
T = 2


ALL = list(OPENAI) + list(FAMILIES)
#: the backbone each family's config builds
BUILT_AS = dict({'openai-vit': 'CLIPViT', 'openai-resnet': 'CLIPResNet'},
                **{family: 'OpenCLIPVisual' for family in FAMILIES})


@pytest.fixture(scope='module')
def towers(tmp_path_factory):
    root = tmp_path_factory.mktemp('towers')
    return {family: tiny_model_folder(root, family) for family in ALL}


def _frames():
    return torch.randn(2 * T, 3, 32, 32,
                       generator=torch.Generator().manual_seed(1))


def _close(ours, theirs):
    """max |difference| < 1e-4 of the embedding norm"""
    scale = theirs.norm(dim=-1, keepdim=True)
    assert ((ours - theirs).abs() / scale).max() < 1e-4


def _backbone_type(family):
    return 'CLIPResNet' if family == 'openai-resnet' else 'CLIPViT'


def _recognizer(family, folder, **backbone):
    return MODELS.build(dict(
        type='Text4VisRecognizer',
        backbone=dict(type=_backbone_type(family), arch=folder,
                      pretrained=folder, num_frames=T, **backbone),
        cls_head=dict(
            type='FrozenClassifierHead', num_classes=None,
            in_channels=EMBED_DIM,
            classifier=dict(type='text', classes=NAMES, model=folder,
                            pretrained=folder, cache=False),
            temporal=dict(type='TemporalTransformer', num_layers=1)),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               format_shape='NCTHW')))


@pytest.mark.parametrize('family', ALL)
def test_tower_equals_open_clip_per_frame(towers, family):
    folder, model = towers[family]
    backbone = MODELS.build(dict(type=_backbone_type(family), arch=folder,
                                 pretrained=folder, num_frames=T))
    assert type(backbone).__name__ == BUILT_AS[family]
    backbone.init_weights()
    backbone.eval()
    frames = _frames()
    with torch.no_grad():
        ours = backbone(frames.view(2, T, 3, 32, 32).transpose(1, 2))
        theirs = model.encode_image(frames)
    assert ours.shape == (2, T, EMBED_DIM)
    _close(ours.reshape(2 * T, EMBED_DIM), theirs)


@pytest.mark.parametrize('family', ALL)
def test_text_classifier_equals_open_clip_encode_text(towers, family):
    folder, model = towers[family]
    source = resolve_clip_source(folder, folder)
    rows = build_text_classifier(NAMES, model=folder, pretrained=folder)
    with torch.no_grad():
        theirs = model.encode_text(source.tokenizer()(PROMPTS))
    assert rows.shape == (4, EMBED_DIM)
    _close(rows, theirs)


@pytest.mark.parametrize('family', ALL)
def test_trains_a_step_and_tests_multi_view(towers, family):
    folder, _ = towers[family]
    model = _recognizer(family, folder)
    model.init_weights()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    clips = torch.randint(0, 256, (2, 1, 3, T, 32, 32)).float()
    samples = [ActionDataSample().set_gt_label(i) for i in (0, 3)]
    before = [p.clone() for p in model.backbone.parameters()]
    losses = model(clips, samples, mode='loss')
    losses['loss_cls'].backward()
    optim.step()
    assert any(not torch.equal(a, b) for a, b in
               zip(before, model.backbone.parameters()))
    model.eval()
    views = torch.randint(0, 256, (2, 3, 3, T, 32, 32)).float()
    with torch.no_grad():
        out = model(views, [ActionDataSample() for _ in range(2)],
                    mode='predict')
    assert [s.pred_score.shape for s in out] == [(4, )] * 2


@pytest.mark.parametrize('family', list(FAMILIES))
def test_temporal_mixers_where_the_tower_allows(towers, family):
    folder, _ = towers[family]
    if family not in WITH_CLASS_TOKEN:
        word = 'class\\] token' if family == 'siglip2' else 'convolutional'
        with pytest.raises(ValueError, match=f'{word}.*head'):
            MODELS.build(dict(type='CLIPViT', arch=folder, num_frames=T,
                              temporal=dict(type='TokenT1D')))
        return
    t1d = MODELS.build(dict(type='CLIPViT', arch=folder, num_frames=T,
                            temporal=dict(type='TokenT1D'))).eval()
    shift = MODELS.build(dict(type='CLIPViT', arch=folder, num_frames=T,
                              temporal=dict(type='TokenShift'))).eval()
    plain = MODELS.build(dict(type='CLIPViT', arch=folder,
                              num_frames=T)).eval()
    shift.load_state_dict(t1d.state_dict(), strict=False)
    plain.load_state_dict(shift.state_dict())
    clips = torch.randn(2, 3, T, 32, 32)
    with torch.no_grad():
        assert torch.equal(t1d(clips), shift(clips))  # shift init
        assert not torch.allclose(plain(clips), shift(clips))
    names = [n for n, _ in t1d.named_parameters() if 'temporal' in n]
    assert names and all('.temporal.conv.weight' in n for n in names)


@pytest.mark.parametrize('family', ['eva02', 'convnext'])
def test_frozen_stages_grad_checkpointing_and_drop_path(towers, family):
    folder, _ = towers[family]
    temporal = dict(type='TokenT1D') if family == 'eva02' else None
    model = MODELS.build(dict(type='CLIPViT', arch=folder, num_frames=T,
                              temporal=temporal, frozen_stages=1,
                              grad_checkpointing=True,
                              drop_path_rate=0.1))
    model.train()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    frozen = {n for n, p in model.named_parameters()
              if not p.requires_grad}
    assert frozen and trainable
    assert not any('temporal' in n for n in frozen)
    out = model(torch.randn(2, 3, T, 32, 32))
    out.sum().backward()
    assert all(p.grad is not None for n, p in model.named_parameters()
               if n in trainable and 'head' not in n)
