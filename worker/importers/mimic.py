"""The MIMIC-IV note module: ``discharge.csv[.gz]`` and ``diagnoses_icd``.

Diagnoses are keyed by admission (``hadm_id``); a note takes the ICD-10
diagnoses of its admission as reference codes. ICD-9 rows are counted and
skipped: the desk codes ICD-10-CM only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import IO, Protocol

from worker.importers.csv_notes import csv_rows
from worker.importers.records import IncomingNote, RowProblem

DISCHARGE_COLUMNS = ("note_id", "hadm_id", "text")
DIAGNOSIS_COLUMNS = ("hadm_id", "icd_code", "icd_version")
METADATA_COLUMNS = ("subject_id", "hadm_id", "note_type", "note_seq", "charttime")
LOOKUP_CHUNK = 1000


@dataclass(frozen=True)
class Diagnoses:
    icd10: tuple[str, ...] = ()
    icd9: int = 0


class DiagnosisLookup(Protocol):
    def for_admissions(self, hadm_ids: list[str]) -> dict[str, Diagnoses]: ...


def is_discharge_header(header: list[str]) -> bool:
    return all(column in header for column in DISCHARGE_COLUMNS)


def read_discharge(
    stream: IO[bytes], *, file_name: str, field_limit: int, diagnoses: DiagnosisLookup | None
) -> Iterator[IncomingNote | RowProblem]:
    rows = csv_rows(
        stream, file_name=file_name, field_limit=field_limit, required=DISCHARGE_COLUMNS
    )
    # Diagnoses are looked up a chunk of notes at a time: one query per chunk
    # instead of per note, and never more than a chunk held here.
    while chunk := list(islice(rows, LOOKUP_CHUNK)):
        hadm_ids = [row["hadm_id"] for _, row in chunk if not isinstance(row, RowProblem)]
        found = diagnoses.for_admissions(hadm_ids) if diagnoses else {}
        for number, row in chunk:
            if isinstance(row, RowProblem):
                yield row
                continue
            admitted = found.get(row["hadm_id"], Diagnoses())
            metadata: dict[str, object] = {
                key: row[key] for key in METADATA_COLUMNS if row.get(key)
            }
            yield IncomingNote(
                file_name,
                number,
                row["note_id"].strip() or None,
                row["text"],
                admitted.icd10,
                metadata,
                admitted.icd9,
            )


def read_diagnoses(
    stream: IO[bytes], *, file_name: str
) -> Iterator[tuple[str, str, int] | RowProblem]:
    """(hadm_id, code, version) per row, or a RowProblem naming the bad field."""
    rows = csv_rows(stream, file_name=file_name, field_limit=1024, required=DIAGNOSIS_COLUMNS)
    for number, row in rows:
        if isinstance(row, RowProblem):
            yield row
        elif not row["hadm_id"].strip():
            yield RowProblem(file_name, number, "hadm_id", "is empty")
        elif row["icd_version"].strip() not in {"9", "10"}:
            reason = f"is {row['icd_version']!r}; expected 9 or 10"
            yield RowProblem(file_name, number, "icd_version", reason)
        else:
            version = int(row["icd_version"])
            yield row["hadm_id"].strip(), row["icd_code"].strip(), version
