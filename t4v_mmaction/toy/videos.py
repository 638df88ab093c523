"""A procedurally generated, compositional toy video dataset.

Every clip shows one coloured shape doing one motion ("a red circle moving to
the left") over a cluttered, noisy background that also holds a static
distractor shape of another colour. Class names are natural-language
compositions of three attributes (colour, shape, motion), so their text
embeddings share structure exactly where the videos do; some compositions
are held out for zero-shot evaluation by swapping in their text classifier.

The split rule (documented in :func:`toy_classes`) is a Latin-square
diagonal: with the default vocabulary (3 colours x 3 shapes x 6 motions) it
holds out 18 of the 54 compositions, and every colour-shape, colour-motion
and shape-motion pair of a held-out class also appears in some seen class.

Left/right, up/down and growing/shrinking are time reversals of each other,
so a model whose temporal module ignores frame order (mean pooling) cannot
tell them apart; one with temporal position embeddings can.

Rendering is pure numpy/OpenCV and seeded per clip, so the same seed gives
the same frames whatever the number of worker processes. Layout written by
:func:`make_toy_dataset` under ``out_dir``::

    videos/{train,val,zeroshot}/<class_slug>/<index>.mp4
    train_list.txt, val_list.txt     # "<path under videos/> <label>", seen
    zeroshot_list.txt                # same, labels index classes_unseen.txt
    classes_seen.txt, classes_unseen.txt   # line i = name of label i
    manifest.json                    # settings, counts, vocabulary

so an mmaction2 ``VideoDataset`` reads it with
``data_prefix=dict(video=out_dir + '/videos')``.
"""
import json
import multiprocessing
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

#: RGB of every colour the renderer knows; distractors use these too.
COLOR_RGB: Dict[str, Tuple[int, int, int]] = {
    'red': (220, 40, 40),
    'green': (40, 190, 60),
    'blue': (50, 90, 235),
    'yellow': (235, 215, 50),
}
SHAPES = ('circle', 'square', 'triangle')
MOTIONS = ('moving to the left', 'moving to the right', 'moving up',
           'moving down', 'growing', 'shrinking', 'spinning')

DEFAULT_COLORS = ('red', 'green', 'blue')
DEFAULT_SHAPES = SHAPES
DEFAULT_MOTIONS = MOTIONS[:6]

MANIFEST = 'manifest.json'
#: Marks the manifests of this generator (only their files are replaced)
GENERATOR = 't4v_mmaction.toy'
FORMAT_VERSION = 2
SPLITS = ('train', 'val', 'zeroshot')

Composition = Tuple[str, str, str]

# Unit direction (dx, dy) of each translation, image y pointing down.
_DIRECTIONS = {
    'moving to the left': (-1.0, 0.0),
    'moving to the right': (1.0, 0.0),
    'moving up': (0.0, -1.0),
    'moving down': (0.0, 1.0),
}
# Circumradius of each shape when its area is pi * r**2 (r = 1): the three
# shapes have equal areas, so area alone never tells them apart.
_CIRCUMRADIUS = {
    'circle': 1.0,
    'square': np.sqrt(np.pi / 2),
    'triangle': np.sqrt(4 * np.pi / (3 * np.sqrt(3))),
}
_BOUND = max(_CIRCUMRADIUS.values())  # placement margin, same for all shapes
# decord 0.6.0 decodes mp4v clips of these widths with a wrong channel
# count (dmlc/decord#336, #93); other even sizes from 32 to 512 decode fine.
_DECORD_BAD_SIZES = (48, 72)
_SUBPIXEL_BITS = 4
_NOISE_STD = 4.0  # camera noise, per pixel and frame


def _check_vocabulary(values: Sequence[str], known: Sequence[str],
                      what: str) -> None:
    if len(values) < 2 or len(set(values)) != len(values):
        raise ValueError(f'{what} must be at least 2 distinct values, '
                         f'got {list(values)}')
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(f'unknown {what} {unknown}; known: {list(known)}')


