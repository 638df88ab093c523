"""demo/demo.py in both label modes (--label-file as a subprocess,
--classes in-process), with a tiny random-weight model on the demo video."""
import os
import os.path as osp
import re
import runpy
import subprocess
import sys

import numpy as np
import pytest
import torch
from _tiny_inference import (DEMO_VIDEO, REPO, save_random_checkpoint,
                             write_label_file, write_tiny_config)

from t4v_mmaction.apis import classify_video, init_recognizer

NAMES = ['arm wrestling', 'playing guitar', 'riding a bike']
LINE = re.compile(r'^\s*(\d+)\s+(\d\.\d{4})\s+(.+)$')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    if not osp.isfile(DEMO_VIDEO):
        pytest.skip('../shared/data/videos/demo.mp4 is not available')
    root = tmp_path_factory.mktemp('demo')
    env = dict(os.environ, T4V_CACHE_DIR=str(root / 'cache'),
               PYTHONWARNINGS='ignore')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('T4V_CACHE_DIR', env['T4V_CACHE_DIR'])
        labels = write_label_file(root / 'labels.txt', NAMES)
        config = write_tiny_config(root, labels)
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


def predictions(stdout):
    return [(int(m[1]), float(m[2]), m[3].strip())
            for m in map(LINE.match, stdout.splitlines()) if m]


def test_demo_label_file_mode_and_output_video(setup):
    import cv2
    out = setup['root'] / 'out.mp4'
    stdout = run([
        'demo/demo.py', DEMO_VIDEO, setup['config'], setup['checkpoint'],
        '--label-file', setup['labels'], '--top-k', '3', '--out', str(out),
        '--cfg-options', 'model.cls_head.test_logit_scale=1.0'
    ], setup['env'])
    preds = predictions(stdout)
    assert [rank for rank, _, _ in preds] == [1, 2, 3]
    assert sorted(name for _, _, name in preds) == sorted(NAMES)
    scores = [score for _, score, _ in preds]
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) == pytest.approx(1, abs=2e-4)
    model = init_recognizer(setup['config'], setup['checkpoint'],
                            cfg_options=dict(model=dict(cls_head=dict(
                                test_logit_scale=1.0))))
    expected = classify_video(model, DEMO_VIDEO, top_k=3)
    assert [(n, round(s, 4)) for n, s in expected] == \
        [(n, s) for _, s, n in preds]
    source, written = cv2.VideoCapture(DEMO_VIDEO), cv2.VideoCapture(str(out))
    for prop in (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_WIDTH,
                 cv2.CAP_PROP_FRAME_HEIGHT):
        assert written.get(prop) == source.get(prop) > 0
    ok, frame = written.read()
    ok_src, frame_src = source.read()
    assert ok and ok_src
    # the text is drawn top-left; the rest of the frame is the video
    h, w = frame.shape[:2]
    top_left = np.abs(frame[:h // 4, :w // 2].astype(int) -
                      frame_src[:h // 4, :w // 2]).mean()
    bottom = np.abs(frame[h // 2:].astype(int) - frame_src[h // 2:]).mean()
    assert top_left > bottom + 2


def test_demo_classes_mode_random_weights(setup, monkeypatch, capsys):
    # in-process (runpy) to spare a second ~15 s interpreter start-up
    classes = ['juggling balls', 'arm wrestling']
    monkeypatch.setenv('T4V_CACHE_DIR', setup['env']['T4V_CACHE_DIR'])
    monkeypatch.setattr(sys, 'argv', [
        'demo.py', DEMO_VIDEO, setup['config'], 'none', '--classes',
        *classes, '--top-k', '5'
    ])
    runpy.run_path(osp.join(REPO, 'demo', 'demo.py'), run_name='__main__')
    preds = predictions(capsys.readouterr().out)
    assert [rank for rank, _, _ in preds] == [1, 2]
    assert sorted(name for _, _, name in preds) == sorted(classes)
