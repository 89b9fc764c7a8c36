"""MIMIC-IV diagnoses held in a temporary table for the length of an import.

``diagnoses_icd`` has millions of rows; copying them into Postgres (COPY)
and asking for a chunk of admissions at a time keeps the worker's memory
flat however large the file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import IO

from django.db import connection

from worker.importers.mimic import Diagnoses, read_diagnoses
from worker.importers.records import RowProblem


class DiagnosisTable:
    """A temporary table of (hadm_id, icd_code, icd_version), dropped on ``close``."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def load(
        cls,
        stream: IO[bytes],
        *,
        file_name: str,
        table: str,
        on_problem: Callable[[RowProblem], None],
    ) -> DiagnosisTable:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {table} (position bigint GENERATED ALWAYS AS IDENTITY,"
                " hadm_id text, icd_code text, icd_version int)"
            )
            with cursor.copy(f"COPY {table} (hadm_id, icd_code, icd_version) FROM STDIN") as copy:
                for row in read_diagnoses(stream, file_name=file_name):
                    if isinstance(row, RowProblem):
                        on_problem(row)
                    else:
                        copy.write_row(row)
            cursor.execute(f"CREATE INDEX ON {table} (hadm_id)")
            cursor.execute(f"ANALYZE {table}")
        return cls(table)

    def for_admissions(self, hadm_ids: list[str]) -> dict[str, Diagnoses]:
        icd10: dict[str, list[str]] = defaultdict(list)
        icd9: dict[str, int] = defaultdict(int)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT hadm_id, icd_code, icd_version FROM {self.name} "
                "WHERE hadm_id = ANY(%s) ORDER BY position",
                [hadm_ids],
            )
            for hadm_id, code, version in cursor.fetchall():
                if version == 10:
                    icd10[hadm_id].append(code)
                else:
                    icd9[hadm_id] += 1
        admissions = set(icd10) | set(icd9)
        return {hadm_id: Diagnoses(tuple(icd10[hadm_id]), icd9[hadm_id]) for hadm_id in admissions}

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