def toy_classes(colors: Sequence[str] = DEFAULT_COLORS,
                shapes: Sequence[str] = DEFAULT_SHAPES,
                motions: Sequence[str] = DEFAULT_MOTIONS,
                holdout: int = 3
                ) -> Tuple[List[Composition], List[Composition]]:
    """Split the composition grid into seen and unseen (zero-shot) classes.

    The grid is every ``(color, shape, motion)``, in that nesting order,
    except a spinning circle (which looks still). A composition with
    vocabulary indices ``(i, j, k)`` is unseen when ``(i + j + k) % holdout
    == 0``. Along any one attribute consecutive values fall in different
    residues, so each pair of attribute values of an unseen class is also
    shown in some seen class (checked; a ValueError says which pair is
    not). Defaults give 36 seen and 18 unseen classes, e.g. "a blue triangle
    moving up" is unseen while "a blue triangle moving down", "a blue square
    moving up" and "a green triangle moving up" are seen.

    Args:
        colors (Sequence[str]): Keys of :data:`COLOR_RGB`.
            Defaults to ``DEFAULT_COLORS``.
        shapes (Sequence[str]): Values of :data:`SHAPES`.
            Defaults to ``DEFAULT_SHAPES``.
        motions (Sequence[str]): Values of :data:`MOTIONS`.
            Defaults to ``DEFAULT_MOTIONS``.
        holdout (int): One composition in ``holdout`` is unseen.
            Defaults to 3.

    Returns:
        tuple[list, list]: Seen and unseen ``(color, shape, motion)``
        triples, each in grid order (the order of the label indices).
    """
    _check_vocabulary(colors, tuple(COLOR_RGB), 'colors')
    _check_vocabulary(shapes, SHAPES, 'shapes')
    _check_vocabulary(motions, MOTIONS, 'motions')
    if holdout < 2:
        raise ValueError(f'holdout must be >= 2, got {holdout}')
    seen, unseen = [], []
    for i, color in enumerate(colors):
        for j, shape in enumerate(shapes):
            for k, motion in enumerate(motions):
                if shape == 'circle' and motion == 'spinning':
                    continue
                part = unseen if (i + j + k) % holdout == 0 else seen
                part.append((color, shape, motion))
    shown = {pair for c in seen for pair in _attribute_pairs(c)}
    for comp in unseen:
        missing = [p for p in _attribute_pairs(comp) if p not in shown]
        if missing:
            raise ValueError(f'unseen class {class_name(*comp)!r} combines '
                             f'{missing}, never shown in a seen class; '
                             'change the vocabulary or holdout')
    return seen, unseen


def _attribute_pairs(comp: Composition) -> List[Tuple[int, str, str]]:
    color, shape, motion = comp
    return [(0, color, shape), (1, color, motion), (2, shape, motion)]


def class_name(color: str, shape: str, motion: str) -> str:
    """Natural-language class name, e.g. ``'a red circle moving up'``."""
    return f'a {color} {shape} {motion}'


def toy_class_names(colors: Sequence[str] = DEFAULT_COLORS,
                    shapes: Sequence[str] = DEFAULT_SHAPES,
                    motions: Sequence[str] = DEFAULT_MOTIONS,
                    holdout: int = 3) -> Tuple[List[str], List[str]]:
    """Names of the seen and unseen classes, in label order.

    Args are those of :func:`toy_classes`.

    Returns:
        tuple[list[str], list[str]]: Seen names (label i = item i) and
        unseen names.
    """
    seen, unseen = toy_classes(colors, shapes, motions, holdout)
    return ([class_name(*c) for c in seen], [class_name(*c) for c in unseen])


