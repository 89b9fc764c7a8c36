"""JSON Lines: one object per line with ``id``, ``text``, optional ``codes``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO

from worker.importers.fields import code_list, identifier
from worker.importers.lines import bounded_lines, decode_line, encoding_reason
from worker.importers.records import IncomingNote, RowProblem

NOTE_FIELDS = {"id", "text", "codes"}


def read_jsonl(
    stream: IO[bytes], *, file_name: str, line_limit: int
) -> Iterator[IncomingNote | RowProblem]:
    for number, raw in bounded_lines(stream, line_limit):
        if raw is None:
            yield RowProblem(file_name, number, "text", f"line is over {line_limit:,} bytes")
            continue
        line = decode_line(raw, first=number == 1)
        if line is None:
            yield RowProblem(file_name, number, "line", encoding_reason(raw))
            continue
        if line.strip():
            yield _record(line, file_name, number)


def _record(line: str, file_name: str, number: int) -> IncomingNote | RowProblem:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        return RowProblem(file_name, number, "line", f"is not valid JSON ({error.msg})")
    if not isinstance(data, dict):
        return RowProblem(file_name, number, "line", "is not a JSON object")
    external_id = identifier(data.get("id"))
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        return RowProblem(file_name, number, "text", "is not a string", external_id or "")
    codes = code_list(data.get("codes"))
    if codes is None:
        reason = "is not a list of codes or a string of codes separated by ';'"
        return RowProblem(file_name, number, "codes", reason, external_id or "")
    metadata = {key: value for key, value in data.items() if key not in NOTE_FIELDS}
    return IncomingNote(file_name, number, external_id, text, codes, metadata)
