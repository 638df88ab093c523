"""The demo config with mmaction2 1.2.0's demo/long_video_demo.py and
demo/webcam_demo.py: their pipeline surgery (re-implemented here) gives the
same input as a plain resize + crop, and long_video_demo.py itself (read
from the mmaction2 mirror, never copied into the project) runs end to end
with a tiny random-weight model."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from _tiny_inference import (DEMO_CONFIG, DEMO_VIDEO, REPO,
                             save_random_checkpoint, write_label_file,
                             write_tiny_config)
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from t4v_mmaction.apis import init_recognizer

NAMES = ['arm wrestling', 'playing guitar', 'riding a bike']
MMACTION2_MIRROR = '/work/.mirror/open-mmlab+mmaction2/repo'
# the demo config's pipeline at 32 x 32 with 4-frame windows
DEMO_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Transpose', keys=[], order=[]),
    dict(type='Resize', scale=(-1, 36), interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    if not osp.isfile(DEMO_VIDEO):
        pytest.skip('../shared/data/videos/demo.mp4 is not available')
    root = tmp_path_factory.mktemp('mmaction_demos')
    env = dict(os.environ, T4V_CACHE_DIR=str(root / 'cache'),
               PYTHONWARNINGS='ignore')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('T4V_CACHE_DIR', env['T4V_CACHE_DIR'])
        labels = write_label_file(root / 'labels.txt', NAMES)
        config = write_tiny_config(root, labels, base=DEMO_CONFIG,
                                   test_pipeline=DEMO_PIPELINE)
        torch.manual_seed(0)
        checkpoint = save_random_checkpoint(init_recognizer(config),
                                            root / 'ckpt.pth')
        yield dict(root=root, env=env, labels=labels, config=config,
                   checkpoint=checkpoint)


def run(args, env, cwd=REPO):
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _mmaction_surgery(pipeline, insert_array_decode):
    """What mmaction2 1.2.0's long-video (``insert_array_decode``) and webcam
    demos do to a test pipeline."""
    excluded = ('OpenCVInit', 'OpenCVDecode', 'DecordInit', 'DecordDecode',
                'PyAVInit', 'PyAVDecode', 'RawFrameDecode')
    steps = [s for s in pipeline if 'SampleFrames' not in s['type']
             and s['type'] not in excluded]
    if insert_array_decode:
        steps.insert(1, dict(type='ArrayDecode'))
    return Compose(steps)


def test_demo_config_pipeline_works_with_mmaction_demos():
    cfg = Config.fromfile(DEMO_CONFIG)
    sampler = [s for s in cfg.test_pipeline if 'SampleFrames' in s['type']]
    assert [s['type'] for s in sampler] == ['SampleFrames']
    assert sampler[0]['clip_len'] * sampler[0]['num_clips'] == 8
    gen = np.random.default_rng(0)
    window = list(gen.integers(0, 256, (4, 48, 64, 3), dtype=np.uint8))
    meta = dict(modality='RGB', label=-1, num_clips=1, clip_len=4,
                img_shape=(48, 64))
    long_video = _mmaction_surgery(DEMO_PIPELINE, True)(
        dict(meta, array=window, frame_inds=np.arange(4)))
    webcam = _mmaction_surgery(DEMO_PIPELINE, False)(dict(meta, imgs=window))
    # reference: resize the short side to 36 (48x64 -> 36x48), crop 32
    import mmcv
    expected = np.stack([
        mmcv.imresize(f, (48, 36), interpolation='bicubic')[2:34, 8:40]
        for f in window
    ]).transpose(3, 0, 1, 2)[None]  # (1, 3, T, 32, 32)
    for result in (long_video, webcam):
        assert result['inputs'].shape == (1, 3, 4, 32, 32)
        np.testing.assert_array_equal(result['inputs'].numpy(), expected)
    # without the placeholder step, long_video_demo.py skips the resize
    unresized = _mmaction_surgery(
        [s for s in DEMO_PIPELINE if s['type'] != 'Transpose'], True)(
            dict(meta, array=window, frame_inds=np.arange(4)))
    assert not np.array_equal(unresized['inputs'].numpy(), expected)
    # the shipped config has the same steps as the tiny one
    assert [s['type'] for s in cfg.test_pipeline] == \
        [s['type'] for s in DEMO_PIPELINE]


def test_mmaction_long_video_demo_end_to_end(setup):
    import cv2
    script = setup['root'] / 'long_video_demo.py'
    try:
        source = subprocess.run(
            ['git', '-C', MMACTION2_MIRROR, 'show',
             'v1.2.0:demo/long_video_demo.py'],
            capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('the mmaction2 mirror (for demo/long_video_demo.py) is '
                    'not available')
    script.write_bytes(source)
    clip = str(setup['root'] / 'clip.mp4')  # the first 24 frames
    cap = cv2.VideoCapture(DEMO_VIDEO)
    ok, frame = cap.read()
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                             frame.shape[1::-1])
    for _ in range(24):
        writer.write(frame)
        ok, frame = cap.read()
    writer.release()
    out = setup['root'] / 'long.json'
    run([
        str(script), setup['config'], setup['checkpoint'], clip,
        setup['labels'],
        str(out), '--device', 'cpu', '--stride', '1', '--threshold', '0',
        '--cfg-options', 'model.cls_head.test_logit_scale=1.0'
    ], setup['env'])
    frames = json.loads(out.read_text())
    assert len(frames) == 24
    assert frames['1'] == 'Preparing action recognition ...'
    shown = {
        name: float(score)
        for name, score in (text.rsplit(': ', 1)
                            for text in frames['24'].values())
    }
    # windows of 4 frames, one every 4 (--stride 1): frame 24 shows the
    # scores of frames 20-23
    cap = cv2.VideoCapture(clip)
    window = [cap.read()[1][..., ::-1] for _ in range(24)][20:]
    inputs = _mmaction_surgery(DEMO_PIPELINE, True)(
        dict(modality='RGB', label=-1, img_shape=window[0].shape[:2],
             num_clips=1, clip_len=4,
             array=window, frame_inds=np.arange(4)))
    model = init_recognizer(
        setup['config'], setup['checkpoint'],
        cfg_options=dict(model=dict(cls_head=dict(test_logit_scale=1.0))))
    with torch.no_grad():
        scores = model.test_step(pseudo_collate([inputs]))[0].pred_score
    assert shown == pytest.approx(dict(zip(NAMES, scores.tolist())),
                                  abs=0.0051)
