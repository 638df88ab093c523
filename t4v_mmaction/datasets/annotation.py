"""Reading, writing and checking mmaction2 annotation lists.

Shared by :class:`~t4v_mmaction.datasets.FewShotDataset` (subset export and
import) and the dataset-preparation tools under ``tools/data/``.

mmaction2 list formats (one video per line, fields separated by spaces):

* ``VideoDataset``: ``relpath label [label ...]``; ``relpath`` alone for an
  unlabelled (inference) list.
* ``RawframeDataset``: ``frame_dir [offset] total_frames label [label ...]``.

Labels are 0-based class indices into the class-name file (one name per
line, line ``i`` = label ``i``).
"""
import os
import os.path as osp
from collections import Counter
from typing import (Dict, Iterable, List, NamedTuple, Optional, Sequence,
                    Tuple, Union)

from mmengine.utils import track_iter_progress

from .decoder_guard import DecoderGuard
from .text_file import TextFileError, read_lines

__all__ = [
    'AnnotationError', 'VideoAnnotation', 'read_text_lines',
    'format_video_line', 'format_rawframe_line', 'write_annotation_list',
    'write_class_names', 'class_index', 'find_missing_videos',
    'select_available'
]


class AnnotationError(ValueError):
    """Malformed or inconsistent annotation input.

    Args:
        path (str): The offending file.
        msg (str): What is wrong.
        lineno (int, optional): 1-based line number. Defaults to None.
    """

    def __init__(self, path: str, msg: str, lineno: Optional[int] = None):
        where = f'{path}:{lineno}' if lineno is not None else str(path)
        super().__init__(f'{where}: {msg}')
        self.path = path
        self.lineno = lineno


class VideoAnnotation(NamedTuple):
    """One video of a list.

    Attributes:
        path (str): Video path relative to the video root.
        label (int, optional): 0-based class index; None when unlabelled.
    """
    path: str
    label: Optional[int] = None


def read_text_lines(path: str) -> List[Tuple[int, str]]:
    """Read the non-empty lines of a UTF-8 text file.

    Lines end at ``\\n`` or ``\\r\\n`` only (see
    :func:`~.text_file.read_lines`).

    Args:
        path (str): File to read.

    Returns:
        list[tuple[int, str]]: ``(1-based line number, stripped line)`` for
        every line that is not blank.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        AnnotationError: If the file is not valid UTF-8.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    try:
        lines = read_lines(path)
    except TextFileError as err:
        raise AnnotationError(path, err.reason, err.lineno) from None
    return [(i, line.strip(' \t')) for i, line in lines
            if line.strip(' \t')]


def _check_field(field: str) -> str:
    if not field or any(c.isspace() for c in field):
        raise ValueError(f'annotation path {field!r} is empty or contains '
                         'whitespace, which mmaction2 lists cannot hold')
    return field


def _labels_to_str(labels: Union[None, int, Sequence[int]]) -> List[str]:
    if labels is None:
        return []
    if isinstance(labels, int):
        return [str(labels)]
    return [str(int(x)) for x in labels]


def format_video_line(path: str,
                      labels: Union[None, int, Sequence[int]] = None) -> str:
    """Format one ``VideoDataset`` line.

    Args:
        path (str): Video path relative to the data prefix.
        labels (int | Sequence[int], optional): Label(s); None writes an
            unlabelled line. Defaults to None.

    Returns:
        str: ``'path label ...'`` without newline.
    """
    return ' '.join([_check_field(path)] + _labels_to_str(labels))


def format_rawframe_line(frame_dir: str,
                         total_frames: int,
                         labels: Union[None, int, Sequence[int]] = None,
                         offset: Optional[int] = None) -> str:
    """Format one ``RawframeDataset`` line.

    Args:
        frame_dir (str): Frame folder relative to the data prefix.
        total_frames (int): Number of frames.
        labels (int | Sequence[int], optional): Label(s). Defaults to None.
        offset (int, optional): Start offset (``with_offset=True`` lists).
            Defaults to None.

    Returns:
        str: ``'frame_dir [offset] total_frames label ...'``.
    """
    fields = [_check_field(frame_dir)]
    if offset is not None:
        fields.append(str(int(offset)))
    fields.append(str(int(total_frames)))
    return ' '.join(fields + _labels_to_str(labels))


def write_annotation_list(path: str,
                          annotations: Iterable[VideoAnnotation]) -> int:
    """Write a ``VideoDataset`` list (``relpath label`` per line).

    Args:
        path (str): Output file; parent folders are created.
        annotations (Iterable[VideoAnnotation]): Videos to write.

    Returns:
        int: Number of lines written.
    """
    lines = [format_video_line(a.path, a.label) for a in annotations]
    _write_lines(path, lines)
    return len(lines)


def write_class_names(path: str, names: Sequence[str]) -> None:
    """Write a label map: one class name per line, line ``i`` = label ``i``.

    Args:
        path (str): Output file; parent folders are created.
        names (Sequence[str]): Class names in label order.
    """
    class_index(names, source=path)
    bad = [n for n in names if not n.strip() or '\n' in n]
    if bad:
        raise ValueError(f'{path}: empty or multi-line class names: {bad}')
    _write_lines(path, list(names))


def _write_lines(path: str, lines: Sequence[str]) -> None:
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(''.join(f'{line}\n' for line in lines))


def class_index(names: Sequence[str],
                source: str = '<class list>') -> Dict[str, int]:
    """Map class names to their 0-based position.

    Args:
        names (Sequence[str]): Class names in label order.
        source (str): Where the names come from, for error messages.
            Defaults to ``'<class list>'``.

    Returns:
        dict[str, int]: ``{name: index}``.
    """
    dup = [n for n, c in Counter(names).items() if c > 1]
    if dup:
        raise ValueError(f'{source}: duplicate class names {sorted(dup)}')
    return {name: i for i, name in enumerate(names)}


def find_missing_videos(video_root: str,
                        paths: Iterable[str],
                        check_decode: bool = False,
                        progress: bool = True) -> Tuple[List[str], List[str]]:
    """Check that videos exist (and optionally decode) under a root.

    Args:
        video_root (str): Folder the relative paths are resolved against.
        paths (Iterable[str]): Relative video paths; duplicates are checked
            once.
        check_decode (bool): Also open each existing video as training
            does and decode three frames, in a disposable process (a file
            may crash the decoder; see
            :class:`~.decoder_guard.DecoderGuard`). Defaults to False.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple[list[str], list[str]]: Missing paths and undecodable paths
        (the latter is empty unless ``check_decode``), in input order.
    """
    if not osp.isdir(video_root):
        raise FileNotFoundError(f'--video-root is not a folder: {video_root}')
    unique = list(dict.fromkeys(paths))
    items = track_iter_progress(unique) if progress and unique else unique
    missing, broken = [], []
    guard = DecoderGuard() if check_decode else None
    try:
        for rel in items:
            full = osp.join(video_root, rel)
            if not osp.isfile(full):
                missing.append(rel)
            elif guard is not None and guard.probe(full).kind is not None:
                broken.append(rel)
    finally:
        if guard is not None:
            guard.close()
    return missing, broken


def select_available(annotations: Sequence[VideoAnnotation],
                     unavailable: Iterable[str]) -> List[VideoAnnotation]:
    """Drop the annotations whose path is listed as unavailable.

    Args:
        annotations (Sequence[VideoAnnotation]): Videos of one list.
        unavailable (Iterable[str]): Missing or undecodable paths.

    Returns:
        list[VideoAnnotation]: The remaining videos, order kept.
    """
    bad = set(unavailable)
    return [a for a in annotations if a.path not in bad]
