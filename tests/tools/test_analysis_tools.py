"""The comparison tool's regression mode (this tree against itself: same
weights, same inputs, so identical logits) and the data-pipeline throughput
tool, both with tiny settings."""
import json
import os
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
    pytest.importorskip('av')
    out = tmp_path / 'tp.json'
    proc = run_tool(
        osp.join(ANALYSIS, 'pipeline_throughput.py'), TOY_CFG, '--generate',
        '1', '--gen-size', '96x64', '--gen-frames', '24', '--passes', '1',
        '--reencode', '4', '--workers', '1', '--json', str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    rows = result['throughput']['all']
    assert set(rows) == {'accurate', 'exact-pyav', 'efficient', 'scaled',
                         'scaled-efficient', 'guarded', 'g4/accurate',
                         'g4/exact-pyav'}
    assert rows['accurate']['gain'] == 1.0
    for exact in ('accurate', 'exact-pyav', 'guarded', 'g4/accurate',
                  'g4/exact-pyav'):  # frame-exact (copies: vs the copies)
        assert rows[exact]['exact_frames'] == 1.0, exact
    for row in rows.values():
        assert row['videos_per_s'] > 0
        assert 0.0 <= row['exact_frames'] <= 1.0
    (copies, ) = result['copies']
    assert copies['gop'] == 4 and copies['size_ratio'] > 0
    assert set(result['loader']['1 workers']) == {
        'accurate', 'exact-pyav', 'g4/accurate', 'g4/exact-pyav',
        'accurate, normalised in the workers'}
    assert all(v > 0 for v in result['loader']['1 workers'].values())


def test_gpu_benchmark_script_names_existing_configs_and_options():
    script = osp.join(ANALYSIS, 'gpu_benchmarks.sh')
    assert subprocess.run(['bash', '-n', script]).returncode == 0
    text = open(script).read()
    k400 = re.search(r'^K400=(\S+)$', text, re.M).group(1)
    configs = re.findall(r'^\w+=\$K400/(\S+)$', text, re.M)
    assert len(configs) == 4
    for name in configs:
        assert osp.isfile(osp.join(REPO, k400, name)), name
    calls = {
        'benchmark.py': re.findall(r'^bench .*?(?<!\\)$', text,
                                   re.M | re.S),
        'compare_original.py': [text.split('compare_original.py')[1].split(
            '\nfi')[0]],
        'pipeline_throughput.py': [text.split('pipeline_throughput.py')[1]
                                   .split('\n"$PYTHON"')[0].split(
                                       '\nfor ')[0]],
    }
    for tool, chunks in calls.items():
        usage = run_tool(osp.join(ANALYSIS, tool), '--help').stdout
        options = set(re.findall(r' (--[a-z0-9-]+)', ' '.join(chunks)))
        assert options, tool
        for option in options:
            assert option in usage, (tool, option)


def test_gpu_benchmark_script_runs_on_the_cpu(tmp_path):
    """Every step of the script at toy sizes on the CPU (SMOKE=1): the
    script itself works where no GPU is lent; (c) is skipped."""
    pytest.importorskip('av')
    env = dict(os.environ, DEVICE='cpu', SMOKE='1', PYTHON=sys.executable)
    proc = subprocess.run(
        ['bash', osp.join(ANALYSIS, 'gpu_benchmarks.sh'), str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert sum('videos/s (median' in line for line in lines) == 10
    assert sum(line.startswith('end to end (') for line in lines) == 2
    assert 'from videos, ' in proc.stdout and 'MFU ' in proc.stdout
    assert '(c) FSDP ViT-L/14-336: needs CUDA, skipped on cpu' in lines
    for name in ('vit-b16_train-bf16', 'vit-b16_train-bf16_videos-decord',
                 'vit-b16_train-bf16_videos-exact-pyav'):
        record = json.loads((tmp_path / f'{name}.json').read_text())
        assert record['videos_per_s'] > 0
