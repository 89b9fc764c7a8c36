"""Choosing the reader for an uploaded file from its name and first bytes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from worker.importers.csv_notes import read_csv
from worker.importers.jsonl import read_jsonl
from worker.importers.lines import ZIP_MAGIC, maybe_gunzip
from worker.importers.mimic import DiagnosisLookup, is_discharge_header, read_discharge
from worker.importers.records import FileProblem, IncomingNote, RowProblem
from worker.importers.text_files import read_text_file, read_zip

ACCEPTED = ".jsonl, .csv, .txt, .zip, MIMIC-IV discharge.csv (each .jsonl and .csv may be .gz)"


@dataclass(frozen=True)
class Limits:
    """Size limits in characters of note text, and the byte bounds they imply."""

    max_text_chars: int

    @property
    def max_bytes(self) -> int:
        # UTF-8 takes up to four bytes a character; the rest is room for the
        # id, the codes and the JSON or CSV around them.
        return self.max_text_chars * 4 + 64 * 1024


def read_notes(
    stream: IO[bytes],
    *,
    file_name: str,
    limits: Limits,
    diagnoses: DiagnosisLookup | None = None,
) -> Iterator[IncomingNote | RowProblem]:
    """Every row of the file; raises FileProblem for a type it does not read."""
    name = file_name.lower()
    if name.endswith(".zip") or stream.read(4) == ZIP_MAGIC:
        stream.seek(0)
        return read_zip(stream, file_name=file_name, byte_limit=limits.max_bytes)
    stream.seek(0)
    if name.endswith(".txt"):
        return read_text_file(stream, file_name=file_name, byte_limit=limits.max_bytes)
    bare = name.removesuffix(".gz")
    if bare.endswith((".jsonl", ".ndjson")):
        lines = maybe_gunzip(stream, file_name)
        return read_jsonl(lines, file_name=file_name, line_limit=limits.max_bytes)
    if bare.endswith(".csv"):
        return _read_any_csv(maybe_gunzip(stream, file_name), file_name, limits, diagnoses)
    raise FileProblem(file_name, f"is not a file type the desk reads ({ACCEPTED})")


def _read_any_csv(
    stream: IO[bytes], file_name: str, limits: Limits, diagnoses: DiagnosisLookup | None
) -> Iterator[IncomingNote | RowProblem]:
    try:
        header = stream.readline(64 * 1024).decode("utf-8-sig", errors="replace")
        stream.seek(0)
    except (OSError, EOFError) as error:
        raise FileProblem(file_name, f"cannot be read ({error})") from error
    columns = [name.strip().strip('"') for name in header.strip().split(",")]
    if is_discharge_header(columns):
        return read_discharge(
            stream, file_name=file_name, field_limit=limits.max_bytes, diagnoses=diagnoses
        )
    return read_csv(stream, file_name=file_name, field_limit=limits.max_bytes)
