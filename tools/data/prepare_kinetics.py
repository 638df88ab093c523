"""Build mmaction2 lists for Kinetics-400/600 from the official CSVs.

Reads the official annotation CSVs (header
``label,youtube_id,time_start,time_end,split[,is_cc]``; test files may lack
``label``), groups their rows by the ``split`` column (``validate`` is
written as ``val``) and writes ``{name}_{split}_list_videos.txt`` plus
``{name}_label_map.txt``. A class's label is its position among the sorted
label names with spaces read as underscores, mmaction2's convention (or the
order of ``--classes``). Video paths follow ``--path-template``; the default
matches the common downloaders: ``{youtube_id}_{start:06d}_{end:06d}.mp4``.
"""
import argparse
import csv
import sys
from collections import defaultdict
from typing import Dict, List

from _common import NamedEntry, add_common_arguments, write_outputs

from t4v_mmaction.datasets.annotation import AnnotationError

_REQUIRED = ('youtube_id', 'time_start', 'time_end', 'split')
_SPLITS = {'train': 'train', 'val': 'val', 'validate': 'val', 'test': 'test'}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'csv_files', nargs='+', help='official CSVs (train, validate, test)')
    parser.add_argument(
        '--name',
        default='kinetics400',
        help='dataset name used in the output file names')
    parser.add_argument(
        '--path-template',
        default='{youtube_id}_{time_start:06d}_{time_end:06d}.mp4',
        help='video path relative to --video-root; fields: youtube_id, '
        'time_start, time_end (ints), split, label, label_dir (label with '
        'spaces as underscores), e.g. "{split}/{youtube_id}_..." or '
        '"{label_dir}/{youtube_id}_..."')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def read_csv(path: str, template: str) -> Dict[str, List[NamedEntry]]:
    """``{split: [(path, label or None)]}`` of one official CSV."""
    out = defaultdict(list)
    with open(path, newline='', encoding='utf-8-sig') as f:
        reader = csv.DictReader(f)
        absent = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
        if absent:
            raise AnnotationError(
                path, f'missing columns {absent}; header is '
                f'{reader.fieldnames}', 1)
        for row in reader:
            lineno = reader.line_num
            split = _SPLITS.get(row['split'].strip())
            if split is None:
                raise AnnotationError(
                    path, f'unknown split {row["split"]!r}; expected one of '
                    f'{sorted(_SPLITS)}', lineno)
            label = (row.get('label') or '').strip() or None
            try:
                fields = dict(
                    youtube_id=row['youtube_id'].strip(),
                    time_start=int(float(row['time_start'])),
                    time_end=int(float(row['time_end'])),
                    split=split,
                    label=label or '',
                    label_dir=(label or '').replace(' ', '_'))
            except ValueError as err:
                raise AnnotationError(path, f'bad time field: {err}',
                                      lineno) from None
            try:
                video = template.format(**fields)
            except (KeyError, ValueError) as err:
                raise ValueError(
                    f'--path-template {template!r}: {err!r}') from None
            out[split].append((video, label))
    return out


def main(argv=None) -> Dict[str, object]:
    args = parse_args(argv)
    by_split = defaultdict(list)
    for path in args.csv_files:
        for split, entries in read_csv(path, args.path_template).items():
            by_split[split].extend(entries)
    labels = {name for v in by_split.values() for _, name in v if name}
    official = sorted(labels, key=lambda s: s.replace(' ', '_'))
    lists = {
        f'{args.name}_{split}_list_videos.txt': by_split[split]
        for split in ('train', 'val', 'test') if split in by_split
    }
    return write_outputs(args, lists, official, f'{args.name}_label_map.txt')


if __name__ == '__main__':
    main(sys.argv[1:])
