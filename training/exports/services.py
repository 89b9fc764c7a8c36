"""Writes of export snapshots: create one (and queue it), write its files.

``export_snapshot_create`` checks the kind and the filters, stores the
snapshot as queued and enqueues its task on the ``default`` queue when the
transaction commits. ``export_snapshot_write`` is what the task runs: it
writes every file into a fresh temporary folder next to the final one and
renames the folder into place only when all is written, so a failed export
leaves no file behind, only its error on the snapshot.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from coding_app.accounts.roles import Role, user_has_role
from coding_app.audit.kinds import CoreAuditKind
from coding_app.audit.services import audit
from coding_app.models import CodeRelease, User
from training.events import TrainingAuditKind
from training.exports.files import FileDigest, checksums_write
from training.exports.filters import ExportFilterError, filters_check_kind, filters_parse
from training.exports.writers import ExportEmpty, ExportWritten, export_files_write
from training.models import ExportSnapshot

logger = logging.getLogger(__name__)


class ExportKindError(ValueError):
    """An export kind this desk does not make."""


def exports_root() -> Path:
    """Where snapshot folders live: ``STORAGE_DIR/exports``."""
    root = Path(settings.STORAGE_DIR) / "exports"
    root.mkdir(parents=True, exist_ok=True)
    return root


def export_snapshot_create(
    *, kind: str, filters: Mapping[str, Any] | None, created_by: User
) -> ExportSnapshot:
    """A queued snapshot; its file is written by a worker after commit."""
    if not user_has_role(created_by, Role.ADMIN):
        raise PermissionDenied("Only admins create exports.")
    if kind not in ExportSnapshot.Kind.values:
        known = ", ".join(ExportSnapshot.Kind.values)
        raise ExportKindError(f"kind: {kind!r} is not an export kind; use one of {known}")
    parsed = filters_parse(filters)
    filters_check_kind(kind, parsed)
    from training.exports.tasks import export_snapshot_write_task

    with transaction.atomic():
        snapshot = ExportSnapshot.objects.create(
            kind=kind, filters=parsed.as_json(), created_by=created_by
        )
        audit(
            TrainingAuditKind.EXPORT_CREATED,
            actor=created_by,
            snapshot_id=snapshot.pk,
            export_kind=kind,
            filters=snapshot.filters,
        )
        pk = snapshot.pk
        transaction.on_commit(lambda: export_snapshot_write_task.delay(pk))
    return snapshot


def export_download_record(*, snapshot: ExportSnapshot, name: str, by: User) -> None:
    """Write to the audit trail that ``by`` downloaded file ``name`` of ``snapshot``."""
    audit(
        CoreAuditKind.EXPORT_DOWNLOADED,
        actor=by,
        snapshot_id=snapshot.pk,
        export_kind=snapshot.kind,
        file=name,
        sha256=snapshot.files.get(name, {}).get("sha256", snapshot.sha256),
    )


def export_snapshot_write(*, snapshot_id: int) -> ExportSnapshot:
    """Write the snapshot's files; a snapshot already started is left alone."""
    snapshot = _claim(snapshot_id)
    if snapshot is None:
        return ExportSnapshot.objects.get(pk=snapshot_id)
    root = exports_root()
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{snapshot.pk}-", dir=root))
    try:
        filters = filters_parse(snapshot.filters)
        filters_check_kind(snapshot.kind, filters)
        release = CodeRelease.objects.filter(is_active=True).first()
        written = export_files_write(
            kind=snapshot.kind, filters=filters, release=release, folder=work
        )
        digest = checksums_write(work, written.files)
        # A random part keeps two databases sharing one storage folder (a
        # test run beside the desk, say) from ever writing the same folder.
        final = root / f"{snapshot.pk}-{snapshot.kind}-{secrets.token_hex(4)}"
        os.replace(work, final)
    except Exception as error:
        shutil.rmtree(work, ignore_errors=True)
        return _fail(snapshot_id, error)
    return _finish(snapshot_id, final, written, digest, release)


def _claim(snapshot_id: int) -> ExportSnapshot | None:
    with transaction.atomic():
        snapshot = ExportSnapshot.objects.select_for_update().get(pk=snapshot_id)
        if snapshot.status != ExportSnapshot.Status.QUEUED:
            return None
        snapshot.status = ExportSnapshot.Status.RUNNING
        snapshot.started_at = timezone.now()
        snapshot.save(update_fields=["status", "started_at"])
        return snapshot


def _fail(snapshot_id: int, error: Exception) -> ExportSnapshot:
    expected = isinstance(error, ExportFilterError | ExportEmpty)
    if not expected:
        logger.exception("export %s failed", snapshot_id)
    message = str(error) if expected else f"{type(error).__name__}: {error}"
    ExportSnapshot.objects.filter(pk=snapshot_id).update(
        status=ExportSnapshot.Status.FAILED, error=message[:2000], finished_at=timezone.now()
    )
    return ExportSnapshot.objects.get(pk=snapshot_id)


def _finish(
    snapshot_id: int,
    folder: Path,
    written: ExportWritten,
    digest: str,
    release: CodeRelease | None,
) -> ExportSnapshot:
    files: dict[str, FileDigest] = written.files
    ExportSnapshot.objects.filter(pk=snapshot_id).update(
        status=ExportSnapshot.Status.DONE,
        error="",
        code_release=release,
        row_counts=written.row_counts,
        decision_count=written.decision_count,
        note_count=written.note_count,
        files={name: files[name].as_json() for name in sorted(files)},
        directory=str(folder.relative_to(Path(settings.STORAGE_DIR))),
        sha256=digest,
        finished_at=timezone.now(),
    )
    return ExportSnapshot.objects.get(pk=snapshot_id)
