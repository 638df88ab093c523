"""Reading text files line by line: UTF-8, ``\\n`` / ``\\r\\n`` line ends;
and their integer fields.

The one reader behind annotation lists and class-name files.
"""
import codecs
from typing import List, Tuple

__all__ = ['TextFileError', 'decode_utf8', 'read_lines', 'parse_index']


class TextFileError(ValueError):
    """A text file is not valid UTF-8.

    Attributes:
        path (str): The file.
        lineno (int): The 1-based line of the first bad byte.
        reason (str): What is wrong, without the location.
    """

    def __init__(self, path: str, lineno: int, reason: str):
        super().__init__(f'{path}:{lineno}: {reason}')
        self.path, self.lineno, self.reason = path, lineno, reason


def decode_utf8(path: str, raw: bytes) -> str:
    """Decode file bytes as UTF-8 (a leading byte-order mark is skipped).

    Raises:
        TextFileError: ``path:line: byte 0x.. at offset .. is not valid
            UTF-8``.
    """
    # Spreadsheet programs often prepend a byte-order mark; skip it
    # ourselves so that error offsets count from the start of the file.
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[start:].decode('utf-8')
    except UnicodeDecodeError as err:
        offset = start + err.start
        raise TextFileError(
            path, raw.count(b'\n', 0, offset) + 1,
            f'byte 0x{raw[offset]:02x} at offset {offset} is not valid '
            'UTF-8; save the file as UTF-8') from err


def read_lines(path: str) -> List[Tuple[int, str]]:
    """All lines of a UTF-8 text file: ``(1-based number, line)``.

    Lines end at ``\\n`` or ``\\r\\n`` only (``str.splitlines`` would also
    split at form feeds, U+2028 and other separators, shifting every later
    line). The final newline does not start another line.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        TextFileError: If the file is not UTF-8.
    """
    with open(path, 'rb') as f:
        raw = f.read()
    text = decode_utf8(path, raw)
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    return [(i, line[:-1] if line.endswith('\r') else line)
            for i, line in enumerate(lines, 1)]


def parse_index(field: str, what: str) -> int:
    """A non-negative integer in ASCII digits only (``int()`` would also
    take ``'1_0'``, ``'+1'``, ``'１'`` or Arabic-Indic digits).

    Raises:
        ValueError: ``negative {what} -1`` or ``{what} 'x' is not an
            integer (ASCII digits 0-9)``.
    """
    if field.startswith('-') and field[1:].isascii() and field[1:].isdigit():
        raise ValueError(f'negative {what} {field}')
    if not (field.isascii() and field.isdigit()):
        raise ValueError(f'{what} {field[:40]!r} is not an integer (ASCII '
                         'digits 0-9)')
    return int(field)
