"""Command-line plumbing shared by the ``prepare_*.py`` tools.

Each tool parses its dataset's official annotations into lists of
``(relative video path, class name or None)`` plus the official class order;
:func:`write_outputs` then applies ``--classes``, checks the videos under
``--video-root``, and writes the mmaction2 lists, the label map and the
missing / undecodable reports.
"""
import argparse
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from t4v_mmaction.datasets import load_class_names
from t4v_mmaction.datasets.annotation import (VideoAnnotation, class_index,
                                              find_missing_videos,
                                              select_available,
                                              write_annotation_list,
                                              write_class_names)

#: one list entry before labelling: (relative path, class name or None)
NamedEntry = Tuple[str, Optional[str]]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every preparation tool shares."""
    parser.add_argument(
        '--video-root',
        required=True,
        help='folder holding the videos; list paths are relative to it '
        '(use it as data_prefix.video in the config)')
    parser.add_argument(
        '--out-dir', required=True, help='where lists and reports go')
    parser.add_argument(
        '--classes',
        help='class-name file (label map .txt or id,name CSV) forcing the '
        'label order; must contain every class of the annotations')
    parser.add_argument(
        '--check-decode',
        action='store_true',
        help='also open every video with decord (slow)')
    parser.add_argument(
        '--drop-missing',
        action='store_true',
        help='leave missing and undecodable videos out of the lists')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bar')


def resolve_classes(official: Sequence[str], used: Sequence[str],
                    classes_file: Optional[str]) -> List[str]:
    """The official class order, or the ``--classes`` file after checking
    that it names every class the annotations use."""
    if classes_file is None:
        return list(official)
    names = load_class_names(classes_file)
    unknown = sorted(set(used) - set(names))
    if unknown:
        raise ValueError(f'{classes_file}: lacks {_classes(unknown)} of '
                         f'the annotations, e.g. {unknown[:5]}')
    return names


def _classes(names: Sequence[str]) -> str:
    return f'{len(names)} class' + ('' if len(names) == 1 else 'es')


def keep_label_map(path: str, classes: List[str], used: Sequence[str],
                   classes_file: Optional[str]) -> List[str]:
    """The label map an earlier run wrote into the output folder.

    Another list of the same dataset (e.g. ``validate.csv`` after
    ``train.csv``) must label every class as the first one did, so the map
    is reused, never rewritten. Refused: classes of these annotations that
    it lacks, and a class order of this run (``--classes``, or the tool's
    official order) that disagrees with the map's on the classes they
    share; a subset in the same order (the classes of one list) is fine.
    """
    names = load_class_names(path)
    source = (f'--classes {classes_file}' if classes_file is not None else
              "this run's class order")
    unknown = sorted(set(used) - set(names))
    if unknown:
        raise ValueError(
            f'{path} (written by an earlier run) lacks {_classes(unknown)} '
            f'of these annotations, e.g. {unknown[:5]}; the lists '
            'of one output folder share one label map: prepare all lists '
            'with one --classes file, or use another --out-dir')
    known = set(names)
    mine = [c for c in classes if c in known]
    position = {name: i for i, name in enumerate(names)}
    if [position[c] for c in mine] != sorted(position[c] for c in mine):
        raise ValueError(
            f'{path} (written by an earlier run) orders the classes '
            f'otherwise than {source}; the lists of one output folder share '
            'one label map: remove it, or use another --out-dir')
    print(f'reusing the label map {path} ({len(names)} classes)')
    return list(names)


def write_outputs(args: argparse.Namespace, lists: Dict[str, List[NamedEntry]],
                  official_classes: Sequence[str],
                  label_map_name: str) -> Dict[str, object]:
    """Label, check and write every list; print a summary.

    Args:
        args (argparse.Namespace): Parsed common arguments.
        lists (dict[str, list]): Output file name -> named entries.
        official_classes (Sequence[str]): Class order when no ``--classes``.
        label_map_name (str): File name of the label map.

    Returns:
        dict: ``classes``, ``missing``, ``undecodable`` and ``written``
        (file name -> lines).
    """
    used = {
        name
        for entries in lists.values()
        for _, name in entries if name is not None
    }
    classes = resolve_classes(official_classes, sorted(used), args.classes)
    existing = osp.join(args.out_dir, label_map_name)
    reused = osp.isfile(existing)
    if reused:
        classes = keep_label_map(existing, classes, sorted(used),
                                 args.classes)
    index = class_index(classes, source=args.classes or label_map_name)
    labelled = {
        fname: [
            VideoAnnotation(path, None if name is None else index[name])
            for path, name in entries
        ]
        for fname, entries in lists.items()
    }
    missing, broken = find_missing_videos(
        args.video_root, [a.path for v in labelled.values() for a in v],
        check_decode=args.check_decode,
        progress=not args.no_progress)
    os.makedirs(args.out_dir, exist_ok=True)
    _write_report(osp.join(args.out_dir, 'missing_videos.txt'), missing)
    _write_report(osp.join(args.out_dir, 'undecodable_videos.txt'), broken)
    written = {}
    for fname, entries in labelled.items():
        if args.drop_missing:
            entries = select_available(entries, missing + broken)
        written[fname] = write_annotation_list(
            osp.join(args.out_dir, fname), entries)
    if not reused:
        write_class_names(existing, classes)
    _print_summary(args, written, classes, missing, broken, label_map_name)
    return dict(
        classes=classes, missing=missing, undecodable=broken, written=written)


def _write_report(path: str, paths: Sequence[str]) -> None:
    """Write the paths, or remove a stale report when there are none."""
    if paths:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(''.join(f'{p}\n' for p in paths))
    elif osp.exists(path):
        os.remove(path)


def _print_summary(args, written, classes, missing, broken,
                   label_map_name) -> None:
    print(f'{len(classes)} classes -> '
          f'{osp.join(args.out_dir, label_map_name)}')
    for fname, count in written.items():
        print(f'{count:8d} videos -> {osp.join(args.out_dir, fname)}')
    for what, paths, report in (('missing', missing, 'missing_videos.txt'),
                                ('undecodable', broken,
                                 'undecodable_videos.txt')):
        if paths:
            action = 'left out' if args.drop_missing else 'kept in lists'
            print(f'WARNING: {len(paths)} videos {what} under '
                  f'{args.video_root} ({action}), listed in '
                  f'{osp.join(args.out_dir, report)}; first: {paths[0]}')
    if not args.check_decode:
        print('(videos checked for existence only; add --check-decode to '
              'open them)')
