"""VideoTextContrastiveHead: the symmetric video<->text loss, its targets,
batch gathering, the offline / online text side and test-time scoring."""
import math

import pytest
import torch
import torch.nn.functional as F
from _tiny_models import save_classifier_tensor, seeded_video
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from t4v_mmaction.models.heads import contrastive_head
from t4v_mmaction.models.heads.contrastive_head import (
    gather_with_local_grad, same_label_targets)

NAMES = ['a red circle moving up', 'a blue square growing',
         'a green triangle spinning', 'a red square moving down']


def build_head(tmp_path, num_classes=5, dim=8, **kwargs):
    clf = save_classifier_tensor(tmp_path / 'clf.pt', num_classes, dim)
    return MODELS.build(
        dict(type='VideoTextContrastiveHead', num_classes=num_classes,
             in_channels=dim, classifier=clf, **kwargs))


def samples(labels):
    return [ActionDataSample().set_gt_label(label) for label in labels]


def seeded(*shape, seed=0):
    return seeded_video(*shape, seed=seed)


@pytest.fixture(scope='module')
def online_head(tmp_path_factory):
    cache = str(tmp_path_factory.mktemp('classifier_cache'))
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='VideoTextContrastiveHead', num_classes=None,
             in_channels=16,
             classifier=dict(type='lm', class_names=NAMES,
                             templates=['{}'], cache_dir=cache),
             text_encoder=dict(type='lm')))


def test_targets_are_uniform_over_same_label_pairs():
    q = same_label_targets(torch.tensor([0, 1, 0, 0]))
    third = 1 / 3
    expected = torch.tensor([[third, 0, third, third], [0, 1, 0, 0],
                             [third, 0, third, third],
                             [third, 0, third, third]])
    torch.testing.assert_close(q, expected)
    # distinct labels: CLIP's identity targets
    torch.testing.assert_close(
        same_label_targets(torch.tensor([2, 0, 1])), torch.eye(3))


def _hand_loss(video, text, labels, scale=100.):
    """Both directions, written out with python floats."""
    n = len(labels)

    def cos(a, b):
        dot = sum(x * y for x, y in zip(a, b))
        return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))

    s = [[scale * cos(video[i], text[j]) for j in range(n)]
         for i in range(n)]

    def soft_ce(rows):
        total = 0.
        for i, row in enumerate(rows):
            log_z = math.log(sum(math.exp(v - max(row)) for v in row)) + \
                max(row)
            pos = [j for j in range(n) if labels[j] == labels[i]]
            total += -sum((row[j] - log_z) / len(pos) for j in pos)
        return total / n

    v2t = soft_ce(s)
    t2v = soft_ce([[s[i][j] for i in range(n)] for j in range(n)])
    return (v2t + t2v) / 2


def test_loss_equals_a_hand_computation(tmp_path):
    head = build_head(tmp_path, dim=4)
    video, text = seeded(3, 4, seed=1), seeded(3, 4, seed=2)
    labels = torch.tensor([0, 1, 0])
    loss = head.contrastive_loss(video, text, labels)
    expected = _hand_loss(video.tolist(), text.tolist(), labels.tolist())
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_loss_is_symmetric_and_averages_both_directions(tmp_path):
    head = build_head(tmp_path)
    video, text = seeded(6, 8, seed=1), seeded(6, 8, seed=2)
    labels = torch.tensor([0, 1, 0, 2, 3, 3])
    loss = head.contrastive_loss(video, text, labels)
    # swapping the roles of video and text gives the same value
    torch.testing.assert_close(head.contrastive_loss(text, video, labels),
                               loss)
    logits = 100 * F.normalize(video, dim=-1) @ F.normalize(text, dim=-1).t()
    q = same_label_targets(labels)
    v2t = -(q * logits.log_softmax(1)).sum(1).mean()
    t2v = -(q * logits.t().log_softmax(1)).sum(1).mean()
    assert abs(v2t - t2v) > 0.1  # the directions differ ...
    torch.testing.assert_close(loss, (v2t + t2v) / 2)  # ... both count


def test_loss_of_a_batch_uses_the_label_rows(tmp_path):
    head = build_head(tmp_path)
    feats = seeded(4, 3, 8)  # (B, T, D)
    labels = [3, 1, 3, 0]
    loss = head.loss(feats, samples(labels))['loss_cls']
    text = torch.load(tmp_path / 'clf.pt')[labels]
    expected = head.contrastive_loss(feats.mean(1), text,
                                     torch.tensor(labels))
    torch.testing.assert_close(loss, expected)


