"""Read class-name lists: mmaction2 label maps and Text4Vis ``id,name`` CSVs.

Two formats, chosen by the file extension:

* ``*.csv``: a header ``id,name`` and one ``id,name`` row per class, as in
  the original Text4Vis ``lists/*.csv``. Rows may come in any order; the ids
  must be exactly ``0 .. C-1``. Names holding commas must be quoted.
* anything else (``*.txt``): one name per line, line ``i`` is class ``i``
  (mmaction2's ``label_map*.txt``).

Names are kept as written (only surrounding whitespace is stripped): the
original code feeds UCF101's CamelCase names and Kinetics' parentheses to
the text encoder untouched. Blank lines at the end of a file are ignored;
anything else that is wrong raises ``ValueError`` naming the file and line.
"""
import codecs
import csv
import os
from typing import List, Sequence, Tuple, Union

__all__ = ['load_class_names', 'resolve_class_names']


def load_class_names(path: str) -> List[str]:
    """Read the class names of a label-map ``.txt`` or an ``id,name`` CSV.

    Args:
        path (str): The file. ``*.csv`` is parsed as ``id,name`` CSV, any
            other extension as one name per line.

    Returns:
        list[str]: ``C`` names; item ``i`` is the name of class ``i``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: On non-UTF-8 bytes, an empty or duplicated name, a wrong
            CSV header, a bad, repeated or missing CSV id, or an empty file.
    """
    path = os.fspath(path)
    text = _read_utf8(path)
    if path.lower().endswith('.csv'):
        names = _parse_csv(path, text)
    else:
        names = _parse_lines(path, text)
    if not names:
        raise ValueError(f'{path}: no class names found (the file is empty)')
    return names


def resolve_class_names(
        classes: Union[str, os.PathLike, Sequence[str]]) -> List[str]:
    """Class names from a file (see :func:`load_class_names`) or a list.

    Args:
        classes (str | PathLike | Sequence[str]): A label-map / CSV path, or
            the names themselves.

    Returns:
        list[str]: The names; a list must hold non-empty, distinct strings.
    """
    if isinstance(classes, (str, os.PathLike)):
        return load_class_names(classes)
    names, seen = list(classes), {}
    if not names:
        raise ValueError('the list of class names is empty')
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f'class {i}: expected a non-empty name, got '
                             f'{name!r}')
        if name in seen:
            raise ValueError(f'class {i}: duplicate class name {name!r} '
                             f'(also class {seen[name]})')
        seen[name] = i
    return names


def _read_utf8(path: str) -> str:
    with open(path, 'rb') as f:
        raw = f.read()
    # Spreadsheet programs often prepend a byte-order mark; skip it
    # ourselves so that error offsets count from the start of the file.
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[start:].decode('utf-8')
    except UnicodeDecodeError as err:
        offset = start + err.start
        line = raw.count(b'\n', 0, offset) + 1
        raise ValueError(
            f'{path}:{line}: byte 0x{raw[offset]:02x} at offset '
            f'{offset} is not valid UTF-8; save the file as UTF-8') from err


def _strip_trailing_blank(
        rows: List[Tuple[int, str]]) -> List[Tuple[int, str]]:
    while rows and not rows[-1][1].strip():
        rows.pop()
    return rows


def _check_name(path: str, line: int, name: str, seen: dict) -> str:
    name = name.strip()
    if not name:
        raise ValueError(f'{path}:{line}: empty class name')
    if name in seen:
        raise ValueError(f'{path}:{line}: duplicate class name {name!r} '
                         f'(first on line {seen[name]})')
    seen[name] = line
    return name


def _parse_lines(path: str, text: str) -> List[str]:
    rows = _strip_trailing_blank(
        [(i + 1, line) for i, line in enumerate(text.splitlines())])
    seen = {}
    return [_check_name(path, line, name, seen) for line, name in rows]


def _parse_csv(path: str, text: str) -> List[str]:
    reader = csv.reader(text.splitlines())
    rows = []
    try:
        for fields in reader:
            rows.append((reader.line_num, fields))
    except csv.Error as err:  # e.g. a field over csv.field_size_limit()
        raise ValueError(f'{path}:{reader.line_num}: not a valid CSV '
                         f'row: {err}') from None
    while rows and not any(f.strip() for f in rows[-1][1]):
        rows.pop()
    if not rows:
        return []
    header_line, header = rows[0]
    if [f.strip() for f in header] != ['id', 'name']:
        raise ValueError(f'{path}:{header_line}: expected the header '
                         f"'id,name', got {','.join(header)!r}")
    by_id, seen = {}, {}
    for line, fields in rows[1:]:
        if not any(f.strip() for f in fields):
            raise ValueError(f'{path}:{line}: empty row')
        if len(fields) != 2:
            raise ValueError(
                f'{path}:{line}: expected 2 fields (id,name), got '
                f'{len(fields)}: {fields!r}; quote names that hold commas')
        raw_id, name = fields
        try:
            class_id = int(raw_id.strip())
        except ValueError:
            raise ValueError(f'{path}:{line}: class id {raw_id!r} is not an '
                             'integer') from None
        if class_id < 0:
            raise ValueError(f'{path}:{line}: negative class id {class_id}')
        if class_id in by_id:
            raise ValueError(f'{path}:{line}: class id {class_id} repeated '
                             f'(first on line {by_id[class_id][0]})')
        by_id[class_id] = (line, _check_name(path, line, name, seen))
    missing = sorted(set(range(len(by_id))) - set(by_id))
    if missing:
        raise ValueError(
            f'{path}: class ids must be 0..{len(by_id) - 1} without gaps; '
            f'missing {missing[:10]}{" ..." if len(missing) > 10 else ""}, '
            f'largest id is {max(by_id)}')
    return [by_id[i][1] for i in range(len(by_id))]
