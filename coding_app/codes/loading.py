"""Write a release into the ``Code`` table: one transaction, only the changes.

Loading compares the release with what the table already holds for a release
of that name and inserts, updates and deletes only the difference, so a second
load of the same files writes nothing at all. The release becomes the active
one in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import ProtectedError
from psycopg.types.json import Jsonb

from coding_app.codes.hierarchy import Hierarchy
from coding_app.codes.models import ENTRY_FIELDS, Code, CodeRelease, entry_values
from coding_app.codes.release import Release, ReleaseError
from coding_app.codes.search import search_order

# Everything a release determines about a row ("code" first: it is the key).
STORED_FIELDS = (*ENTRY_FIELDS, "search_order")


@dataclass(frozen=True)
class LoadReport:
    release: str
    total: int
    added: int
    changed: int
    removed: int
    activated: bool

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.activated)


@transaction.atomic
def code_release_load(*, release: Release) -> LoadReport:
    """Make the table hold exactly ``release`` and make it the active release."""
    record, created = CodeRelease.objects.select_for_update().get_or_create(
        name=release.name, defaults={"checksum": release.checksum}
    )
    existing = {
        row["code"]: row
        for row in Code.objects.filter(release=record).values("id", *STORED_FIELDS).iterator()
    }
    wanted = _wanted_values(release)
    added = [values for code, values in wanted.items() if code not in existing]
    changed = [
        {**values, "id": existing[code]["id"]}
        for code, values in wanted.items()
        if code in existing and _differs(existing[code], values)
    ]
    removed = [code for code in existing if code not in wanted]
    _write_rows(record, added, changed)
    _delete(record, removed)
    activated = _activate(record)
    if added or changed or removed:
        # Fresh planner statistics, or the first searches after a load scan
        # the release index instead of the text index.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Code._meta.db_table}")
    if created or record.checksum != release.checksum or record.code_count != len(wanted):
        record.checksum, record.code_count = release.checksum, len(wanted)
        record.save(update_fields=["checksum", "code_count", "loaded_at"])
    return LoadReport(release.name, len(wanted), len(added), len(changed), len(removed), activated)


def _wanted_values(release: Release) -> dict[str, dict[str, Any]]:
    """Each code's column values, keyed by code."""
    hierarchy = Hierarchy(release.entries)
    return {
        entry.code: {**entry_values(entry), "search_order": search_order(entry, hierarchy)}
        for entry in release.entries
    }


def _differs(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return any(stored[name] != wanted[name] for name in STORED_FIELDS)


def _write_rows(
    record: CodeRelease, added: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> None:
    """Insert ``added`` and update ``changed`` (which carry their ids) in bulk.

    Rows go to a temporary table by COPY and from there into the table in
    one INSERT and one UPDATE: a whole release in a few seconds, where an
    UPDATE per row or Django's CASE-based bulk_update takes many minutes.
    """
    if not added and not changed:
        return
    table = Code._meta.db_table
    columns = ", ".join(STORED_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE code_rows ON COMMIT DROP AS "
            f"SELECT id, {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY code_rows (id, {columns}) FROM STDIN") as copy:
            for values in [*added, *changed]:
                copy.write_row([values.get("id"), *map(_column_value, _stored(values))])
        cursor.execute(
            f"INSERT INTO {table} (release_id, {columns}) "
            f"SELECT %s, {columns} FROM code_rows WHERE id IS NULL",
            [record.pk],
        )
        assignments = ", ".join(f"{name} = r.{name}" for name in STORED_FIELDS[1:])
        cursor.execute(f"UPDATE {table} c SET {assignments} FROM code_rows r WHERE c.id = r.id")
        cursor.execute("DROP TABLE code_rows")


def _stored(values: dict[str, Any]) -> list[Any]:
    return [values[name] for name in STORED_FIELDS]


def _column_value(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, list | dict) else value


def _delete(record: CodeRelease, codes: list[str]) -> None:
    if not codes:
        return
    try:
        Code.objects.filter(release=record, code__in=codes).delete()
    except ProtectedError:
        raise ReleaseError(
            f"{len(codes)} codes of {record.name} are gone from the new files but are still "
            "used by suggestions or decisions; load the new files under a new release name "
            "(--name) instead."
        ) from None


def _activate(record: CodeRelease) -> bool:
    """Make ``record`` the one active release; True when that is a change."""
    if record.is_active:
        return False
    CodeRelease.objects.filter(is_active=True).update(is_active=False)
    record.is_active = True
    record.save(update_fields=["is_active", "loaded_at"])
    return True