def test_offline_gradients_reach_the_video_side_only(tmp_path):
    head = build_head(tmp_path, temporal=dict(
        type='TemporalTransformer', num_layers=1, num_heads=2))
    feats = seeded(4, 3, 8).requires_grad_()
    head.loss(feats, samples([0, 1, 2, 2]))['loss_cls'].backward()
    assert feats.grad.abs().sum() > 0
    assert head.logit_scale.grad is not None
    for name, param in head.named_parameters():
        assert param.grad is not None, f'no gradient for {name}'
    # the text side is a frozen buffer: not a parameter, never a gradient
    assert 'classifier' not in dict(head.named_parameters())
    assert not head.classifier.requires_grad and head.classifier.grad is None


def test_gather_is_a_noop_in_one_process(tmp_path):
    x = seeded(3, 8)
    assert gather_with_local_grad(x) is x
    video, text = seeded(4, 8, seed=1), seeded(4, 8, seed=2)
    labels = torch.tensor([0, 1, 1, 2])
    with_gather = build_head(tmp_path, gather=True)
    without = build_head(tmp_path, gather=False)
    torch.testing.assert_close(
        with_gather.contrastive_loss(video, text, labels),
        without.contrastive_loss(video, text, labels))


def test_gather_over_two_ranks_gives_the_global_loss(tmp_path, monkeypatch):
    """Rank 0 of 2 (emulated): the loss is the whole batch's, and only the
    local slice receives (the whole batch's) gradient."""
    head = build_head(tmp_path)
    video, text = seeded(6, 8, seed=1), seeded(6, 8, seed=2)
    labels = torch.tensor([0, 1, 0, 2, 3, 1])
    local = slice(0, 3)
    remote = {'video': video[3:], 'text': text[3:], 'labels': labels[3:]}

    def fake_all_gather(data):
        if not data.is_floating_point():
            return [data, remote['labels']]
        key = 'video' if torch.equal(data, video[local]) else 'text'
        return [data, remote[key]]

    monkeypatch.setattr(contrastive_head, 'get_dist_info', lambda: (0, 2))
    monkeypatch.setattr(contrastive_head, 'all_gather', fake_all_gather)
    v_local = video[local].clone().requires_grad_()
    loss = head.contrastive_loss(v_local, text[local], labels[local])
    loss.backward()
    monkeypatch.undo()  # one process again
    v_all = video.clone().requires_grad_()
    expected = head.contrastive_loss(v_all, text, labels)
    expected.backward()
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(v_local.grad, v_all.grad[local])


def test_emulated_ranks_average_the_slice_losses(tmp_path):
    head = build_head(tmp_path, gather=False, emulated_ranks=2)
    single = build_head(tmp_path, gather=False)
    video, text = seeded(6, 8, seed=1), seeded(6, 8, seed=2)
    labels = torch.tensor([0, 1, 0, 2, 3, 1])
    halves = [single.contrastive_loss(video[s], text[s], labels[s])
              for s in (slice(0, 3), slice(3, 6))]
    torch.testing.assert_close(
        head.contrastive_loss(video, text, labels), sum(halves) / 2)
    assert abs(halves[0] + halves[1] - 2 * single.contrastive_loss(
        video, text, labels)) > 1e-3  # slicing changes the loss


def test_predict_scores_all_classes_like_the_frozen_head(tmp_path):
    head = build_head(tmp_path).eval()
    frozen = MODELS.build(
        dict(type='FrozenClassifierHead', num_classes=5, in_channels=8,
             classifier=str(tmp_path / 'clf.pt'))).eval()
    feats = seeded(2 * 3, 4, 8)  # 2 videos x 3 views, (B, T, D)
    with torch.no_grad():
        out = head.predict(feats, samples([0, 1]))
        ref = frozen.predict(feats, samples([0, 1]))
    for sample, expected in zip(out, ref):
        assert sample.pred_score.shape == (5, )
        assert sample.pred_score.sum().item() == pytest.approx(1, abs=1e-5)
        assert (sample.pred_score >= 0).all()
        torch.testing.assert_close(sample.pred_score, expected.pred_score)


