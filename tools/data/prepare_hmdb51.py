"""Build mmaction2 lists for HMDB51 from the official split files.

Reads ``<class>_test_split<k>.txt`` from ``--split-dir`` (lines
``video.avi 1|2|0``: 1 = train, 2 = test, 0 = unused in that split); videos
are expected at ``<video-root>/<class>/<video>``. Classes are sorted by
folder name (label = position). Writes, for every split ``k``::

    hmdb51_train_split_{k}_videos.txt   hmdb51_val_split_{k}_videos.txt

plus ``hmdb51_full_videos.txt`` (every video named in the first split, any
flag: the zero-shot list) and ``hmdb51_label_map.txt`` with underscores
turned into spaces (``brush hair``, as Text4Vis' class CSV) unless
``--keep-underscores``.
"""
import argparse
import glob
import os.path as osp
import re
import sys
from typing import Dict, List, Tuple

from _common import NamedEntry, add_common_arguments, write_outputs

from t4v_mmaction.datasets.annotation import AnnotationError, read_text_lines

_FLAGS = {'1': 'train', '2': 'val', '0': None}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--split-dir',
        required=True,
        help='folder with the official <class>_test_split<k>.txt files')
    parser.add_argument(
        '--splits',
        type=int,
        nargs='+',
        default=[1, 2, 3],
        choices=[1, 2, 3],
        help='official splits to convert')
    parser.add_argument(
        '--keep-underscores',
        action='store_true',
        help="write class names as folder names ('brush_hair', mmaction2's "
        'label map) instead of with spaces')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def find_split_files(split_dir: str, split: int) -> Dict[str, str]:
    """``{class folder: split file}`` of one split."""
    pattern = re.compile(rf'^(.+)_test_split{split}\.txt$')
    found = {}
    for path in glob.glob(osp.join(split_dir, f'*_test_split{split}.txt')):
        match = pattern.match(osp.basename(path))
        if match:
            found[match.group(1)] = path
    if not found:
        raise FileNotFoundError(
            f'no *_test_split{split}.txt files in {split_dir}')
    return found


def read_split(files: Dict[str, str],
               display: Dict[str, str]) -> Dict[str, List[NamedEntry]]:
    """``{'train'|'val'|'all': [(class/video, class name)]}`` of a split."""
    out = {'train': [], 'val': [], 'all': []}
    for folder in sorted(files):
        path = files[folder]
        for lineno, line in read_text_lines(path):
            fields = line.split()
            if len(fields) != 2 or fields[1] not in _FLAGS:
                raise AnnotationError(
                    path, f"expected 'video.avi 0|1|2', got {line!r}", lineno)
            entry = (f'{folder}/{fields[0]}', display[folder])
            out['all'].append(entry)
            if _FLAGS[fields[1]]:
                out[_FLAGS[fields[1]]].append(entry)
    return out


def main(argv=None) -> Dict[str, object]:
    args = parse_args(argv)
    per_split: List[Tuple[int, Dict[str, str]]] = [
        (k, find_split_files(args.split_dir, k)) for k in args.splits
    ]
    folders = sorted(per_split[0][1])
    for k, files in per_split[1:]:
        if sorted(files) != folders:
            raise ValueError(
                f'{args.split_dir}: split {k} has other classes than split '
                f'{per_split[0][0]}: '
                f'{sorted(set(files) ^ set(folders))}')
    display = {
        f: f if args.keep_underscores else f.replace('_', ' ')
        for f in folders
    }
    lists = {}
    for k, files in per_split:
        split = read_split(files, display)
        lists[f'hmdb51_train_split_{k}_videos.txt'] = split['train']
        lists[f'hmdb51_val_split_{k}_videos.txt'] = split['val']
        if 'hmdb51_full_videos.txt' not in lists:
            lists['hmdb51_full_videos.txt'] = split['all']
    return write_outputs(args, lists, [display[f] for f in folders],
                         'hmdb51_label_map.txt')


if __name__ == '__main__':
    main(sys.argv[1:])
