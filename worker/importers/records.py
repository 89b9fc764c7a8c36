"""What a reader yields."""

from __future__ import annotations

from dataclasses import dataclass, field


class FileProblem(Exception):
    """The file cannot be read at all (wrong type, corrupt archive, no header)."""

    def __init__(self, file_name: str, message: str) -> None:
        super().__init__(f"{file_name}: {message}")
        self.file_name = file_name
        self.message = message


@dataclass(frozen=True)
class IncomingNote:
    """A row as read, not yet checked; ``None`` means the field was absent."""

    file_name: str
    row_number: int
    external_id: str | None
    text: str | None
    codes: tuple[str, ...] = ()
    metadata: dict[str, object] = field(default_factory=dict)
    # MIMIC-IV diagnoses in ICD-9: counted for the summary, never imported.
    icd9_skipped: int = 0


@dataclass(frozen=True)
class RowProblem:
    """A row that cannot become a note, named by file, row and field."""

    file_name: str
    row_number: int
    field: str
    reason: str
    external_id: str = ""

    def __str__(self) -> str:
        return f"{self.file_name}, row {self.row_number}, {self.field}: {self.reason}"
