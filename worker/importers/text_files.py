"""Plain ``.txt`` notes, alone or in a ``.zip``; the file name is the id."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO

from worker.importers.records import FileProblem, IncomingNote, RowProblem


def read_text_file(
    stream: IO[bytes], *, file_name: str, byte_limit: int
) -> Iterator[IncomingNote | RowProblem]:
    yield _note(stream, file_name, file_name, 1, byte_limit)


def read_zip(
    stream: IO[bytes], *, file_name: str, byte_limit: int
) -> Iterator[IncomingNote | RowProblem]:
    """One note per ``.txt`` member; the row number is the member's position."""
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as error:
        raise FileProblem(file_name, f"is not a readable zip archive ({error})") from error
    with archive:
        members = [info for info in archive.infolist() if _is_content(info)]
        for number, info in enumerate(members, start=1):
            label = f"{file_name}/{info.filename}"
            if not info.filename.lower().endswith(".txt"):
                reason = "is not a .txt file; a zip holds one .txt file per note"
                yield RowProblem(label, number, "file", reason)
                continue
            with archive.open(info) as member:
                yield _note(member, info.filename, label, number, byte_limit)


def _is_content(info: zipfile.ZipInfo) -> bool:
    # Folders and the resource forks that macOS adds are not notes.
    name = PurePosixPath(info.filename)
    return not info.is_dir() and "__MACOSX" not in name.parts and not name.name.startswith(".")


def _note(
    stream: IO[bytes], member_name: str, label: str, number: int, byte_limit: int
) -> IncomingNote | RowProblem:
    external_id = PurePosixPath(member_name).stem.strip() or None
    raw = stream.read(byte_limit + 1)
    if len(raw) > byte_limit:
        reason = f"is over the size limit of {byte_limit:,} bytes"
        return RowProblem(label, number, "text", reason, external_id or "")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        reason = f"is not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})"
        return RowProblem(label, number, "text", reason, external_id or "")
    return IncomingNote(label, number, external_id, text)
