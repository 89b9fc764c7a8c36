"""CSV that a spreadsheet opens as data, never as formulas.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return, which some spreadsheets skip before reading such a sign) would be run
as a formula by Excel or LibreOffice: a note's text or a coder's comment could
then call out to the network or run a command on the auditor's machine. Such
cells get a leading apostrophe, the spreadsheet convention for "this is
text" (OWASP's advice on CSV injection). Numbers are written as numbers, so
a negative figure stays a negative figure.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class _Echo:
    """A file-like object whose ``write`` returns the line: csv.writer into a stream."""

    def write(self, value: str) -> str:
        return value


def csv_safe_cell(value: object) -> str:
    """The cell as text, with an apostrophe before a leading formula sign."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_safe_row(row: Iterable[object]) -> list[str]:
    return [csv_safe_cell(value) for value in row]


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """CSV lines, one per row, every cell neutralised: for a streaming response."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(csv_safe_row(row))
