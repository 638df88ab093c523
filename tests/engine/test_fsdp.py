"""The FSDP recipe: mmengine finds our auto-wrap policy by the name the
config gives, the policy makes one FSDP unit per transformer block, and the
config builds a FlexibleRunner with the FSDP strategy. (Sharded training
itself needs CUDA: mmengine's FSDPStrategy pins each rank to a GPU.)"""
import os.path as osp

from _tiny_models import TINY_VIT, save_classifier_tensor
from mmengine.config import Config
from mmengine.registry import FUNCTIONS
from mmengine.runner import FlexibleRunner
from mmaction.registry import MODELS

from t4v_mmaction.engine import residual_block_wrap_policy
from t4v_mmaction.models.layers import ResidualAttentionBlock

FSDP_CFG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'text4vis', 'kinetics400',
    'text4vis_vit-l14-336-ttrans_64xb1-seg32-30e_kinetics400-rgb_fsdp.py')


def tiny_fsdp_config(tmp_path):
    cfg = Config.fromfile(FSDP_CFG)
    cfg.model.backbone.update(arch=TINY_VIT, pretrained=None)
    cfg.model.cls_head.in_channels = 32
    cfg.model.cls_head.classifier = save_classifier_tensor(
        tmp_path / 'clf.pt', 400, 32)
    cfg.work_dir = str(tmp_path)
    return cfg


def test_config_names_a_policy_mmengine_can_find():
    cfg = Config.fromfile(FSDP_CFG)
    name = cfg.strategy.model_wrapper.auto_wrap_policy
    # the lookup mmengine's MMFullyShardedDataParallel does
    assert FUNCTIONS.get(name) is residual_block_wrap_policy
    assert cfg.runner_type == 'FlexibleRunner'
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert cfg.model.backbone.grad_checkpointing


def test_policy_wraps_exactly_the_transformer_blocks(tmp_path):
    model = MODELS.build(tiny_fsdp_config(tmp_path).model)
    blocks = [m for m in model.modules()
              if isinstance(m, ResidualAttentionBlock)]
    # tiny backbone (2 layers) + the recipe's 6-layer T-Trans
    assert len(blocks) == TINY_VIT['layers'] + 6
    wrapped = [m for m in model.modules()
               if residual_block_wrap_policy(m, False, 0)]
    assert wrapped == blocks
    # recursion always descends, as torch's transformer policy requires
    assert residual_block_wrap_policy(model, True, 0)


def test_flexible_runner_builds_with_the_fsdp_strategy(tmp_path):
    runner = FlexibleRunner.from_cfg(tiny_fsdp_config(tmp_path))
    assert type(runner.strategy).__name__ == 'FSDPStrategy'