def _sample_object(motion: str, rng: np.random.Generator, t: np.ndarray,
                   size: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray,
                                       np.ndarray]:
    """Per-frame centre x, centre y, radius and angle of the moving object.

    Radii are equal-area radii; placement keeps the whole object inside the
    frame for every shape, so position never leaks the shape.
    """
    angle0 = rng.uniform(-15, 15)
    angle = np.full_like(t, angle0)
    if motion in ('growing', 'shrinking'):
        r0, gain = rng.uniform(0.07, 0.09) * size, rng.uniform(1.8, 2.2)
        power = t if motion == 'growing' else 1 - t
        radius = r0 * gain**power  # geometric growth: constant rate
        lo, hi = _BOUND * r0 * gain + 1, size - 2 - _BOUND * r0 * gain
        cx, cy = rng.uniform(lo, hi, 2)
        return np.full_like(t, cx), np.full_like(t, cy), radius, angle
    radius = np.full_like(t, rng.uniform(0.12, 0.16) * size)
    lo, hi = _BOUND * radius[0] + 1, size - 2 - _BOUND * radius[0]
    if motion == 'spinning':
        cx, cy = rng.uniform(lo, hi, 2)
        turn = rng.uniform(120, 200) * rng.choice((-1, 1))
        return (np.full_like(t, cx), np.full_like(t, cy), radius,
                angle0 + turn * t)
    dx, dy = _DIRECTIONS[motion]
    travel, drift = rng.uniform(0.25, 0.40) * size, rng.uniform(-.04, .04)
    shift = np.array([dx, dy]) * travel + np.array([-dy, dx]) * drift * size
    start = [rng.uniform(lo - min(s, 0), hi - max(s, 0)) for s in shift]
    return (start[0] + shift[0] * t, start[1] + shift[1] * t, radius, angle)


def _draw(img: np.ndarray, shape: str, cx: float, cy: float, radius: float,
          angle: float, rgb: Sequence[int]) -> None:
    """Draw a filled, anti-aliased shape in place, at subpixel precision."""
    scale = 1 << _SUBPIXEL_BITS
    color = tuple(int(v) for v in rgb)
    if shape == 'circle':
        cv2.circle(img, (round(cx * scale), round(cy * scale)),
                   round(radius * scale), color, -1, cv2.LINE_AA,
                   _SUBPIXEL_BITS)
        return
    corners = 4 if shape == 'square' else 3
    # Triangle apex points up at angle 0; square sides are axis-aligned.
    start = -90.0 if shape == 'triangle' else 45.0
    theta = np.deg2rad(start + angle + 360.0 / corners * np.arange(corners))
    rad = radius * _CIRCUMRADIUS[shape]
    pts = np.stack([cx + rad * np.cos(theta), cy + rad * np.sin(theta)], 1)
    cv2.fillPoly(img, [np.round(pts * scale).astype(np.int32)], color,
                 cv2.LINE_AA, _SUBPIXEL_BITS)


def _jitter_color(color: str, rng: np.random.Generator) -> np.ndarray:
    return np.clip(np.array(COLOR_RGB[color]) + rng.integers(-20, 21, 3), 0,
                   255)


def render_video(color: str,
                 shape: str,
                 motion: str,
                 rng: np.random.Generator,
                 num_frames: int = 16,
                 size: int = 64) -> np.ndarray:
    """Render one clip of a coloured shape doing a motion.

    Randomised per clip: start position, size (equal-area radius 12-16% of
    the frame, or 7-9% growing about 2x), travel (25-40% of the frame with a
    small sideways drift) or turn (120-200 degrees either way), colour
    (+-20 per channel), a smooth low-saturation background, and a static
    distractor of another colour and random shape, 55-80% of the object's
    mean radius. Gaussian camera noise (std 4) is added to every frame.

    Args:
        color (str): Key of :data:`COLOR_RGB`.
        shape (str): One of :data:`SHAPES`.
        motion (str): One of :data:`MOTIONS`; a circle cannot be spinning.
        rng (np.random.Generator): Source of all randomness.
        num_frames (int): Frames T. Defaults to 16.
        size (int): Frame height and width. Defaults to 64.

    Returns:
        np.ndarray: Frames ``(T, size, size, 3)``, uint8 RGB.
    """
    for value, known in ((color, tuple(COLOR_RGB)), (shape, SHAPES),
                         (motion, MOTIONS)):
        if value not in known:
            raise ValueError(f'unknown attribute {value!r}; known: '
                             f'{list(known)}')
    if shape == 'circle' and motion == 'spinning':
        raise ValueError('a spinning circle looks still; not rendered')
    if num_frames < 2 or size < 16:
        raise ValueError(f'need num_frames >= 2 and size >= 16, got '
                         f'{num_frames} and {size}')
    t = np.linspace(0.0, 1.0, num_frames)
    cx, cy, radius, angle = _sample_object(motion, rng, t, size)
    rgb = _jitter_color(color, rng)

    grid = rng.uniform(45, 115, (4, 4, 1)) + rng.uniform(-10, 10, (4, 4, 3))
    background = np.clip(
        cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC), 0,
        255).astype(np.uint8)

    # Distractor: static, away from the object's path when possible.
    d_color = rng.choice([c for c in COLOR_RGB if c != color])
    d_shape = rng.choice(SHAPES)
    d_radius = radius.mean() * rng.uniform(0.55, 0.8)
    lo, hi = _BOUND * d_radius + 1, size - 2 - _BOUND * d_radius
    clearance = _BOUND * (d_radius + radius.max())
    for _ in range(20):
        dx, dy = rng.uniform(lo, hi, 2)
        if np.hypot(cx - dx, cy - dy).min() > clearance:
            break
    _draw(background, d_shape, dx, dy, d_radius, rng.uniform(0, 360),
          _jitter_color(d_color, rng))

    frames = np.repeat(background[None], num_frames, axis=0)
    for i in range(num_frames):
        _draw(frames[i], shape, cx[i], cy[i], radius[i], angle[i], rgb)
    noise = rng.standard_normal(frames.shape, dtype=np.float32) * _NOISE_STD
    return np.clip(frames + noise, 0, 255).round().astype(np.uint8)


