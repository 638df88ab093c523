"""Strict reading of mmaction2 ``VideoDataset`` lists.

mmaction2's own reader turns a blank line into a video named after the data
folder, a label ``'3a'`` into a ``ValueError`` without a file or line, and an
out-of-range label into an index error hours into training. Here every such
line raises one :class:`~.annotation.AnnotationError` naming the file, the
line and what is wrong, before anything is trained.
"""
import os
import re
from typing import List, NamedTuple, Sequence, Union

from .annotation import AnnotationError, read_text_lines
from .text_file import parse_index

__all__ = ['VideoListEntry', 'parse_video_list']

LabelType = Union[int, List[int]]
# mmaction2 lists separate fields by spaces (and tabs); other Unicode
# whitespace is part of a field, so it cannot split one entry into two
_FIELDS = re.compile(r'[ \t]+')


class VideoListEntry(NamedTuple):
    """One line of a video list.

    Attributes:
        path (str): Video path as written (relative to the data prefix).
        label (int | list[int]): Class index, ``-1`` for an unlabelled
            (inference) line, or the list of indices of a multi-class line.
        lineno (int): 1-based line number in the list.
    """
    path: str
    label: LabelType
    lineno: int


def _parse_label(path: str, lineno: int, field: str) -> int:
    """A label (:func:`~.text_file.parse_index`)."""
    try:
        return parse_index(field, 'label')
    except ValueError as err:
        raise AnnotationError(path, str(err), lineno) from None


def parse_video_list(path: str,
                     multi_class: bool = False,
                     delimiter: str = ' ',
                     require_labels: bool = True) -> List[VideoListEntry]:
    """Read a ``VideoDataset`` list: ``relpath label [label ...]`` per line.

    Blank lines at the end of the file are ignored; a blank line between
    entries, a label that is not a non-negative integer, several labels
    without ``multi_class``, and a mix of labelled and unlabelled lines are
    errors.

    Args:
        path (str): The list file (UTF-8).
        multi_class (bool): Lines may hold several labels. Defaults to False.
        delimiter (str): Field separator; ``' '`` splits on runs of spaces
            and tabs. Defaults to ``' '``.
        require_labels (bool): Every line needs a label (training lists).
            When False, a list whose lines all lack labels is read with label
            ``-1`` (inference lists). Defaults to True.

    Returns:
        list[VideoListEntry]: The entries in file order.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        AnnotationError: On the first malformed line.
    """
    path = os.fspath(path)
    rows = read_text_lines(path)
    if not rows:
        raise AnnotationError(path, 'the list is empty')
    entries = []
    for expected, (lineno, line) in enumerate(rows, 1):
        if lineno != expected:
            raise AnnotationError(
                path, 'blank line between entries; every line must name a '
                'video', expected)
        fields = _FIELDS.split(line) if delimiter == ' ' else [
            f.strip(' \t') for f in line.split(delimiter)
        ]
        video, labels = fields[0], fields[1:]
        if not video:
            raise AnnotationError(path, 'empty video path', lineno)
        if not labels:
            label = -1
        elif multi_class:
            label = [_parse_label(path, lineno, f) for f in labels]
        elif len(labels) > 1:
            raise AnnotationError(
                path, f'{len(labels)} labels {labels[:5]} but the dataset '
                'is single-label (multi_class=False); check the delimiter '
                'and spaces in the path', lineno)
        else:
            label = _parse_label(path, lineno, labels[0])
        entries.append(VideoListEntry(video, label, lineno))
    _check_labelled(path, entries, require_labels)
    return entries


def _check_labelled(path: str, entries: Sequence[VideoListEntry],
                    require_labels: bool) -> None:
    unlabelled = [e for e in entries if e.label == -1]
    if not unlabelled:
        return
    if require_labels:
        raise AnnotationError(
            path, f'no label for {unlabelled[0].path!r} (a training list '
            'needs one on every line)', unlabelled[0].lineno)
    if len(unlabelled) != len(entries):
        labelled = next(e for e in entries if e.label != -1)
        raise AnnotationError(
            path, f'no label for {unlabelled[0].path!r}, while line '
            f'{labelled.lineno} has one; label every line or none',
            unlabelled[0].lineno)
