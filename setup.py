import os.path as osp

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

#: Runs ``_t4v_mmaction_hooks`` at interpreter start (see that module).
HOOKS_PTH = 't4v_mmaction-hooks.pth'


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


class BuildPyWithHooks(build_py):
    """Also install ``t4v_mmaction-hooks.pth`` into site-packages: in a
    wheel next to the package, in an editable install into the editable
    wheel (whose files setuptools puts in ``install_lib``)."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            target = self.get_finalized_command('install').install_lib
        else:
            target = self.build_lib
        self.copy_file(HOOKS_PTH, osp.join(target, HOOKS_PTH))


def version():
    scope = {}
    with open('t4v_mmaction/version.py', encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='t4v-mmaction',
    version=version(),
    description='Text4Vis (frozen text classifiers for CLIP video models) '
    'as an mmaction2 plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(include=['t4v_mmaction', 't4v_mmaction.*']),
    py_modules=['_t4v_mmaction_hooks'],
    cmdclass={'build_py': BuildPyWithHooks},
    python_requires='>=3.10',
    install_requires=[
        # torch.serialization.add_safe_globals (safe checkpoint loading)
        'torch>=2.4',
        'torchvision>=0.16',
        'mmengine>=0.10.4,<1.0',
        'mmaction2>=1.2.0,<1.3',
        # mmcv (or mmcv-lite, 2.0.0rc4 <= v < 2.2.0) is not listed: pip would
        # put mmcv-lite beside an existing full mmcv and break both. The
        # package checks for one on import; requirements/pinned.txt pins it.
        # mmaction.models.multimodal imports it but mmaction2 does not declare it.
        'importlib_metadata',
        # 4.56 and 5.x moved APIs mmaction2's VindLU imports; absorbed in
        # t4v_mmaction/compat/transformers_api.py
        'transformers>=4.30',
        'open_clip_torch>=2.20',
        'decord>=0.6.0',
        'scikit-learn>=1.2',
        'matplotlib',
        'tqdm',
    ],
    extras_require={
        'tests': ['pytest', 'hypothesis'],
        'deploy': ['onnx', 'onnxruntime'],
        # ExactPyAVInit / ExactPyAVDecode, tools/data/reencode_videos.py
        'pyav': ['av>=12'],
    },
)
