"""Class names: the one reader of class-name files and resolver of lists.

Two file formats, chosen by the extension:

* ``*.csv``: a header ``id,name`` and one ``id,name`` row per class, as in
  the original Text4Vis ``lists/*.csv``. Rows may come in any order; the ids
  must be exactly ``0 .. C-1``. Names holding commas must be quoted.
* anything else (``*.txt``): one name per line, line ``i`` is class ``i``
  (mmaction2's ``label_map*.txt``).

Lines end at ``\\n`` or ``\\r\\n`` only. Names are kept as written (only
surrounding spaces are stripped): the original code feeds UCF101's CamelCase
names and Kinetics' parentheses to the text encoder untouched. But two names
that a text encoder cannot tell apart are an error, naming both places: the
same name twice, and names equal up to case, runs of whitespace and Unicode
normalisation (``'Run'`` / ``'run'``, ``'a b'`` / ``'a  b'``, NFC / NFD).
Control characters and line or paragraph separators inside a name are an
error too. Blank lines at the end of a file are ignored; anything else that
is wrong raises ``ValueError`` naming the file and line.
"""
import csv
import os
import unicodedata
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .text_file import TextFileError, parse_index, read_lines

__all__ = [
    'ClassNames', 'load_class_names', 'resolve_class_names', 'comparable_name'
]

ClassNamesType = Union[str, os.PathLike, Sequence[str]]


class ClassNames(list):
    """A list of class names that remembers where each came from.

    Args:
        names (Sequence[str]): The names, item ``i`` = class ``i``.
        source (str, optional): The file they were read from.
        lines (Sequence[int], optional): The 1-based line of each name.
    """

    def __init__(self, names: Sequence[str], source: Optional[str] = None,
                 lines: Optional[Sequence[int]] = None):
        super().__init__(names)
        self.source = source
        self.lines = list(lines) if lines is not None else None

    def where(self, index: int) -> str:
        """``'file:line'`` of class ``index``, or ``'class i'`` for a list."""
        if self.source is not None and self.lines is not None:
            return f'{self.source}:{self.lines[index]}'
        return f'class {index}'

    def describe(self) -> str:
        """``'<file>'`` or ``'a list of C names'``."""
        return self.source or f'a list of {len(self)} names'


def comparable_name(name: str) -> str:
    """What a text encoder sees of a name: NFKC-normalised, case-folded,
    whitespace runs collapsed."""
    return ' '.join(unicodedata.normalize('NFKC', name).casefold().split())


def _bad_character(name: str) -> Optional[str]:
    for char in name:
        if unicodedata.category(char) in ('Cc', 'Zl', 'Zp') and char != '\t':
            return f'U+{ord(char):04X} ({unicodedata.name(char, "control")})'
    return None


def _check_names(names: ClassNames) -> ClassNames:
    """Reject empty names, forbidden characters and names a text encoder
    cannot tell apart."""
    seen: Dict[str, int] = {}
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            where = names.where(i)
            raise ValueError(f'{where}: empty class name' if names.source else
                             f'{where}: expected a non-empty name, got '
                             f'{name!r}')
        bad = _bad_character(name)
        if bad:
            raise ValueError(f'{names.where(i)}: class name {name!r} holds '
                             f'{bad}; names must be one line of text')
        key = comparable_name(name)
        if key in seen:
            j = seen[key]
            if names[j] == name:
                first = f'first on line {names.lines[j]}' if names.lines \
                    is not None else f'also class {j}'
                raise ValueError(f'{names.where(i)}: duplicate class name '
                                 f'{name!r} ({first})')
            raise ValueError(
                f'{names.where(i)}: class name {name!r} equals {names[j]!r} '
                f'({names.where(j)}) up to case, whitespace or Unicode form; '
                'a text encoder cannot tell them apart')
        seen[key] = i
    return names


def load_class_names(path: str) -> ClassNames:
    """Read the class names of a label-map ``.txt`` or an ``id,name`` CSV.

    Args:
        path (str): The file. ``*.csv`` is parsed as ``id,name`` CSV, any
            other extension as one name per line.

    Returns:
        ClassNames: ``C`` names; item ``i`` is the name of class ``i``, with
        the file and line of each.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: On non-UTF-8 bytes, an empty, duplicated or
            indistinguishable name, a wrong CSV header, a bad, repeated or
            missing CSV id, an unclosed quote, or an empty file.
    """
    path = os.fspath(path)
    try:
        rows = read_lines(path)
    except TextFileError as err:
        raise ValueError(str(err)) from None
    while rows and not rows[-1][1].strip():
        rows.pop()
    if path.lower().endswith('.csv'):
        names = _parse_csv(path, rows)
    else:
        names = ClassNames([line.strip(' \t') for _, line in rows], path,
                           [number for number, _ in rows])
    if not names:
        raise ValueError(f'{path}: no class names found (the file is empty)')
    return _check_names(names)


def _parse_csv(path: str, rows: List[Tuple[int, str]]) -> ClassNames:
    if not rows:
        return ClassNames([], path, [])
    parsed = []
    for line, text in rows:
        try:
            fields = next(csv.reader([text], strict=True), [])
        except csv.Error as err:  # a stray or unclosed quote
            raise ValueError(f'{path}:{line}: not a valid CSV row ({err}); '
                             'quote a name only as a whole, "like, this"'
                             ) from None
        parsed.append((line, fields))
    header_line, header = parsed[0]
    if [f.strip() for f in header] != ['id', 'name']:
        raise ValueError(f'{path}:{header_line}: expected the header '
                         f"'id,name', got {','.join(header)!r}")
    by_id: Dict[int, Tuple[int, str]] = {}
    for line, fields in parsed[1:]:
        if not any(f.strip() for f in fields):
            raise ValueError(f'{path}:{line}: empty row')
        if len(fields) != 2:
            raise ValueError(
                f'{path}:{line}: expected 2 fields (id,name), got '
                f'{len(fields)}: {fields!r}; quote names that hold commas')
        raw_id, name = fields
        try:
            class_id = parse_index(raw_id.strip(), 'class id')
        except ValueError as err:
            raise ValueError(f'{path}:{line}: {err}') from None
        if class_id in by_id:
            raise ValueError(f'{path}:{line}: class id {class_id} repeated '
                             f'(first on line {by_id[class_id][0]})')
        by_id[class_id] = (line, name.strip(' \t'))
    missing = sorted(set(range(len(by_id))) - set(by_id))
    if missing:
        raise ValueError(
            f'{path}: class ids must be 0..{len(by_id) - 1} without gaps; '
            f'missing {missing[:10]}{" ..." if len(missing) > 10 else ""}, '
            f'largest id is {max(by_id)}')
    order = [by_id[i] for i in range(len(by_id))]
    return ClassNames([name for _, name in order], path,
                      [line for line, _ in order])


def resolve_class_names(classes: ClassNamesType) -> ClassNames:
    """Class names from a file (see :func:`load_class_names`) or a list.

    Args:
        classes (str | PathLike | Sequence[str]): A label-map / CSV path, or
            the names themselves.

    Returns:
        ClassNames: The names; a list must hold non-empty strings that a text
        encoder can tell apart (checked as for files).
    """
    if isinstance(classes, ClassNames):
        return classes
    if isinstance(classes, (str, os.PathLike)):
        return load_class_names(classes)
    names = list(classes)
    if not names:
        raise ValueError('the list of class names is empty')
    return _check_names(ClassNames(
        [n.strip(' \t') if isinstance(n, str) else n for n in names]))
