from setuptools import find_packages, setup


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


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
    python_requires='>=3.9',
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
        # transformers 5 removed an API mmaction.models.multimodal imports.
        'transformers>=4.30,<5',
        'open_clip_torch>=2.20',
        'decord>=0.6.0',
        'scikit-learn>=1.2',
        'matplotlib',
        'tqdm',
    ],
    extras_require={
        'tests': ['pytest', 'hypothesis'],
        'deploy': ['onnx', 'onnxruntime'],
    },
)
