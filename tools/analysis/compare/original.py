"""The original Text4Vis implementation, imported from a checkout at run
time (nothing of it is copied) and built with random weights.

``clip/__init__.py`` is skipped: it needs tokenizer packages, and only the
visual tower and the video header are compared.
"""
import contextlib
import importlib
import os.path as osp
import sys
import types

# files of a checkout of https://github.com/whwu95/Text4Vis that are used
NEEDED = ('clip/model.py', 'modules/video_clip.py',
          'modules/temporal_modeling.py')


def check_original(root: str) -> str:
    """The absolute path of a Text4Vis checkout.

    Args:
        root (str): The checkout (``~`` is expanded).

    Returns:
        str: ``root``, absolute.

    Raises:
        FileNotFoundError: A file the comparison needs is missing.
    """
    root = osp.abspath(osp.expanduser(root))
    for sub in NEEDED:
        if not osp.isfile(osp.join(root, sub)):
            raise FileNotFoundError(
                f'--original {root}: {sub} not found; expected a checkout of '
                'https://github.com/whwu95/Text4Vis')
    return root


def import_original(root: str) -> types.SimpleNamespace:
    """Import the original ``clip.model`` and ``modules.video_clip`` from a
    Text4Vis checkout, without running ``clip/__init__.py``.

    Args:
        root (str): The checkout (see :func:`check_original`).

    Returns:
        types.SimpleNamespace: ``clip_model`` and ``video_clip``, the two
        modules.
    """
    root = check_original(root)
    sys.path.insert(0, root)
    package = types.ModuleType('clip')
    package.__path__ = [osp.join(root, 'clip')]
    sys.modules['clip'] = package  # skips clip/__init__ (tokenizer deps)
    return types.SimpleNamespace(
        clip_model=importlib.import_module('clip.model'),
        video_clip=importlib.import_module('modules.video_clip'))


def text_width(arch: dict) -> int:
    """Width of the (unused) text tower that gives the original's T-Trans
    as many heads as ours (``embed_dim // 64``, at least 1)."""
    return 64 * max(arch['embed_dim'] // 64, 1)


def build_original(spec: dict, orig: types.SimpleNamespace):
    """The original ``VideoCLIP`` (visual tower + video header), randomly
    initialised; its prints go to stderr.

    Args:
        spec (dict): The worker's spec (``arch``, ``head``,
            ``backbone_temporal``, ``num_frames``; see
            :class:`compare.worker.Worker`).
        orig (types.SimpleNamespace): From :func:`import_original`.

    Returns:
        nn.Module: ``VideoCLIP``; ``encode_image`` maps ``(B * T, 3, S, S)``
        frames to ``(B, embed_dim)`` video embeddings.
    """
    arch = spec['arch']
    width = text_width(arch)
    with contextlib.redirect_stdout(sys.stderr):
        clip = orig.clip_model.CLIP(
            arch['embed_dim'], arch['image_size'], arch['layers'],
            arch['width'], arch['patch_size'], 77, 1, width, width // 64, 1,
            tm=spec['backbone_temporal'], T=spec['num_frames'])
        header = orig.video_clip.video_header(
            'Transf' if spec['head'] == 'transf' else 'None',
            clip.state_dict())
        model = orig.video_clip.VideoCLIP(clip, header, spec['num_frames'])
    return model
