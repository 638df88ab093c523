"""Every shipped config builds, trains a step and tests multi-view, with
tiny dimensions; the frozen classifier and the parameter groups behave as
the original recipe."""
import glob
import os.path as osp

import pytest
import torch
from _tiny_models import TINY_RN, TINY_VIT, save_classifier_tensor
from _tiny_towers import tiny_config_of
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from _paths import CONFIGS as CONFIG_DIR
CONFIGS = sorted(
    p for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in p and f'{osp.sep}toy{osp.sep}' not in p)


def tiny_config(path, tmp_path):
    """The config with a tiny backbone, random weights and a random
    classifier file of the right size; AMP off (CPU)."""
    cfg = Config.fromfile(path)
    backbone = cfg.model.backbone
    if backbone.type == 'OpenCLIPVisual':  # the family's own tiny tower
        backbone.arch = tiny_config_of(backbone.arch)
    else:
        backbone.arch = TINY_VIT if backbone.type == 'CLIPViT' else TINY_RN
    backbone.pretrained = None
    head = cfg.model.cls_head
    head.in_channels = 32
    if 'classifier' in head:
        # zero-shot configs leave num_classes=None: K comes from the
        # classifier
        head.classifier = save_classifier_tensor(
            tmp_path / 'clf.pt', head.num_classes or 7, 32)
    if cfg.get('optim_wrapper'):  # None in evaluation-only configs
        cfg.optim_wrapper.type = 'OptimWrapper'
    return cfg


def train_pipeline(cfg):
    """The train pipeline, looking through dataset wrappers such as
    FewShotDataset; None for evaluation-only (zero-shot) configs."""
    if not cfg.get('train_dataloader'):
        return None
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset:
        dataset = dataset.dataset
    return dataset.pipeline


def views_of(pipeline):
    sampler = next(t for t in pipeline if 'num_segments' in t)
    crops = 3 if any(t['type'] == 'FullResThreeCrop' for t in pipeline) \
        else 1
    return sampler.get('num_clips', 1) * crops, sampler['num_segments']


def batch(num_views, num_frames, label=2, batch_size=1):
    gen = torch.Generator().manual_seed(0)
    return dict(
        inputs=[
            torch.randint(0, 256, (num_views, 3, num_frames, 32, 32),
                          generator=gen).float() for _ in range(batch_size)
        ],
        data_samples=[
            ActionDataSample().set_gt_label(label)
            for _ in range(batch_size)
        ])


def test_configs_exist():
    assert len(CONFIGS) >= 20


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_train_and_multiview_test_step(path, tmp_path):
    cfg = tiny_config(path, tmp_path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    pipeline = train_pipeline(cfg)
    if pipeline is not None:
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        _, num_frames = views_of(pipeline)
        losses = model.train_step(batch(1, num_frames, batch_size=2),
                                  optim_wrapper)
        assert torch.isfinite(losses['loss_cls'])
    num_views, num_frames = views_of(cfg.test_dataloader.dataset.pipeline)
    model.eval()
    preds = model.test_step(batch(num_views, num_frames))
    score = preds[0].pred_score
    assert score.shape == (model.cls_head.num_classes, )
    assert abs(score.sum().item() - 1) < 1e-4 and (score >= 0).all()


B16 = osp.join(CONFIG_DIR, 'text4vis', 'kinetics400',
               'text4vis_vit-b16-tokent1d-tap_8xb32-seg8-30e_kinetics400-rgb'
               '.py')
B16_TTRANS = osp.join(
    CONFIG_DIR, 'text4vis', 'kinetics400',
    'text4vis_vit-b16-ttrans_8xb32-seg8-30e_kinetics400-rgb.py')


def test_frozen_classifier_is_bit_identical_after_train_step(tmp_path):
    cfg = tiny_config(B16_TTRANS, tmp_path)
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = model.cls_head.classifier.clone()
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    for _ in range(2):
        model.train_step(batch(1, 8, batch_size=2), optim_wrapper)
    assert torch.equal(model.cls_head.classifier, before)
    changed = [n for n, p in model.named_parameters()
               if not torch.equal(p, params[n])]
    assert len(changed) == len(params)  # everything else is trained


def test_only_intended_parameters_get_gradients(tmp_path):
    cfg = tiny_config(B16, tmp_path)
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(batch(1, 8, batch_size=2), True)
    losses = model(**data, mode='loss')
    losses['loss_cls'].backward()
    assert not model.cls_head.classifier.requires_grad
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert no_grad == []
    assert model.backbone.transformer.resblocks[0].temporal.conv.weight.\
        grad.abs().sum() > 0


def test_parameter_groups_follow_the_original_learning_rates(tmp_path):
    cfg = tiny_config(B16, tmp_path)
    cfg.model.cls_head.temporal = dict(type='TemporalTransformer',
                                       num_layers=1)
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr_of = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in optim_wrapper.optimizer.param_groups:
        for p in group['params']:
            lr_of[names[id(p)]] = (group['lr'], group['weight_decay'])
    for name, (lr, wd) in lr_of.items():
        assert wd == pytest.approx(0.2), name
        if 'temporal.conv' in name or name.startswith('cls_head.temporal'):
            assert lr == pytest.approx(5e-5), name
        else:  # CLIP visual encoder and the logit scale
            assert name.startswith('backbone.') or name == \
                'cls_head.logit_scale', name
            assert lr == pytest.approx(5e-6), name
    assert set(lr_of) == set(names.values())


@pytest.mark.parametrize('name', ['pe-core-b16', 'siglip2-b16', 'eva02-b16',
                                  'mobileclip2-s2'])
def test_tower_configs_normalise_as_their_weights(name, monkeypatch):
    """The configs of the open_clip towers set the normalisation the weights
    were trained with; another one is pointed out when the model is built
    (nothing is downloaded to check: the open_clip tag says)."""
    from t4v_mmaction.models.recognizers import text4vis_recognizer
    logged = []
    monkeypatch.setattr(text4vis_recognizer, 'print_log',
                        lambda msg, *args, **kwargs: logged.append(msg))
    path = osp.join(CONFIG_DIR, 'text4vis', 'kinetics400',
                    f'text4vis_{name}-ttrans_8xb32-seg8-30e_kinetics400-rgb.py')
    cfg = Config.fromfile(path)
    MODELS.build(cfg.model)
    assert not logged
    cfg.model.data_preprocessor.mean = [1., 2., 3.]
    MODELS.build(cfg.model)
    assert len(logged) == 1 and 'trained with mean' in logged[0]
