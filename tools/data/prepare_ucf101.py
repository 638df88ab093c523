"""Build mmaction2 lists for UCF101 from the official split files.

Reads ``classInd.txt`` (``1 ApplyEyeMakeup``), ``trainlist0{k}.txt``
(``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``) and ``testlist0{k}.txt``
(path only) from ``--ann-dir`` and writes, for every split ``k``::

    ucf101_train_split_{k}_videos.txt   ucf101_val_split_{k}_videos.txt

plus ``ucf101_full_videos.txt`` (every video of the first split, train then
test: the zero-shot list) and ``ucf101_label_map.txt`` (classInd order,
label = id - 1, names untouched).
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List

from _common import NamedEntry, add_common_arguments, write_outputs

from t4v_mmaction.datasets.annotation import AnnotationError, read_text_lines


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--ann-dir',
        required=True,
        help='folder with classInd.txt, trainlist0k.txt, testlist0k.txt')
    parser.add_argument(
        '--splits',
        type=int,
        nargs='+',
        default=[1, 2, 3],
        choices=[1, 2, 3],
        help='official splits to convert')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def read_class_ind(path: str) -> List[str]:
    """Class names ordered by their 1-based id in ``classInd.txt``."""
    by_id = {}
    for lineno, line in read_text_lines(path):
        fields = line.split()
        if len(fields) != 2 or not fields[0].isdigit():
            raise AnnotationError(path, f"expected 'id name', got {line!r}",
                                  lineno)
        by_id[int(fields[0])] = fields[1]
    if sorted(by_id) != list(range(1, len(by_id) + 1)):
        raise AnnotationError(path, 'class ids must be 1..C without gaps')
    return [by_id[i] for i in range(1, len(by_id) + 1)]


def read_split_list(path: str, classes: List[str]) -> List[NamedEntry]:
    """``(path, class)`` of a train or test list; the class comes from the
    folder name and must agree with the label column when there is one."""
    ids = {name: str(i + 1) for i, name in enumerate(classes)}
    entries = []
    for lineno, line in read_text_lines(path):
        fields = line.split()
        video = fields[0]
        name = osp.dirname(video)
        if name not in ids:
            raise AnnotationError(
                path, f'class folder {name!r} of {video!r} is not in '
                'classInd.txt', lineno)
        if len(fields) > 2 or (len(fields) == 2 and fields[1] != ids[name]):
            raise AnnotationError(
                path, f'{line!r}: expected the class id {ids[name]} of '
                f'{name!r}', lineno)
        entries.append((video, name))
    return entries


def main(argv=None) -> Dict[str, object]:
    args = parse_args(argv)
    classes = read_class_ind(osp.join(args.ann_dir, 'classInd.txt'))
    lists = {}
    for k in args.splits:
        train = read_split_list(
            osp.join(args.ann_dir, f'trainlist{k:02d}.txt'), classes)
        test = read_split_list(
            osp.join(args.ann_dir, f'testlist{k:02d}.txt'), classes)
        lists[f'ucf101_train_split_{k}_videos.txt'] = train
        lists[f'ucf101_val_split_{k}_videos.txt'] = test
        if 'ucf101_full_videos.txt' not in lists:
            lists['ucf101_full_videos.txt'] = train + test
    return write_outputs(args, lists, classes, 'ucf101_label_map.txt')


if __name__ == '__main__':
    main(sys.argv[1:])