def write_video(path: str, frames: np.ndarray, fps: int = 8) -> None:
    """Write ``(T, H, W, 3)`` uint8 RGB frames as an mp4 (fourcc mp4v)."""
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise OSError(f'{path}: OpenCV cannot open an mp4v writer')
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def _slug(name: str) -> str:
    return name.replace(' ', '_')


def _render_job(job: Tuple) -> None:
    """Render and write one clip; seeded by its own place in the dataset."""
    path, comp, seed_key, num_frames, size = job
    rng = np.random.default_rng(np.random.SeedSequence(seed_key))
    write_video(path, render_video(*comp, rng, num_frames, size))


def _plan(out_dir: str, settings: dict, seen: List[Composition],
          unseen: List[Composition]) -> Tuple[List[Tuple], Dict]:
    """Every clip to render, and the lines of each annotation list."""
    per_split = {
        'train': (seen, settings['videos_per_class']),
        'val': (seen, settings['val_per_class']),
        'zeroshot': (unseen, settings['zeroshot_per_class']),
    }
    jobs, lists = [], {}
    for split_id, split in enumerate(SPLITS):
        comps, count = per_split[split]
        lists[split] = []
        for label, comp in enumerate(comps):
            for index in range(count):
                rel = f'{split}/{_slug(class_name(*comp))}/{index:03d}.mp4'
                lists[split].append(f'{rel} {label}')
                key = [settings['seed'], split_id, label, index]
                jobs.append((osp.join(out_dir, 'videos', rel), comp, key,
                             settings['num_frames'], settings['size']))
    return jobs, lists


def _is_complete(out_dir: str, settings: dict) -> Optional[dict]:
    """The manifest if ``out_dir`` holds a finished dataset of ``settings``."""
    path = osp.join(out_dir, MANIFEST)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except json.JSONDecodeError:
        return None  # interrupted write: regenerate
    if not manifest.get('complete') or manifest.get('settings') != settings:
        return None
    names = list(manifest['files'].values())
    if not all(osp.isfile(osp.join(out_dir, n)) for n in names):
        return None
    for split in SPLITS:
        with open(osp.join(out_dir, f'{split}_list.txt')) as f:
            names += ['videos/' + line.split()[0] for line in f]
    if all(osp.isfile(osp.join(out_dir, n)) for n in names):
        return manifest
    return None


