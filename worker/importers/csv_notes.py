"""CSV with a header row: ``id``, ``text``, optional ``codes`` and metadata.

Row numbers are those a spreadsheet shows: the header is row 1.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from typing import IO

from worker.importers.fields import code_list, identifier
from worker.importers.lines import decode_line
from worker.importers.records import FileProblem, IncomingNote, RowProblem

NOTE_FIELDS = {"id", "text", "codes"}


class _DecodedLines:
    """Lines for ``csv.reader``, remembering which ones were not UTF-8.

    Undecodable lines are passed on with replacement characters so that the
    reader keeps its place; the row they belong to is then rejected.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.number = 0
        self.bad_lines: list[int] = []

    def __iter__(self) -> _DecodedLines:
        return self

    def __next__(self) -> str:
        raw = self._stream.readline()
        if not raw:
            raise StopIteration
        self.number += 1
        line = decode_line(raw, first=self.number == 1)
        if line is None:
            self.bad_lines.append(self.number)
            line = raw.decode("utf-8", errors="replace")
        return line


def allow_fields_of(size: int) -> None:
    # The csv module refuses fields over 128 KiB by default; raise its cap to
    # just past the note size limit so that long notes are refused by our
    # rule, with our message, while a runaway field still cannot fill memory.
    if csv.field_size_limit() < size:
        csv.field_size_limit(min(size, sys.maxsize))


def csv_rows(
    stream: IO[bytes], *, file_name: str, field_limit: int, required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str] | RowProblem]]:
    """(row number, row by column name) or a RowProblem for an unreadable row."""
    allow_fields_of(field_limit)
    lines = _DecodedLines(stream)
    reader = csv.reader(lines)
    try:
        header = [name.strip() for name in next(reader)]
    except (StopIteration, csv.Error) as error:
        reason = f"has no readable header row ({error or 'the file is empty'})"
        raise FileProblem(file_name, reason) from None
    missing = [name for name in required if name not in header]
    if missing:
        expected = ", ".join(required)
        raise FileProblem(file_name, f"has no column {missing[0]!r} (expected {expected})")
    row_number = 1
    while True:
        row_number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield row_number, RowProblem(file_name, row_number, "row", f"is not valid CSV: {error}")
            continue
        bad = [line for line in lines.bad_lines if line <= lines.number]
        if bad:
            lines.bad_lines.clear()
            reason = f"line {bad[0]} of the file is not UTF-8; save the file as UTF-8"
            yield row_number, RowProblem(file_name, row_number, "row", reason)
        elif len(values) != len(header):
            reason = f"has {len(values)} columns where the header has {len(header)}"
            yield row_number, RowProblem(file_name, row_number, "row", reason)
        elif any(values):
            yield row_number, dict(zip(header, values, strict=True))


def read_csv(
    stream: IO[bytes], *, file_name: str, field_limit: int
) -> Iterator[IncomingNote | RowProblem]:
    rows = csv_rows(stream, file_name=file_name, field_limit=field_limit, required=("id", "text"))
    for number, row in rows:
        if isinstance(row, RowProblem):
            yield row
            continue
        external_id = identifier(row.get("id"))
        codes = code_list(row.get("codes")) or ()
        metadata: dict[str, object] = {
            key: value for key, value in row.items() if key not in NOTE_FIELDS and value
        }
        yield IncomingNote(file_name, number, external_id, row.get("text"), codes, metadata)
