"""The comparison tool's regression mode (this tree against itself: same
weights, same inputs, so identical logits) and the data-pipeline throughput
tool, both with tiny settings."""
import json
import os.path as osp
import re
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ANALYSIS = osp.join(REPO, 'tools', 'analysis')
TOY_CFG = osp.join(REPO, 'configs', 'toy',
                   'text4vis_tiny-vit-ttrans_1xb16-seg8-36e_toy-rgb.py')


def run_tool(*args, timeout=600):
    return subprocess.run([sys.executable, *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout)


def test_compare_regression_mode_against_this_tree(tmp_path):
    out = tmp_path / 'compare.json'
    proc = run_tool(
        osp.join(ANALYSIS, 'compare_original.py'), '--reference-tree', REPO,
        '--arch', 'tiny', '--num-frames', '2', '--num-classes', '5',
        '--repeats', '2', '--warmup', '0', '--threads', '1', '--settings',
        'infer-fp32', 'train-nocp', '--no-memory', '--json', str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result['fp32_logits_max_abs_diff'] == 0.0
    assert set(result['comparisons']) == {'infer-fp32', 'train-nocp'}
    for row in result['comparisons'].values():
        assert row['speedup'] > 0
    assert len(result['runs']['current/infer-fp32']['all_s']) == 2
    assert '| infer-fp32 |' in proc.stdout


def test_compare_names_a_wrong_original_checkout(tmp_path):
    proc = run_tool(
        osp.join(ANALYSIS, 'compare_original.py'), '--original',
        str(tmp_path))
    assert proc.returncode != 0
    assert 'clip/model.py not found' in proc.stderr


def test_pipeline_throughput_variants_and_exactness(tmp_path):
    pytest.importorskip('cv2')
    out = tmp_path / 'tp.json'
    proc = run_tool(
        osp.join(ANALYSIS, 'pipeline_throughput.py'), TOY_CFG, '--generate',
        '1', '--gen-size', '96x64', '--gen-frames', '24', '--passes', '1',
        '--json', str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())['throughput']['all']
    assert set(rows) == {'accurate', 'efficient', 'scaled',
                         'scaled-efficient', 'guarded'}
    assert rows['accurate']['exact_frames'] == 1.0
    assert rows['guarded']['exact_frames'] == 1.0
    assert rows['accurate']['gain'] == 1.0
    for row in rows.values():
        assert row['videos_per_s'] > 0
        assert 0.0 <= row['exact_frames'] <= 1.0


def test_gpu_benchmark_script_names_existing_configs_and_options():
    script = osp.join(ANALYSIS, 'gpu_benchmarks.sh')
    assert subprocess.run(['bash', '-n', script]).returncode == 0
    text = open(script).read()
    k400 = re.search(r'^K400=(\S+)$', text, re.M).group(1)
    configs = re.findall(r'^\w+=\$K400/(\S+)$', text, re.M)
    assert len(configs) == 3
    for name in configs:
        assert osp.isfile(osp.join(REPO, k400, name)), name
    benches, compare = text.split('bench()')[1].split('if [ -n')
    for tool, calls in (('benchmark.py', benches),
                        ('compare_original.py', compare)):
        usage = run_tool(osp.join(ANALYSIS, tool), '--help').stdout
        for option in set(re.findall(r' (--[a-z0-9-]+)', calls)):
            assert option in usage, (tool, option)
