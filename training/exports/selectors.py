"""Reads for the export pages: the file of a finished snapshot a download opens."""

from __future__ import annotations

from pathlib import Path

from training.exports.files import CHECKSUMS_FILE
from training.models import ExportSnapshot


class ExportFileMissing(LookupError):
    """The snapshot lists no such file, or storage no longer holds it."""


def export_file(snapshot: ExportSnapshot, name: str) -> Path:
    """The path of file ``name`` of a finished ``snapshot`` on disk.

    Raises ExportFileMissing when the snapshot does not list ``name`` or the
    file is gone from storage.
    """
    # Only the files the snapshot lists: the name never reaches the disk
    # unchecked, so no path can lead out of the folder.
    if name not in snapshot.files and name != CHECKSUMS_FILE:
        raise ExportFileMissing("No such file in this export.")
    if snapshot.path is None or not (snapshot.path / name).is_file():
        raise ExportFileMissing("The export's file is missing from storage.")
    return snapshot.path / name
