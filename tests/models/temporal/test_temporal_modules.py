import torch
from _tiny_models import seeded_video
from mmaction.registry import MODELS

from t4v_mmaction.models import (TemporalConv1d, TemporalTransformer,
                                          TokenShift, TokenT1D)


def test_token_shift_moves_quarters_of_the_class_token():
    T, D = 3, 8
    x = torch.arange(T * 2 * D, dtype=torch.float).view(T, 2, D)  # B=1
    out = TokenShift(D, T)(x)
    cls = x[:, 0]
    assert torch.equal(out[:, 1:], x[:, 1:])  # patch tokens untouched
    assert torch.equal(out[:-1, 0, :2], cls[1:, :2])  # x_{t+1}
    assert torch.equal(out[-1, 0, :2], torch.zeros(2))
    assert torch.equal(out[1:, 0, 2:4], cls[:-1, 2:4])  # x_{t-1}
    assert torch.equal(out[0, 0, 2:4], torch.zeros(2))
    assert torch.equal(out[:, 0, 4:], cls[:, 4:])


def test_token_t1d_equals_token_shift_at_init_and_then_learns():
    x = seeded_video(2 * 4, 5, 16)
    t1d = TokenT1D(16, 4)
    assert torch.equal(t1d(x), TokenShift(16, 4)(x))
    t1d(x).square().sum().backward()
    assert t1d.conv.weight.grad.abs().sum() > 0


def test_temporal_conv1d_is_identity_at_init():
    x = seeded_video(2 * 4, 6, 3, 3)
    torch.testing.assert_close(TemporalConv1d(6, 4)(x), x)


def test_temporal_transformer_follows_the_original_formula():
    """With residual branches zeroed the blocks are identities, so the
    output is mean_t(2 x_t + pos_t), as the original's extra residual."""
    torch.manual_seed(0)
    tt = TemporalTransformer(32, num_layers=2)
    for block in tt.transformer.resblocks:
        torch.nn.init.zeros_(block.attn.out_proj.weight)
        torch.nn.init.zeros_(block.mlp.c_proj.weight)
    x = seeded_video(2, 5, 32)
    pos = tt.frame_position_embeddings.weight[:5]
    torch.testing.assert_close(tt(x), (2 * x + pos).mean(1))


def test_temporal_transformer_init_and_heads():
    torch.manual_seed(0)
    tt = TemporalTransformer(512)
    assert len(tt.transformer.resblocks) == 6
    assert tt.transformer.resblocks[0].attn.num_heads == 8
    assert TemporalTransformer(768).transformer.resblocks[0].attn.num_heads \
        == 12
    w = tt.transformer.resblocks[0].mlp.c_fc.weight
    assert abs(w.std().item() - 0.02) < 2e-3
    assert tt.frame_position_embeddings.weight.shape == (77, 512)
    assert torch.equal(tt.transformer.resblocks[0].ln_1.bias,
                       torch.zeros(512))
    assert tt.transformer.resblocks[0].ln_1.eps == 1e-12


def test_temporal_average_pooling_builds_like_the_others():
    tap = MODELS.build(dict(type='TemporalAveragePooling'),
                       default_args=dict(embed_dim=4))
    x = seeded_video(2, 3, 4)
    torch.testing.assert_close(tap(x), x.mean(1))