def _new_manifest(settings: dict, seen: List[Composition],
                  unseen: List[Composition], lists: Dict) -> dict:
    """Manifest of a dataset about to be written (``complete`` False)."""
    files = {f'{s}_list': f'{s}_list.txt' for s in SPLITS}
    files.update(classes_seen='classes_seen.txt',
                 classes_unseen='classes_unseen.txt')
    return dict(
        generator=GENERATOR,
        complete=False,
        settings=settings,
        split_rule='(color, shape, motion) with vocabulary indices (i, j, k) '
        f'is unseen iff (i + j + k) % {settings["holdout"]} == 0; a spinning '
        'circle is never a class',
        num_classes=dict(seen=len(seen), unseen=len(unseen)),
        compositions=dict(seen=[list(c) for c in seen],
                          unseen=[list(c) for c in unseen]),
        counts={s: len(lists[s]) for s in SPLITS},
        video_root='videos',
        files=files,
        videos=[line.split()[0] for s in SPLITS for line in lists[s]])


def _own_files(manifest: dict) -> List[str]:
    """Every file a manifest says the generator wrote (relative paths)."""
    return [MANIFEST] + list(manifest.get('files', {}).values()) + [
        osp.join(manifest.get('video_root', 'videos'), rel)
        for rel in manifest.get('videos', [])
    ]


def _old_manifest(out_dir: str) -> Optional[dict]:
    """The manifest of a toy dataset in ``out_dir``; None for an empty or
    absent folder. Raises for anything else."""
    if not osp.isdir(out_dir) or not os.listdir(out_dir):
        return None
    path = osp.join(out_dir, MANIFEST)
    manifest = None
    if osp.isfile(path):
        try:
            with open(path, encoding='utf-8') as f:
                manifest = json.load(f)
        except (OSError, ValueError):
            manifest = None
    if not isinstance(manifest, dict) or manifest.get('generator') != \
            GENERATOR:
        raise FileExistsError(
            f'{out_dir}: not empty and not a toy dataset written by this '
            f'tool (no {MANIFEST} of {GENERATOR}); refusing to write into '
            'it: choose an empty or new folder')
    return manifest


def _remove_own_files(out_dir: str, manifest: dict) -> None:
    """Make room for ``manifest``'s files: remove those of the toy dataset
    already there (and only those); refuse to overwrite any other file."""
    old = _old_manifest(out_dir)
    ours = set(_own_files(old)) if old else set()
    foreign = [rel for rel in _own_files(manifest)
               if rel not in ours and osp.lexists(osp.join(out_dir, rel))]
    if foreign:
        raise FileExistsError(
            f'{out_dir}: {foreign[0]} (and {len(foreign) - 1} more) exists '
            'but is not a file of the toy dataset there; refusing to '
            'overwrite it')
    emptied = set()
    for rel in sorted(ours):
        path = osp.join(out_dir, rel)
        if osp.isfile(path):
            os.remove(path)
            emptied.update(osp.join(out_dir, parent) for parent in
                           _parents(osp.dirname(rel)))
    for folder in sorted(emptied, key=len, reverse=True):
        if osp.isdir(folder) and not os.listdir(folder):
            os.rmdir(folder)  # a folder of ours that the removal emptied


def _parents(rel: str) -> List[str]:
    """``'a/b/c'`` -> ``['a/b/c', 'a/b', 'a']`` (empty for ``''``)."""
    out = []
    while rel:
        out.append(rel)
        rel = osp.dirname(rel)
    return out


def _write_manifest(out_dir: str, manifest: dict) -> None:
    tmp = osp.join(out_dir, MANIFEST + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=2)
    os.replace(tmp, osp.join(out_dir, MANIFEST))


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one encoder thread per process


def _run_jobs(jobs: List[Tuple], workers: int, progress: bool) -> None:
    """Render every job, in ``workers`` processes when more than one."""
    with tqdm(total=len(jobs), desc='toy videos', unit='clip',
              disable=not progress) as bar:
        if workers == 1:
            for job in jobs:
                _render_job(job)
                bar.update()
            return
        with multiprocessing.Pool(workers, initializer=_init_worker) as pool:
            for _ in pool.imap_unordered(_render_job, jobs, chunksize=16):
                bar.update()


