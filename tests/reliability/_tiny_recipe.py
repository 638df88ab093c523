"""The tiny CLIP-ViT recipe of ``configs/tiny_clipvit_videos.py`` on a
test's own video list, for runs in the test process."""
import os.path as osp
import time

from mmengine.config import Config

HERE = osp.dirname(osp.abspath(__file__))
TINY_CFG = osp.join(HERE, 'configs', 'tiny_clipvit_videos.py')


def tiny_cfg(root: str, ann_file: str, work_dir, **options) -> Config:
    """The recipe training and testing on ``ann_file`` (videos under
    ``root``), without validation, writing to ``work_dir``; ``options``
    are merged last."""
    cfg = Config.fromfile(TINY_CFG)
    for split in ('train', 'test'):
        cfg.merge_from_dict({
            f'{split}_dataloader.dataset.ann_file': ann_file,
            f'{split}_dataloader.dataset.data_prefix.video': root
        })
    cfg.merge_from_dict(
        dict(val_cfg=None, val_dataloader=None, val_evaluator=None))
    cfg.merge_from_dict(options)
    cfg.work_dir = str(work_dir)
    # one logger per run even when two runs start within the same second
    cfg.experiment_name = f'{osp.basename(work_dir)}_{time.time_ns()}'
    return cfg
