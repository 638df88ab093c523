"""The fixes that must hold whatever is imported first: registered at
interpreter start (``t4v_mmaction-hooks.pth``), before any mmaction2 tool
imports ``mmaction.models`` or parses a config. Each negative case runs with
the start-up registration off (``T4V_MMACTION_NO_HOOKS=1``) and shows the
upstream breakage the fix absorbs."""
import os
import subprocess
import sys
import textwrap
import types

import pytest
import torch

from t4v_mmaction.compat import package_utils, transformers_api

TIMEOUT_S = 300


def python(code: str, hooks: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env.pop('T4V_MMACTION_NO_HOOKS', None)
    if not hooks:
        env['T4V_MMACTION_NO_HOOKS'] = '1'
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, cwd='/')


def test_start_up_registers_the_hooks_and_imports_nothing_heavy():
    proc = python('''
        import sys
        print('_t4v_mmaction_hooks' in sys.modules,
              any(m in sys.modules for m in ('torch', 'mmengine',
                                             'mmaction', 't4v_mmaction')))
    ''')
    assert proc.stdout.split() == ['True', 'False'], proc.stderr


def test_mmaction_models_imports_first_without_the_plugin():
    """The 1.2.0 wheel lacks mmaction.models.localizers.drn
    (open-mmlab/mmaction2#2714): with the start-up hooks, mmaction2's tools
    that import mmaction.models before any config work."""
    code = '''
        import mmaction.models
        from mmaction.localizers import DRN
        print('ok')
    '''.replace('mmaction.localizers', 'mmaction.models.localizers')
    assert python(code).stdout.strip() == 'ok'
    import mmaction
    drn = os.path.join(os.path.dirname(mmaction.__file__), 'models',
                       'localizers', 'drn', 'drn.py')
    if os.path.exists(drn):
        pytest.skip('this mmaction2 is a source install: it has drn')
    broken = python(code, hooks=False)
    assert 'No module named' in broken.stderr and 'drn' in broken.stderr


def test_mmaction_bases_load_without_pkg_resources():
    """setuptools >= 82 has no pkg_resources, which mmengine 0.10.7 uses to
    find mmaction2's configs (`_base_ = 'mmaction::...'`)."""
    code = '''
        import sys, tempfile, os
        sys.modules['pkg_resources'] = None  # as with setuptools >= 82
        from mmengine.config import Config
        path = os.path.join(tempfile.mkdtemp(), 'cfg.py')
        with open(path, 'w') as f:
            f.write("_base_ = 'mmaction::_base_/default_runtime.py'\\n")
        print(Config.fromfile(path).default_scope)
    '''
    proc = python(code)
    assert proc.stdout.strip() == 'mmaction', proc.stderr[-2000:]
    broken = python(code, hooks=False)
    assert 'pkg_resources' in broken.stderr


def test_package_utils_without_pkg_resources(monkeypatch):
    import mmaction
    assert package_utils.is_installed('mmaction2')
    assert package_utils.is_installed('os')  # a module, not a distribution
    assert not package_utils.is_installed('no-such-package-t4v')
    assert package_utils.get_installed_path('mmaction2') == os.path.dirname(
        mmaction.__file__)
    assert package_utils.package2module('mmaction2') == 'mmaction'
    fake = types.ModuleType('mmengine.utils.package_utils')
    fake.is_installed = lambda package: 'original'
    monkeypatch.setattr(package_utils.importlib.util, 'find_spec',
                        lambda name: None if name == 'pkg_resources' else
                        object())
    package_utils.patch_package_utils(fake)
    assert fake.is_installed is package_utils.is_installed


def test_vindlu_imports_with_transformers_that_moved_its_helpers():
    """transformers >= 4.56 no longer re-exports apply_chunking_to_forward
    and prune_linear_layer from modeling_utils, and 5.0 removed
    find_pruneable_heads_and_indices: mmaction2's VindLU imports all three
    from there. Removed here by hand, as a newer transformers has them."""
    code = '''
        import transformers.modeling_utils as m
        for name in ('apply_chunking_to_forward', 'prune_linear_layer',
                     'find_pruneable_heads_and_indices'):
            if hasattr(m, name):
                delattr(m, name)
        FIX
        import mmaction.models.multimodal.vindlu.modeling_bert
        print('ok')
    '''
    fix = ('from _t4v_mmaction_hooks import compat_module; '
           "compat_module('transformers_api')"
           '.restore_modeling_utils_exports(m)')
    assert python(code.replace('FIX', fix)).stdout.strip() == 'ok'
    broken = python(code.replace('FIX', ''))
    assert 'cannot import name' in broken.stderr


def test_find_pruneable_heads_and_indices():
    heads, index = transformers_api.find_pruneable_heads_and_indices(
        [0, 2], n_heads=4, head_size=2, already_pruned_heads={1})
    # head 1 is gone already, so head 2 is now row 1: rows 0 and 1 go
    assert heads == {0, 2}
    assert index.tolist() == [4, 5, 6, 7]
    module = types.ModuleType('transformers.modeling_utils')
    transformers_api.restore_modeling_utils_exports(module)
    from transformers import pytorch_utils
    assert module.apply_chunking_to_forward is \
        pytorch_utils.apply_chunking_to_forward
    assert callable(module.find_pruneable_heads_and_indices)


def test_amp_recipe_falls_back_to_fp32_on_the_cpu():
    """mmengine's AmpOptimWrapper asserts a GPU; the shipped recipes (and
    mmaction2's `--amp`) then train in fp32 on the CPU, with a log line."""
    if torch.cuda.is_available():
        pytest.skip('AMP works here')
    from mmengine.optim import OptimWrapper, build_optim_wrapper
    model = torch.nn.Linear(2, 2)
    wrapper = build_optim_wrapper(model, dict(
        type='AmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    assert type(wrapper) is OptimWrapper
    loss = model(torch.ones(1, 2)).sum()
    wrapper.update_params(loss)
    code = '''
        import torch
        from mmengine.optim import build_optim_wrapper
        build_optim_wrapper(torch.nn.Linear(2, 2), dict(
            type='AmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    '''
    broken = python(code, hooks=False)  # without importing t4v_mmaction
    assert 'only available training on gpu' in broken.stderr