def make_toy_dataset(out_dir: str,
                     seed: int = 0,
                     videos_per_class: int = 30,
                     val_per_class: int = 10,
                     zeroshot_per_class: int = 10,
                     num_frames: int = 16,
                     size: int = 64,
                     workers: Optional[int] = None,
                     colors: Sequence[str] = DEFAULT_COLORS,
                     shapes: Sequence[str] = DEFAULT_SHAPES,
                     motions: Sequence[str] = DEFAULT_MOTIONS,
                     holdout: int = 3,
                     progress: bool = False) -> dict:
    """Write the toy dataset under ``out_dir`` (see the module docstring).

    Idempotent: when ``out_dir`` already holds a complete dataset with the
    same settings, nothing is written and its manifest is returned. A toy
    dataset with other settings (or an interrupted one) is replaced: the
    files its manifest records are removed, nothing else. A non-empty folder
    that is not a toy dataset, or a file of this dataset that the folder
    already holds and the old manifest does not record, is refused before
    anything is written.

    Args:
        out_dir (str): Output folder.
        seed (int): Dataset seed; each clip is seeded by (seed, split,
            label, index). Defaults to 0.
        videos_per_class (int): Training clips per seen class. Defaults to 30.
        val_per_class (int): Validation clips per seen class. Defaults to 10.
        zeroshot_per_class (int): Clips per unseen class. Defaults to 10.
        num_frames (int): Frames per clip. Defaults to 16.
        size (int): Frame height and width. Defaults to 64.
        workers (int, optional): Processes; None uses every CPU.
            Defaults to None.
        colors (Sequence[str]): See :func:`toy_classes`.
            Defaults to ``DEFAULT_COLORS``.
        shapes (Sequence[str]): See :func:`toy_classes`.
            Defaults to ``DEFAULT_SHAPES``.
        motions (Sequence[str]): See :func:`toy_classes`.
            Defaults to ``DEFAULT_MOTIONS``.
        holdout (int): See :func:`toy_classes`. Defaults to 3.
        progress (bool): Show a tqdm progress bar. Defaults to False.

    Returns:
        dict: The manifest: settings (attribute vocabulary included), split
        rule, class compositions, clip counts and file names.
    """
    counts = dict(videos_per_class=videos_per_class,
                  val_per_class=val_per_class,
                  zeroshot_per_class=zeroshot_per_class)
    for key, value in counts.items():
        if value < 1:
            raise ValueError(f'{key} must be >= 1, got {value}')
    if size < 32 or size % 2 or size in _DECORD_BAD_SIZES:
        raise ValueError(f'size must be even, >= 32 and not one of '
                         f'{_DECORD_BAD_SIZES} (decord misreads those), got '
                         f'{size}')
    if num_frames < 2:
        raise ValueError(f'num_frames must be >= 2, got {num_frames}')
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f'seed must be an int >= 0, got {seed!r}')
    # Everything that changes the output; the attribute vocabulary included.
    settings = dict(format_version=FORMAT_VERSION, seed=seed, **counts,
                    num_frames=num_frames, size=size, colors=list(colors),
                    shapes=list(shapes), motions=list(motions),
                    holdout=holdout)
    manifest = _is_complete(out_dir, settings)
    if manifest is not None:
        return manifest
    seen, unseen = toy_classes(colors, shapes, motions, holdout)
    jobs, lists = _plan(out_dir, settings, seen, unseen)
    manifest = _new_manifest(settings, seen, unseen, lists)
    _remove_own_files(out_dir, manifest)
    os.makedirs(out_dir, exist_ok=True)
    _write_manifest(out_dir, manifest)
    for job in jobs:
        os.makedirs(osp.dirname(job[0]), exist_ok=True)

    _run_jobs(jobs, workers or os.cpu_count() or 1, progress)

    texts = {f'{s}_list': lists[s] for s in SPLITS}
    texts.update(classes_seen=[class_name(*c) for c in seen],
                 classes_unseen=[class_name(*c) for c in unseen])
    for key, lines in texts.items():
        with open(osp.join(out_dir, manifest['files'][key]), 'w',
                  encoding='utf-8') as f:
            f.write(''.join(line + '\n' for line in lines))
    manifest['complete'] = True
    _write_manifest(out_dir, manifest)
    return manifest
