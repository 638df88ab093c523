"""tools/deployment/export_onnx.py: a tiny random-weight model with a new
label set, 2 views, checked with onnxruntime against the PyTorch recognizer
at several batch sizes."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from _tiny_inference import (REPO, save_random_checkpoint, write_label_file,
                             write_tiny_config)
from mmaction.structures import ActionDataSample

from t4v_mmaction.apis import init_recognizer

TOOL = osp.join(REPO, 'tools', 'deployment', 'export_onnx.py')
CLASSES = ['juggling balls', 'knitting', 'surfing water', 'yoga']
FLAT = 'model.cls_head.test_logit_scale=1.0'  # no saturated softmax


def test_export_verify_and_compare_with_test_step(tmp_path, monkeypatch):
    ort = pytest.importorskip('onnxruntime')
    onnx = pytest.importorskip('onnx')
    monkeypatch.setenv('T4V_CACHE_DIR', str(tmp_path / 'cache'))
    labels = write_label_file(tmp_path / 'labels.txt', ['a', 'b', 'c'])
    config = write_tiny_config(tmp_path, labels)
    torch.manual_seed(0)
    checkpoint = save_random_checkpoint(init_recognizer(config),
                                        tmp_path / 'ckpt.pth')
    out = str(tmp_path / 'model.onnx')
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    proc = subprocess.run([
        sys.executable, TOOL, config, checkpoint, out, '--views', '2',
        '--classes', *CLASSES, '--verify', '--cfg-options', FLAT
    ], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'frames (N, 2, 3, 4, 32, 32) -> probs (N, 4)' in proc.stdout
    verify = [ln for ln in proc.stdout.splitlines() if ln.startswith(
        'verify:')]
    assert len(verify) == 1 and verify[0].endswith('(OK, tolerance 0.0001)')

    graph = onnx.load(out)
    onnx.checker.check_model(graph)
    meta = {p.key: p.value for p in graph.metadata_props}
    assert json.loads(meta['class_names']) == CLASSES
    assert meta['view_fusion'] == 'embedding'
    # the classifier is a constant, not an input
    assert [i.name for i in graph.graph.input] == ['frames']

    model = init_recognizer(
        config, checkpoint, class_names=CLASSES,
        cfg_options=dict(model=dict(cls_head=dict(test_logit_scale=1.0))))
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    gen = torch.Generator().manual_seed(1)
    for batch in (1, 5):
        frames = torch.randint(0, 256, (batch, 2, 3, 4, 32, 32),
                               generator=gen).float()
        probs = session.run(None, {'frames': frames.numpy()})[0]
        with torch.no_grad():
            results = model.test_step(
                dict(inputs=list(frames),
                     data_samples=[ActionDataSample()
                                   for _ in range(batch)]))
        expected = torch.stack([r.pred_score for r in results]).numpy()
        assert probs.shape == (batch, 4)
        np.testing.assert_allclose(probs, expected, atol=1e-5)
        assert probs.std(axis=1).min() > 1e-4  # not saturated or uniform