@pytest.mark.parametrize('options,match', [
    (dict(gather=True, emulated_ranks=2), 'emulated_ranks'),
    (dict(gather=False, emulated_ranks=0), 'emulated_ranks'),
    (dict(text_encoder=dict(type='clip')), 'text_encoder type'),
    (dict(text_encoder=dict(type='lm')), 'class names'),
    (dict(label_smooth_eps=0.1), 'label_smooth_eps'),
])
def test_bad_arguments_raise(tmp_path, options, match):
    with pytest.raises(ValueError, match=match):
        build_head(tmp_path, **options)


def test_online_text_encoder_starts_at_the_offline_embeddings(online_head):
    assert online_head.num_classes == len(NAMES)
    online_head.eval()
    with torch.no_grad():
        emb = online_head.class_embeddings()  # (K, 384)
    # same MiniLM, mean pooling, same prompts as the 'lm' classifier
    torch.testing.assert_close(
        F.normalize(emb, dim=-1), online_head.classifier, atol=1e-5,
        rtol=1e-5)
    # init_weights keeps the pretrained weights
    before = {k: v.clone() for k, v in
              online_head.text_encoder.state_dict().items()}
    online_head.init_weights()
    for key, value in online_head.text_encoder.state_dict().items():
        assert torch.equal(value, before[key]), key
    state = online_head.state_dict()
    assert any(k.startswith('text_encoder.model.') for k in state)
    assert not any(k.endswith(('input_ids', 'attention_mask'))
                   for k in state)  # token buffers follow the label set


def test_online_text_encoder_gets_gradients(online_head):
    online_head.train()
    online_head.zero_grad()
    feats = seeded(4, 3, 16).requires_grad_()
    online_head.loss(feats, samples([0, 2, 2, 3]))['loss_cls'].backward()
    assert feats.grad.abs().sum() > 0
    assert online_head.proj.weight.grad is not None  # 16 -> 384
    encoder = online_head.text_encoder
    # every encoder parameter is used (DDP needs no unused parameters)
    for name, param in encoder.named_parameters():
        assert param.grad is not None, f'no gradient for {name}'
    assert encoder.model.encoder.layer[0].attention.self.query.weight \
        .grad.abs().sum() > 0
    online_head.eval()
    with torch.no_grad():
        logits = online_head(seeded(2, 3, 16))
    assert logits.shape == (2, len(NAMES))
    assert not online_head.class_embeddings().requires_grad


def test_online_eval_embeddings_follow_the_weights(online_head):
    online_head.eval()
    first = online_head.class_embeddings()
    assert online_head.class_embeddings() is first  # encoded once in eval
    state = online_head.state_dict()
    original = {k: v.clone() for k, v in state.items()}
    key = 'text_encoder.model.encoder.layer.5.output.dense.bias'
    state[key] += 1
    online_head.load_state_dict(state)
    changed = online_head.class_embeddings()
    assert not torch.allclose(changed, first)  # re-encoded after loading
    online_head.load_state_dict(original)
    online_head.train()
    online_head.eval()
    torch.testing.assert_close(online_head.class_embeddings(), first)


def test_online_head_takes_class_names_from_a_classifier_of_any_width(
        online_head, tmp_path):
    """Online, the classifier only names the classes: a file of another
    width than the text encoder's swaps the label set (zero-shot)."""
    from t4v_mmaction.models.classifiers import save_classifier
    other = NAMES[:3]
    path = str(tmp_path / 'names.pth')
    save_classifier(path, torch.randn(3, 8), dict(class_names=other))
    online_head.eval()
    try:
        online_head.set_classifier(path)
        assert online_head.class_names == other
        assert online_head.class_embeddings().shape == (3, 384)
        assert online_head(seeded(2, 3, 16)).shape == (2, 3)
    finally:
        online_head.set_classifier(
            dict(type='lm', class_names=NAMES, templates=['{}'],
                 cache_dir=str(tmp_path / 'cache')))


def test_contrastive_logits_are_fp32_under_autocast(tmp_path):
    head = build_head(tmp_path, num_classes=4, dim=8).eval()
    feats = seeded(2, 3, 8)
    reference = head(feats)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        scores = head(feats)
        loss = head.train().loss(feats, samples([0, 1]))['loss_cls']
    assert scores.dtype == loss.dtype == torch.float32
    torch.testing.assert_close(scores, reference, atol=1e-5, rtol=1e-5)
