"""bf16 inference (Text4VisRecognizer.set_inference_precision): what is
cast and what stays fp32, agreement with fp32, and the guard against
training a cast model."""
import pytest
import torch
from _tiny_models import TINY_VIT, save_classifier_tensor, seeded_video
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from t4v_mmaction.models.utils import precision as inference_precision


def build(tmp_path):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='Text4VisRecognizer',
            backbone=dict(type='CLIPViT', arch=TINY_VIT, num_frames=4),
            cls_head=dict(
                type='FrozenClassifierHead',
                num_classes=10,
                in_channels=32,
                classifier=save_classifier_tensor(tmp_path / 'clf.pt', 10,
                                                  32),
                temporal=dict(type='TemporalTransformer', num_layers=1)),
            data_preprocessor=dict(
                type='ActionDataPreprocessor', format_shape='NCTHW'))).eval()


def scores(model, videos):
    data = dict(
        inputs=list(videos),
        data_samples=[ActionDataSample() for _ in videos])
    with torch.no_grad():
        preds = model.test_step(data)
    return torch.stack([p.pred_score for p in preds])  # (N, K)


def test_bf16_casts_the_encoders_and_keeps_the_classifier(tmp_path):
    model = build(tmp_path)
    videos = seeded_video(8, 1, 3, 4, 32, 32).mul(60).add(128)
    reference = scores(model, videos)
    classifier = model.cls_head.classifier.clone()
    assert model.set_inference_precision('bf16') == 'bf16'
    assert model.backbone.proj.dtype == torch.bfloat16
    assert all(p.dtype == torch.bfloat16
               for p in model.cls_head.temporal.parameters())
    assert model.cls_head.logit_scale.dtype == torch.float32
    assert torch.equal(model.cls_head.classifier, classifier)
    fast = scores(model, videos)
    assert fast.dtype == torch.float32
    assert (fast - reference).abs().max() < 0.05
    margin = reference.topk(2).values.diff().abs().squeeze(-1)
    clear = margin > 0.05  # top-1 can only flip where fp32 is undecided
    assert clear.any()
    assert torch.equal(fast.argmax(-1)[clear], reference.argmax(-1)[clear])
    # the tensor mode (features) runs too
    feats = model(videos, mode='tensor')  # (N, V, C, T, H, W)
    assert feats.shape[0] == len(videos)


def test_a_cast_model_refuses_to_train_until_set_back(tmp_path):
    model = build(tmp_path)
    model.set_inference_precision('bf16')
    model.eval()  # eval stays allowed
    with pytest.raises(RuntimeError, match='reload the weights'):
        model.train()
    assert model.set_inference_precision('fp32') == 'fp32'
    assert model.backbone.proj.dtype == torch.float32
    model.train()


def test_auto_follows_native_bf16(tmp_path, monkeypatch):
    model = build(tmp_path)
    monkeypatch.setattr(inference_precision, 'native_bf16', lambda d: False)
    assert model.set_inference_precision('auto') == 'fp32'
    assert model.backbone.proj.dtype == torch.float32
    monkeypatch.setattr(inference_precision, 'native_bf16', lambda d: True)
    assert model.set_inference_precision('auto') == 'bf16'
    with pytest.raises(ValueError, match='precision must be one of'):
        model.set_inference_precision('fp16')
