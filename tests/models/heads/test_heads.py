import math

import pytest
import torch
import torch.nn.functional as F
from _tiny_models import save_classifier_tensor, seeded_video
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample


def build_head(tmp_path, num_classes=5, dim=16, in_channels=16, **kwargs):
    clf = save_classifier_tensor(tmp_path / 'clf.pt', num_classes, dim)
    return MODELS.build(
        dict(type='FrozenClassifierHead', num_classes=num_classes,
             in_channels=in_channels, classifier=clf, **kwargs))


def samples(labels):
    return [ActionDataSample().set_gt_label(label) for label in labels]


def test_logits_are_scaled_cosine(tmp_path):
    head = build_head(tmp_path)
    weight = torch.load(tmp_path / 'clf.pt')
    feats = seeded_video(3, 4, 16)  # (B, T, D) per-frame embeddings
    video = feats.mean(1)
    expected = 100 * F.normalize(video, dim=-1) @ F.normalize(
        weight, dim=-1).t()
    torch.testing.assert_close(head(feats), expected)
    assert head.logit_scale.exp().item() == pytest.approx(100, rel=1e-6)


def test_classifier_is_a_frozen_non_persistent_buffer(tmp_path):
    head = build_head(tmp_path)
    assert 'classifier' not in dict(head.named_parameters())
    assert 'classifier' in dict(head.named_buffers())
    # not saved: a checkpoint never pins a label set, so the same checkpoint
    # is evaluated zero-shot on another classifier without editing it
    assert 'classifier' not in head.state_dict()
    assert 'logit_scale' in head.state_dict()


def test_classifier_rows_must_match_num_classes(tmp_path):
    clf = save_classifier_tensor(tmp_path / 'clf.pt', 7, 16)
    with pytest.raises(ValueError, match='7'):
        MODELS.build(dict(type='FrozenClassifierHead', num_classes=5,
                          in_channels=16, classifier=clf))


def test_projection_when_classifier_width_differs(tmp_path):
    head = build_head(tmp_path, dim=24, in_channels=16)
    assert head.proj.in_features == 16 and head.proj.out_features == 24
    logits = head(seeded_video(2, 3, 16))
    loss = F.cross_entropy(logits, torch.tensor([0, 1]))
    loss.backward()
    assert head.proj.weight.grad is not None
    assert head.logit_scale.grad is not None


def test_test_scale_is_fixed_and_train_scale_learned(tmp_path):
    head = build_head(tmp_path)
    with torch.no_grad():
        head.logit_scale.fill_(math.log(50))
    feats = seeded_video(2, 3, 16)
    train_logits = head.train()(feats)
    test_logits = head.eval()(feats)
    torch.testing.assert_close(test_logits, 2 * train_logits)
    head.test_logit_scale = None
    torch.testing.assert_close(head(feats), train_logits)


def test_view_fusion_embedding_vs_score(tmp_path):
    feats = seeded_video(2 * 3, 4, 16)  # 2 videos x 3 views
    emb_head = build_head(tmp_path, view_fusion='embedding').eval()
    score_head = build_head(tmp_path, view_fusion='score').eval()
    weight = F.normalize(torch.load(tmp_path / 'clf.pt'), dim=-1)
    video = feats.mean(1).view(2, 3, 16).mean(1)
    expected = (100 * F.normalize(video, dim=-1) @ weight.t()).softmax(-1)
    out = emb_head.predict(feats, samples([0, 1]))
    torch.testing.assert_close(
        torch.stack([s.pred_score for s in out]), expected)
    per_view = (100 * F.normalize(feats.mean(1), dim=-1) @ weight.t())
    expected = per_view.softmax(-1).view(2, 3, -1).mean(1)
    out = score_head.predict(feats, samples([0, 1]))
    torch.testing.assert_close(
        torch.stack([s.pred_score for s in out]), expected)


def test_feature_maps_of_other_backbones(tmp_path):
    head = build_head(tmp_path, in_channels=16, dim=16)
    fmap = seeded_video(2, 16, 4, 3, 3)  # (B, C, T, H, W), e.g. ResNet3d
    torch.testing.assert_close(
        head(fmap), head(fmap.mean((3, 4)).transpose(1, 2)))
    assert head(seeded_video(2, 16)).shape == (2, 5)


def test_linear_head_is_learnable(tmp_path):
    head = MODELS.build(dict(type='LinearVideoHead', num_classes=5,
                             in_channels=16))
    logits = head(seeded_video(2, 3, 16))
    assert logits.shape == (2, 5)
    F.cross_entropy(logits, torch.tensor([0, 1])).backward()
    assert head.fc_cls.weight.grad is not None


def test_bad_view_fusion(tmp_path):
    with pytest.raises(ValueError, match='view_fusion'):
        build_head(tmp_path, view_fusion='mean')


@pytest.mark.parametrize('head_type', ['FrozenClassifierHead',
                                       'LinearVideoHead'])
def test_logits_stay_fp32_under_bf16_autocast(tmp_path, head_type):
    """mmaction's loss turns logits into numpy, which has no bfloat16."""
    if head_type == 'FrozenClassifierHead':
        head = build_head(tmp_path)
    else:
        head = MODELS.build(dict(type=head_type, num_classes=5,
                                 in_channels=16))
    feats = seeded_video(2, 3, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = head.loss(feats, samples([0, 1]))
        logits = head(feats)
    assert logits.dtype == torch.float32
    assert torch.isfinite(losses['loss_cls'])
