"""Uploaded files kept on disk until a worker has imported them."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile


def upload_folder() -> Path:
    folder = Path(settings.STORAGE_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def upload_file_keep(upload: UploadedFile) -> Path:
    """Copy the upload to the shared storage folder, a chunk at a time."""
    # The user's file name is kept only as a suffix (it decides the reader);
    # the random prefix keeps two uploads of notes.csv apart and keeps paths
    # out of the user's hands.
    name = Path(upload.name or "upload").name
    path = upload_folder() / f"{uuid.uuid4().hex}-{name}"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path
