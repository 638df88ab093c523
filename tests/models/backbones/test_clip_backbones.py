import copy

import pytest
import torch
from _tiny_models import TINY_RN, TINY_VIT, seeded_video
from mmaction.registry import MODELS
from mmaction.testing import check_norm_state


def build_vit(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(type='CLIPViT', arch=TINY_VIT, **kwargs))


@pytest.mark.parametrize('temporal', [None, 'TokenT1D', 'TokenShift'])
def test_vit_shapes_and_grads(temporal):
    model = build_vit(
        num_frames=4, temporal=temporal and dict(type=temporal))
    out = model(seeded_video(3, 3, 4, 32, 32))
    assert out.shape == (3, 4, 32)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_vit_per_frame_without_temporal_modules():
    """Without temporal modules every frame is encoded independently."""
    model = build_vit(num_frames=4).eval()
    video = seeded_video(2, 3, 4, 32, 32)
    out = model(video)
    frame = model.encode_frames(video[:, :, 2])
    torch.testing.assert_close(out[:, 2], frame)


def test_token_t1d_backbone_equals_token_shift_at_init():
    t1d = build_vit(num_frames=4, temporal=dict(type='TokenT1D')).eval()
    shift = build_vit(num_frames=4, temporal=dict(type='TokenShift')).eval()
    missing, unexpected = shift.load_state_dict(t1d.state_dict(),
                                                strict=False)
    assert all('temporal.conv' in k for k in unexpected) and not missing
    video = seeded_video(2, 3, 4, 32, 32)
    assert torch.equal(t1d(video), shift(video))
    # and differs from the purely per-frame model
    plain = build_vit(num_frames=4).eval()
    plain.load_state_dict(shift.state_dict())
    assert not torch.allclose(plain(video), shift(video))


def test_vit_grad_checkpointing_is_exact():
    ref = build_vit(num_frames=2, temporal=dict(type='TokenT1D'))
    ckpt = copy.deepcopy(ref)
    ckpt.grad_checkpointing = True
    video = seeded_video(2, 3, 2, 32, 32)
    ref(video).square().sum().backward()
    ckpt(video).square().sum().backward()
    for (name, a), b in zip(ref.named_parameters(), ckpt.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_vit_frozen_stages_keep_temporal_trainable():
    model = build_vit(
        num_frames=2, temporal=dict(type='TokenT1D'), frozen_stages=2)
    model.train()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {
        f'transformer.resblocks.{i}.temporal.conv.weight' for i in range(2)
    }
    partial = build_vit(num_frames=2, frozen_stages=1)
    assert not partial.conv1.weight.requires_grad
    assert not partial.transformer.resblocks[0].attn.in_proj_weight.\
        requires_grad
    assert partial.transformer.resblocks[1].attn.in_proj_weight.requires_grad


def test_vit_rejects_wrong_frame_count_with_temporal_modules():
    model = build_vit(num_frames=4, temporal=dict(type='TokenShift'))
    with pytest.raises(ValueError, match='num_frames=4'):
        model(seeded_video(1, 3, 2, 32, 32))


def test_vit_matches_open_clip_with_loaded_weights(tmp_path):
    """A random open_clip ViT-B-32, saved as a state dict, loads into our
    backbone and gives open_clip's image embeddings for every frame."""
    import open_clip
    torch.manual_seed(0)
    clip = open_clip.create_model('ViT-B-32-quickgelu').eval()
    path = tmp_path / 'clip.pt'
    torch.save({'state_dict': clip.state_dict()}, path)
    model = MODELS.build(
        dict(type='CLIPViT', arch='ViT-B-32-quickgelu', pretrained=str(path),
             num_frames=2))
    model.init_weights()
    model.eval()
    video = seeded_video(1, 3, 2, 224, 224)
    with torch.no_grad():
        ours = model(video)[0]
        theirs = clip.encode_image(video[0].transpose(0, 1))
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=1e-4)


def test_vit_wrong_architecture_checkpoint_is_a_clear_error(tmp_path):
    other = MODELS.build(
        dict(type='CLIPViT', arch=dict(TINY_VIT, width=32, head_width=16)))
    path = tmp_path / 'other.pth'
    torch.save({f'visual.{k}': v for k, v in other.state_dict().items()},
               path)
    model = build_vit(pretrained=str(path))
    with pytest.raises(ValueError, match=r'other.pth: the weights do not fit'
                       r'[\s\S]*width 32 x 2 layers, the model 64 x 2'):
        model.init_weights()


def test_vit_rejects_resnet_arch():
    with pytest.raises(ValueError, match='is a CLIP ResNet; use CLIPResNet'):
        MODELS.build(dict(type='CLIPViT', arch='RN50'))


def build_rn(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(type='CLIPResNet', arch=TINY_RN, **kwargs))


def test_resnet_t1d_is_identity_at_init():
    plain = build_rn(num_frames=4).eval()
    t1d = build_rn(num_frames=4, t1d_stages=(3, 4)).eval()
    t1d.load_state_dict(plain.state_dict(), strict=False)
    video = seeded_video(2, 3, 4, 32, 32)
    torch.testing.assert_close(t1d(video), plain(video))
    names = [n for n, _ in t1d.named_parameters() if 'temporal' in n]
    assert names == ['net.layer3.0.temporal.conv.weight',
                     'net.layer4.0.temporal.conv.weight']


def test_resnet_t1d_mixes_frames_after_training_step():
    model = build_rn(num_frames=4, t1d_stages=(3, 4))
    with torch.no_grad():
        model.net.layer4[0].temporal.conv.weight.normal_()
        # CLIP zero-initialises the last BN of each residual branch
        model.net.layer4[0].bn3.weight.fill_(1)
    video = seeded_video(1, 3, 4, 32, 32)
    out = model.eval()(video)
    changed = video.clone()
    changed[:, :, 0] = 0
    out2 = model(changed)
    # frame 1 depends on frame 0 through T1D
    assert not torch.allclose(out[:, 1], out2[:, 1])


def test_resnet_survives_deepcopy():
    model = build_rn(num_frames=2, t1d_stages=(4, ))
    clone = copy.deepcopy(model)
    with torch.no_grad():
        clone.net.layer4[0].bn3.weight.fill_(1)
        model.net.layer4[0].bn3.weight.fill_(1)
        clone.net.layer4[0].temporal.conv.weight.mul_(3)
    video = seeded_video(1, 3, 2, 32, 32)
    assert not torch.allclose(clone.eval()(video), model.eval()(video))


def test_resnet_frozen_stages_and_norm_eval():
    model = build_rn(num_frames=2, frozen_stages=2, norm_eval=True,
                     t1d_stages=(3, ))
    model.train()
    assert not model.net.layer2[0].conv1.weight.requires_grad
    assert model.net.layer3[0].conv1.weight.requires_grad
    assert model.net.layer3[0].temporal.conv.weight.requires_grad
    assert check_norm_state(model.modules(), False)
    out = model(seeded_video(2, 3, 2, 32, 32))
    assert out.shape == (2, 2, 32)
